//! Afacturar (Colombia, DIAN RADIAN events): its response bodies and error format.

pub mod body;
pub mod php_validator;
