//! Sovos Mexico's domain (Reachcore): the account behind an API key, months, balances and
//! the consumption report's figures.

pub mod ledger;
