//! Sovos's `errors[{Code, Message}]` format and its reports (CSV; PDF with the `pdf`
//! feature).

pub mod errors;
pub mod report_csv;
#[cfg(feature = "pdf")]
pub mod report_pdf;
pub mod saldos;
