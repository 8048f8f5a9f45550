//! Contract tests: the fixtures against their schemas, every documented rule of the request
//! payloads, the providers' error formats (Afacturar's PHP validator, Sovos' error codes) and
//! property tests over generated payloads.

mod budget;
mod fixtures;
mod php_format;
mod php_oracle;
mod properties;
mod rules;
mod sovos;
mod support;
