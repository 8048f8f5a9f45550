//! Afacturar's HTTP errors: the stock 401, the rows of seed 003's error table, and the
//! refusals of a body that could not be read.

use serde_json::Value;

use super::body::{http_error, table_estado, unauthenticated};

/// An Afacturar error answered with `{codigo_error, descripcion_error}` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfacturarError {
    /// A missing or unknown Bearer token: `Unauthenticated.`.
    Unauthenticated,
    /// A row of the error table (404, 405, 415, 429, 500 …), worded as its "Estado" column.
    Table(u16),
    /// The body did not arrive in time (408; not in the table, worded after it).
    RequestTimeout,
    /// The body is over the limit (413; not in the table, worded after it).
    PayloadTooLarge,
}

impl AfacturarError {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            AfacturarError::Unauthenticated => 401,
            AfacturarError::Table(codigo) => codigo,
            AfacturarError::RequestTimeout => 408,
            AfacturarError::PayloadTooLarge => 413,
        }
    }

    /// The body.
    pub fn body(self) -> Value {
        match self {
            AfacturarError::Unauthenticated => unauthenticated(),
            AfacturarError::Table(codigo) => http_error(codigo, table_estado(codigo)),
            AfacturarError::RequestTimeout => http_error(408, "Tiempo de espera agotado"),
            AfacturarError::PayloadTooLarge => http_error(413, "Entidad demasiado grande"),
        }
    }
}
