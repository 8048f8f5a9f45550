//! Afacturar (Colombia, DIAN RADIAN events): response bodies, the PHP validator's error
//! format, DIAN's event rules, the event ledger and the HTTP handlers.

pub mod body;
pub mod cude;
pub mod events;
pub mod handlers;
pub mod ledger;
pub mod php_validator;
