//! Where the state lives: in memory (the default), or in SQLite under `--data-dir`.
//!
//! The ledgers keep their working copy in memory and write every change through this store
//! before they acknowledge it, so a handler never knows which one is in use, and a restart —
//! or a `kill -9` — loses nothing that a client was told had happened.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

pub use crate::domain::afacturar::history::EventRows;
use crate::domain::afacturar::history::HistoricoEvento;
use crate::domain::sovos::ledger::Account;
use crate::domain::storage::{EventStore, StorageError};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "einvoice-mock.sqlite3";

/// The lock file inside the data directory: locked (`flock`) by the process that uses the
/// directory, and holding its pid.
pub const LOCK_FILE: &str = "einvoice-mock.lock";

/// A store that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}")]
    Directory {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Another process uses the data directory.
    #[error("the data directory {path} is in use by process {holder} (its lock file is {lock})")]
    Locked {
        /// The directory.
        path: String,
        /// The lock file.
        lock: String,
        /// The pid written in the lock file (`unknown` when it cannot be read).
        holder: String,
    },
    /// The lock file cannot be opened or locked.
    #[error("cannot lock the data directory with {path}")]
    Lock {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored account cannot be read back.
    #[error("stored account is unreadable")]
    Account(#[from] serde_json::Error),
}

/// The persisted state but the events, as loaded at start-up; the events are streamed into the
/// ledger by [`Store::stream_events`] instead of being collected (issue 15: 1.15 M events took
/// 782 MB restored against 184 MB built live).
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Next `identificacion_evento` number per prefix.
    pub sequences: Vec<(String, u64)>,
    /// Sovos accounts with their keys.
    pub accounts: Vec<(Option<String>, Account)>,
    /// [`seed_fingerprint`] of the seed this state grew from (`1` for a data dir written
    /// before fingerprints were kept).
    pub seeded_from: String,
}

/// A digest of a seed (events, sequences, accounts): tells whether a data dir grew from the
/// seed the configuration gives now.
pub fn seed_fingerprint(
    events: &[(String, HistoricoEvento)],
    sequences: &[(&str, u64)],
    accounts: &[(Option<String>, Account)],
) -> Result<String, StoreError> {
    let text = serde_json::to_string(&(events, sequences, accounts))?;
    Ok(crate::domain::afacturar::cude::sha384_hex(&text))
}

/// The state's backing store.
#[derive(Debug)]
pub struct Store {
    database: Option<(PathBuf, Mutex<Connection>)>,
    /// The locked lock file: the lock lasts as long as the store.
    _lock: Option<std::fs::File>,
}

impl Store {
    /// Nothing on disk.
    pub fn memory() -> Store {
        Store {
            database: None,
            _lock: None,
        }
    }

    /// SQLite in `dir` (created if needed), in WAL mode.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
        let lock = lock_dir(dir)?;
        let path = dir.join(DATABASE_FILE);
        let connection = Connection::open(&path)?;
        // WAL with synchronous=NORMAL: a committed transaction is in the log before the call
        // returns, which survives the process being killed (not a power cut).
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS events (
                 cufe TEXT NOT NULL,
                 numero INTEGER NOT NULL,
                 codigo TEXT NOT NULL,
                 descripcion TEXT NOT NULL,
                 fecha TEXT NOT NULL,
                 cude TEXT NOT NULL,
                 identificacion_evento TEXT NOT NULL,
                 emisor_nombre TEXT NOT NULL,
                 emisor_identificacion TEXT NOT NULL,
                 receptor_nombre TEXT NOT NULL,
                 receptor_identificacion TEXT NOT NULL,
                 PRIMARY KEY (cufe, numero),
                 UNIQUE (cufe, codigo)
             );
             CREATE TABLE IF NOT EXISTS sequences (prefix TEXT PRIMARY KEY, next INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS accounts (position INTEGER PRIMARY KEY, api_key TEXT, account TEXT NOT NULL);",
        )?;
        Ok(Store {
            database: Some((path, Mutex::new(connection))),
            _lock: Some(lock),
        })
    }

    /// The database file, when on disk.
    pub fn path(&self) -> Option<&Path> {
        self.database.as_ref().map(|(path, _)| path.as_path())
    }

    fn connection(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        self.database
            .as_ref()
            .map(|(_, c)| c.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// What was persisted, or `None` when nothing was ever seeded (or in memory).
    pub fn load(&self) -> Result<Option<Snapshot>, StoreError> {
        let Some(connection) = self.connection() else {
            return Ok(None);
        };
        let seeded: Option<String> = connection
            .query_row("SELECT value FROM meta WHERE key = 'seeded'", [], |row| {
                row.get(0)
            })
            .optional()?;
        let Some(seeded_from) = seeded else {
            return Ok(None);
        };
        let mut snapshot = Snapshot {
            seeded_from,
            ..Snapshot::default()
        };
        let mut statement = connection.prepare("SELECT prefix, next FROM sequences")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (prefix, next) = row?;
            snapshot
                .sequences
                .push((prefix, u64::try_from(next).unwrap_or_default()));
        }
        let mut statement =
            connection.prepare("SELECT api_key, account FROM accounts ORDER BY position")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, Option<String>>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (key, json) = row?;
            snapshot.accounts.push((key, serde_json::from_str(&json)?));
        }
        Ok(Some(snapshot))
    }

    /// Runs `restore` on the stored events, in order, read one row at a time from SQLite: what
    /// it keeps is all that is held in memory. A row that cannot be read ends the stream, and
    /// its error is returned once `restore` is done.
    pub fn stream_events<R>(
        &self,
        restore: impl FnOnce(&mut dyn Iterator<Item = (String, HistoricoEvento)>) -> R,
    ) -> Result<R, StoreError> {
        let Some(connection) = self.connection() else {
            return Ok(restore(&mut std::iter::empty()));
        };
        let mut statement = connection.prepare(
            "SELECT cufe, numero, codigo, descripcion, fecha, cude, identificacion_evento,
                    emisor_nombre, emisor_identificacion, receptor_nombre, receptor_identificacion
             FROM events ORDER BY rowid",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                HistoricoEvento {
                    numero: row.get::<_, i64>(1)?.to_string(),
                    codigo: row.get(2)?,
                    descripcion: row.get(3)?,
                    fecha: row.get(4)?,
                    cude: row.get(5)?,
                    identificacion_evento: row.get(6)?,
                    emisor_nombre: row.get(7)?,
                    emisor_identificacion: row.get(8)?,
                    receptor_nombre: row.get(9)?,
                    receptor_identificacion: row.get(10)?,
                },
            ))
        })?;
        let mut failure = None;
        let mut stream = rows.map_while(|row| row.map_err(|e| failure = Some(e)).ok());
        let restored = restore(&mut stream);
        drop(stream);
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(restored),
        }
    }

    /// Replaces everything with a fresh seed (first start, and `POST /__admin/reset`).
    pub fn reseed(
        &self,
        events: &[(String, HistoricoEvento)],
        sequences: &[(&str, u64)],
        accounts: &[(Option<String>, Account)],
    ) -> Result<(), StoreError> {
        let Some(mut connection) = self.connection() else {
            return Ok(());
        };
        let fingerprint = seed_fingerprint(events, sequences, accounts)?;
        let transaction = connection.transaction()?;
        transaction.execute_batch(
            "DELETE FROM events; DELETE FROM sequences; DELETE FROM accounts; DELETE FROM meta;",
        )?;
        for (cufe, row) in events {
            insert_event(&transaction, cufe, row)?;
        }
        for (prefix, next) in sequences {
            save_sequence(&transaction, prefix, *next)?;
        }
        for (position, (key, account)) in accounts.iter().enumerate() {
            transaction.execute(
                "INSERT INTO accounts (position, api_key, account) VALUES (?1, ?2, ?3)",
                params![
                    i64::try_from(position).unwrap_or(i64::MAX),
                    key,
                    serde_json::to_string(account)?
                ],
            )?;
        }
        transaction.execute(
            "INSERT INTO meta (key, value) VALUES ('seeded', ?1)",
            [&fingerprint],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// Persists a registered event and the sequence it consumed, in one transaction.
    pub fn append_event(
        &self,
        cufe: &str,
        row: &HistoricoEvento,
        sequence: Option<(&str, u64)>,
    ) -> Result<(), StoreError> {
        let Some(mut connection) = self.connection() else {
            return Ok(());
        };
        let transaction = connection.transaction()?;
        insert_event(&transaction, cufe, row)?;
        if let Some((prefix, next)) = sequence {
            save_sequence(&transaction, prefix, next)?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Persists a consumed `identificacion_evento` number (a rejected attempt consumes one too).
    pub fn save_sequence(&self, prefix: &str, next: u64) -> Result<(), StoreError> {
        match self.connection() {
            Some(connection) => save_sequence(&connection, prefix, next),
            None => Ok(()),
        }
    }
}

impl EventStore for Store {
    fn append_event(
        &self,
        cufe: &str,
        row: &HistoricoEvento,
        sequence: Option<(&str, u64)>,
    ) -> Result<(), StorageError> {
        Store::append_event(self, cufe, row, sequence).map_err(|e| StorageError(Box::new(e)))
    }

    fn save_sequence(&self, prefix: &str, next: u64) -> Result<(), StorageError> {
        Store::save_sequence(self, prefix, next).map_err(|e| StorageError(Box::new(e)))
    }
}

fn insert_event(
    connection: &Connection,
    cufe: &str,
    row: &HistoricoEvento,
) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO events (cufe, numero, codigo, descripcion, fecha, cude, identificacion_evento,
                             emisor_nombre, emisor_identificacion, receptor_nombre, receptor_identificacion)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            cufe,
            row.numero.parse::<i64>().unwrap_or_default(),
            row.codigo,
            row.descripcion,
            row.fecha,
            row.cude,
            row.identificacion_evento,
            row.emisor_nombre,
            row.emisor_identificacion,
            row.receptor_nombre,
            row.receptor_identificacion
        ],
    )?;
    Ok(())
}

fn save_sequence(connection: &Connection, prefix: &str, next: u64) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO sequences (prefix, next) VALUES (?1, ?2)
         ON CONFLICT(prefix) DO UPDATE SET next = excluded.next",
        params![prefix, i64::try_from(next).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

/// Locks `dir` for this process: an exclusive `flock` on its lock file, which then holds this
/// process's pid. A second process on the same directory gets [`StoreError::Locked`] naming
/// the first one (issue 15: two `serve` on one data dir split its state).
fn lock_dir(dir: &Path) -> Result<std::fs::File, StoreError> {
    use std::io::{Read as _, Seek as _, Write as _};
    let path = dir.join(LOCK_FILE);
    let lock_error = |source| StoreError::Lock {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(lock_error)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(StoreError::Locked {
                path: dir.display().to_string(),
                lock: path.display().to_string(),
                holder: if holder.is_empty() {
                    "unknown".to_owned()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(lock_error(error)),
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .and_then(|()| file.flush())
        .map_err(lock_error)?;
    Ok(file)
}
