//! # einvoice-mock
//!
//! Contract testing for e-invoicing provider APIs: Afacturar (Colombia, DIAN RADIAN events)
//! and Sovos Mexico (Reachcore stamping balance).
//!
//! The API is flat: [`validate`] and the [`Operation`] table, the providers' words
//! ([`Violations::afacturar_resultado`], [`SovosError`]), the fake ([`FakeProvider`], [`app`],
//! [`Config`]) and the wiremock matchers ([`conforms_to`], [`breaks_contract`]). The layers
//! behind it are described in `ARCHITECTURE.md`.
#![cfg_attr(feature = "server", doc = include_str!("../docs/crate-tutorial.md"))]
#![cfg_attr(
    not(feature = "server"),
    doc = "\n\nBuilt without the `server` feature: the validator alone ([`validate`], \
           [`Violations::afacturar_resultado`], [`SovosError`])."
)]
#![warn(missing_docs)]

// The layers are private; what a user needs is re-exported below, flat, in the style of
// wiremock-rs. `internals` keeps every layer reachable for this crate's own integration tests,
// benches and tools, hidden from the documentation and outside any compatibility promise.
mod contract;
mod domain;
#[cfg(feature = "fake")]
mod error_text;
mod openapi;
mod render;

#[cfg(feature = "fake")]
mod config;
#[cfg(feature = "fake")]
mod respond;
#[cfg(feature = "server")]
mod store;

#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[cfg(feature = "wiremock")]
mod mocks;
#[cfg(feature = "server")]
mod server;

// The validator: the operations, the contract and what it finds.
pub use contract::{
    parse_form, parse_form_bytes, validate, validation_steps, Contract, DocumentedStatus, Example,
    FormError, FormPayload, InstancePath, JsonKind, Operation, OperationSpec, PathSegment,
    Provider, SchemaError, Violation, ViolationKind, Violations, MAX_DOCUMENT_VALUES,
    MAX_REPORTED_VIOLATIONS, MAX_VALIDATION_STEPS, OPERATIONS,
};
// The providers' words: `Violations::afacturar_resultado` (a method), Sovos's documented errors,
// DIAN's event codes.
pub use domain::afacturar::events::EventCode;
pub use render::sovos::errors::SovosError;
// The OpenAPI 3.1 document of the operations.
pub use openapi::{document as openapi_document, render as openapi_json, OpenApiError};
// The fake provider, in-process or served.
#[cfg(feature = "server")]
pub use server::{app, AppState, Config, ConfigError, FakeProvider, Fault, ScenarioSpec};
// wiremock: matchers and responders that judge and answer by the contract.
#[cfg(feature = "wiremock")]
pub use mocks::{breaks_contract, conforms_to, ContractResponder, DocumentedResponse};

/// Every layer, for this crate's own tests, benches and tools: not part of the API.
#[doc(hidden)]
pub mod internals {
    #![allow(missing_docs)]
    pub mod contract {
        pub use crate::contract::*;
    }
    pub mod domain {
        pub use crate::domain::*;
    }
    pub mod openapi {
        pub use crate::openapi::*;
    }
    pub mod render {
        pub use crate::render::*;
    }
    #[cfg(feature = "fake")]
    pub mod config {
        pub use crate::config::*;
    }
    #[cfg(feature = "fake")]
    pub mod respond {
        pub use crate::respond::*;
    }
    #[cfg(feature = "wiremock")]
    pub mod mocks {
        pub use crate::mocks::*;
    }
    #[cfg(feature = "server")]
    pub mod server {
        pub use crate::server::*;
    }
    #[cfg(feature = "server")]
    pub mod store {
        pub use crate::store::*;
    }
}

/// The README's Rust examples, compiled (and run, unless marked `no_run`) as doctests, so that
/// what the README shows builds with the crate as it is.
#[cfg(all(doctest, feature = "cli", feature = "wiremock"))]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
