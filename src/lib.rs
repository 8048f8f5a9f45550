//! # einvoice-mock
//!
//! Contract testing for e-invoicing provider APIs: Afacturar (Colombia, DIAN RADIAN events)
//! and Sovos Mexico (Reachcore stamping balance).
//!
//! Layers, each importing only those before it (`tests/tidy.rs` keeps it so; see
//! `ARCHITECTURE.md`): [`contract`] → [`domain`] → [`render`] → `config`, `respond` (the
//! answer core) → the adapters `server`, `mocks`, `cli`.
#![cfg_attr(feature = "server", doc = include_str!("../docs/crate-tutorial.md"))]
#![cfg_attr(
    not(feature = "server"),
    doc = "\n\nBuilt without the `server` feature: the validator alone ([`validate`], \
           [`render`])."
)]

pub mod contract;
pub mod domain;
#[cfg(feature = "fake")]
mod error_text;
pub mod openapi;
pub mod render;

#[cfg(feature = "fake")]
pub mod config;
#[cfg(feature = "fake")]
pub mod respond;
#[cfg(feature = "server")]
pub mod store;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod logging;
#[cfg(feature = "wiremock")]
pub mod mocks;
#[cfg(feature = "server")]
pub mod server;

pub use contract::{
    parse_form, parse_form_bytes, validate, Contract, FormError, FormPayload, InstancePath,
    JsonKind, Operation, PathSegment, Provider, Violation, ViolationKind, Violations,
};
#[cfg(feature = "server")]
pub use server::{app, AppState, Config, FakeProvider, Fault, ScenarioSpec};
