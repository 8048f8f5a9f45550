//! The one integration test binary.

// A failing unwrap is a failing test: that is what tests are for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
mod docs;
mod mocks;
mod openapi;
mod server;
mod tidy;
