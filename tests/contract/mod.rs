//! Contract tests (owned by the contract helper).
