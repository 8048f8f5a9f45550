//! Each provider's words: its bodies and error formats, the PHP validator's wording of
//! violations (Afacturar), the CSV and PDF reports (Sovos). A provider's wire format lives in
//! its module here and nowhere else.

pub mod afacturar;
pub mod json;
pub mod sovos;
