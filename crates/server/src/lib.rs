//! The binary's library: configuration, HTTP routes, the dispatcher that turns stored updates
//! into effects, the outbound sender, and the CLI that wires them.
//!
//! Flow: Telegram → `routes::webhook` (or `polling`) stores the raw update in the inbox →
//! `dispatcher` claims it, `handle` decides in one transaction (user, dialog, outbox rows) →
//! `outbound` sends the outbox within Telegram's limits. Generation jobs queued by `handle` are
//! run by `generation` workers against FAL; `routes::fal_webhook` stores FAL's callbacks.

pub mod app;
mod check;
pub mod cli;
pub mod config;
mod dispatcher;
mod fal_keys;
mod fal_steps;
mod generation;
mod handle;
mod heartbeat;
mod imaging;
mod inbox_writer;
mod janitor;
mod job_loop;
mod lora;
mod metrics;
mod notify;
mod operator;
mod outbound;
mod packs;
mod polling;
mod prompt_jobs;
mod reconcile;
mod routes;
mod shutdown;
mod state;
mod style_admin;
pub mod telemetry;
mod training;
mod vacuum;

pub use app::Application;
pub use config::Config;
