//! # einvoice-mock
//!
//! Contract testing for e-invoicing provider APIs: Afacturar (Colombia, DIAN RADIAN events)
//! and Sovos Mexico (Reachcore stamping balance).
//!
//! ## Validate a payload before you send it
//!
//! ```
//! use einvoice_mock::{validate, Operation};
//! use serde_json::json;
//!
//! let violations = validate(Operation::Saldos, &json!({ "MesConsulta": "2019-11" }));
//! assert!(violations.is_valid());
//! ```
#![doc = include_str!("../docs/crate-tutorial.md")]

pub mod contract;
pub mod provider;

pub use contract::{
    parse_form, validate, Contract, FormError, FormPayload, InstancePath, JsonKind, Operation,
    PathSegment, Provider, Violation, ViolationKind, Violations,
};
