//! # einvoice-mock
//!
//! Contract testing for e-invoicing provider APIs: Afacturar (Colombia, DIAN RADIAN events)
//! and Sovos Mexico (Reachcore stamping balance).
#![doc = include_str!("../docs/crate-tutorial.md")]

pub mod cli;
pub mod contract;
mod error_text;
pub mod logging;
pub mod mocks;
pub mod openapi;
pub mod provider;
pub mod server;
pub mod store;

pub use contract::{
    parse_form, validate, Contract, FormError, FormPayload, InstancePath, JsonKind, Operation,
    PathSegment, Provider, Violation, ViolationKind, Violations,
};
pub use server::{app, AppState, Config, FakeProvider, Fault, ScenarioSpec};
