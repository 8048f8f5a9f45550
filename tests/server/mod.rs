//! The fake provider over real loopback HTTP, a file per topic; what several of them need is
//! in `support`.

mod admin;
mod admin_guard;
mod afacturar;
mod cli;
mod configuration;
mod connections;
mod coverage;
mod data_dir;
mod fuzz;
mod journal;
mod junit;
mod lifecycle;
mod proxy;
mod refusals_and_faults;
mod reliability;
mod secrets;
mod sovos;
mod support;
mod validation_budget;
mod webhooks;
mod wire;

pub use support::*;
