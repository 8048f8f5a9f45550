//! Sovos Mexico (Reachcore): its error format, the account ledger, the CSV and PDF reports
//! and the HTTP handlers.

pub mod errors;
pub mod handlers;
pub mod ledger;
pub mod report_csv;
pub mod report_pdf;
