//! Afacturar's bodies: success, semantic 400 (worded as justinrainbow/json-schema words it),
//! data 400, DIAN 15, history, 401 and the error table.

pub mod body;
pub mod errors;
pub mod php_validator;
