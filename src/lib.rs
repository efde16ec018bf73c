//! leaktrail: investigate customer-data leaks from logs.
//!
//! The pipeline is discover → read → parse → detect → correlate → report. This crate holds the
//! library; `src/main.rs` is a thin binary over [`cli::run`].

pub mod cli;
pub mod detect;
pub mod input;
pub mod parse;
pub mod report;
pub mod rules;
pub mod scan;
pub mod timeline;
