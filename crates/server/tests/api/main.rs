//! End-to-end tests: the real server on 127.0.0.1:0, a fake Bot API, SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report here

mod avatars;
mod credits;
mod dispatch;
mod fal;
mod gallery;
mod generation;
mod ingress;
mod outbound;
mod photo_prompt;
mod styles;
mod support;
mod training;
