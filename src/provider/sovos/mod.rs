//! Sovos Mexico (Reachcore): its error format.

pub mod errors;
