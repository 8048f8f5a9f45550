//! The providers' domain: DIAN's RADIAN events and their ordering rules, CUDE and NIT, the
//! event ledger; the Sovos account, its months and balances. No HTTP and no provider error
//! format: refusals are the domain's own types, which `render` words as each provider does.
//! Storage sits behind [`storage::EventStore`], implemented by `store`.

pub mod afacturar;
pub mod clock;
pub mod datetime_text;
pub mod sovos;
pub mod storage;
