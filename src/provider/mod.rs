//! The providers.

pub mod afacturar;
pub mod sovos;
