//! Where the ledgers write what they acknowledge: a trait the domain defines and `store`
//! implements (memory, or SQLite under `--data-dir`), so the domain never names a database.

use std::fmt;

use super::afacturar::history::HistoricoEvento;

/// A write the storage could not make; the event was therefore not acknowledged.
#[derive(Debug, thiserror::Error)]
#[error("the state could not be stored")]
pub struct StorageError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Durable storage of the event ledger. Every call returns only once the change is kept.
pub trait EventStore: fmt::Debug + Send + Sync {
    /// Persists a registered event and the `identificacion_evento` number it consumed, at once.
    fn append_event(
        &self,
        cufe: &str,
        row: &HistoricoEvento,
        sequence: Option<(&str, u64)>,
    ) -> Result<(), StorageError>;

    /// Persists a consumed `identificacion_evento` number (a rejected attempt consumes one too).
    fn save_sequence(&self, prefix: &str, next: u64) -> Result<(), StorageError>;
}

/// No storage beyond the ledger's own memory: what a ledger writes to until one is attached.
#[derive(Debug, Clone, Copy, Default)]
pub struct InMemory;

impl EventStore for InMemory {
    fn append_event(
        &self,
        _cufe: &str,
        _row: &HistoricoEvento,
        _sequence: Option<(&str, u64)>,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    fn save_sequence(&self, _prefix: &str, _next: u64) -> Result<(), StorageError> {
        Ok(())
    }
}
