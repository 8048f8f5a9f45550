//! The providers.

pub mod afacturar;
pub mod datetime_text;
pub mod sovos;
