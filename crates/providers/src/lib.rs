//! Clients for the outside world. Each is pointed at a configurable base URL, so tests run
//! the real client against a fake server on 127.0.0.1.

pub mod fal;
pub mod openai;
pub mod storage;
pub mod telegram;
