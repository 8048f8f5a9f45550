//! Afacturar's domain (Colombia, DIAN RADIAN): event codes and ordering rules, CUDE and NIT,
//! the history row and the ledger of events per CUFE.

pub mod cude;
pub mod events;
pub mod history;
pub mod ledger;
