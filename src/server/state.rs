//! The shared state behind every handler: configuration, clock, ids and the providers' data.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{NaiveDateTime, Utc};

use super::journal::Journal;
use super::listener::{ConnectionStats, Limits};
use super::scenarios::Scenarios;
use crate::config::{Config, ConfigError};
use crate::contract::Contract;
use crate::domain::afacturar::events::EventCode;
use crate::domain::afacturar::history::HistoricoEvento;
use crate::domain::afacturar::ledger::{EventLedger, EventParty, NewEvent, RecordError};
pub use crate::domain::clock::Clock;
use crate::domain::sovos::ledger::Account;
use crate::respond;
use crate::store::{seed_fingerprint, Snapshot, Store, StoreError};

/// The state of the fake provider. Cheap to clone: everything is behind one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    contract: &'static Contract,
    clock: Clock,
    last_uniqid_micros: AtomicU64,
    afacturar: Mutex<EventLedger>,
    sovos: Mutex<Vec<(Option<String>, Account)>>,
    scenarios: Mutex<Scenarios>,
    journal: Mutex<Journal>,
    rate_windows: Mutex<RateWindows>,
    store: Arc<Store>,
    connections: Arc<ConnectionStats>,
    /// Request bodies being read or answered, in KiB: one budget for every connection and
    /// stream, so that many partial bodies cannot hold more than it.
    bodies_in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Builds the state from a configuration: compiles the contract (once per process) and
    /// loads the seed data, checking seeded events against DIAN's ordering rules.
    pub fn new(config: Config) -> Result<AppState, ConfigError> {
        let contract = Contract::global();
        for entry in &config.sovos.accounts {
            entry
                .account
                .validate()
                .map_err(|e| ConfigError::Invalid(format!("sovos.accounts: {e}")))?;
        }
        let store = Arc::new(match &config.server.data_dir {
            Some(dir) => Store::open(dir).map_err(store_error)?,
            None => Store::memory(),
        });
        let stored = store.load().map_err(store_error)?;
        let (mut ledger, accounts) = match stored {
            Some(snapshot) => {
                // Row by row from SQLite into the ledger: nothing but the ledger grows.
                let ledger = store
                    .stream_events(|rows| {
                        EventLedger::restore(
                            config.afacturar.first_event_sequence,
                            rows,
                            &snapshot.sequences,
                        )
                    })
                    .map_err(store_error)?
                    .map_err(|e| ConfigError::Invalid(format!("server.data_dir: {e}")))?;
                report_restored(&config, &store, &snapshot, ledger.len())?;
                (ledger, snapshot.accounts)
            }
            None => {
                let (ledger, accounts) = (seed_ledger(&config)?, seed_accounts(&config));
                persist_seed(&store, &ledger, &accounts)?;
                (ledger, accounts)
            }
        };
        ledger.attach(store.clone());
        let journal = Journal::with_limits(
            config.server.journal_capacity(),
            config.server.journal_max_bytes(),
            config.server.journal_entry_max_bytes(),
        );
        let bodies_in_flight_kib = body_budget_bytes(config.server.body_limit()) / 1024;
        Ok(AppState {
            inner: Arc::new(Inner {
                clock: Clock::new(config.server.fixed_clock.map(|t| t.with_timezone(&Utc))),
                config,
                contract,
                last_uniqid_micros: AtomicU64::new(0),
                afacturar: Mutex::new(ledger),
                sovos: Mutex::new(accounts),
                scenarios: Mutex::new(Scenarios::default()),
                journal: Mutex::new(journal),
                rate_windows: Mutex::new(RateWindows::default()),
                store,
                connections: Arc::default(),
                bodies_in_flight: Arc::new(tokio::sync::Semaphore::new(bodies_in_flight_kib)),
            }),
        })
    }

    /// The limits of the accept loop, counting into [`AppState::connections`].
    pub(crate) fn connection_limits(&self) -> Limits {
        Limits {
            header_read_timeout: self.inner.config.server.read_timeout(),
            max_connections: self.inner.config.server.max_connections(),
            stats: Arc::clone(&self.inner.connections),
        }
    }

    /// The budget of request bodies in flight, in KiB ([`body_budget_bytes`]).
    pub(crate) fn bodies_in_flight(&self) -> Arc<tokio::sync::Semaphore> {
        Arc::clone(&self.inner.bodies_in_flight)
    }

    /// What the accept loop counts (open, refused, timed out) and where it listens.
    pub fn connections(&self) -> &ConnectionStats {
        &self.inner.connections
    }

    /// Where the state is persisted, if on disk.
    pub fn database(&self) -> Option<&std::path::Path> {
        self.inner.store.path()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The compiled contract.
    pub fn contract(&self) -> &'static Contract {
        self.inner.contract
    }

    /// The clock.
    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// The Afacturar events. Handlers hold the lock only for the bookkeeping itself.
    pub fn events(&self) -> MutexGuard<'_, EventLedger> {
        lock(&self.inner.afacturar)
    }

    /// The Sovos accounts with the key that reaches each (`None`: any key).
    pub fn accounts(&self) -> MutexGuard<'_, Vec<(Option<String>, Account)>> {
        lock(&self.inner.sovos)
    }

    /// Registers an event for `cufe` sent by `emisor_identificacion` now, under DIAN's ordering
    /// rules, as the real provider would after the matching request: the way to build histories
    /// with 031–034 from Rust tests. The receiver is the invoice's seller (configured invoice,
    /// or `afacturar.default_seller`).
    pub fn record_event(
        &self,
        cufe: &str,
        code: EventCode,
        emisor_identificacion: &str,
    ) -> Result<HistoricoEvento, RecordError> {
        respond::record_event(self, cufe, code, emisor_identificacion)
            .map(|recorded| recorded.event.row)
    }

    /// Runs `f` on the Sovos account that `api_key` reaches, under the lock: the handlers
    /// read an account without copying its ledger.
    pub fn with_account<R>(&self, api_key: &str, f: impl FnOnce(&Account) -> R) -> Option<R> {
        respond::with_account(self, api_key, f)
    }

    /// The armed scenarios.
    pub fn scenarios(&self) -> MutexGuard<'_, Scenarios> {
        lock(&self.inner.scenarios)
    }

    /// The request journal.
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        lock(&self.inner.journal)
    }

    /// Counts a request of `credential` against the rate limit (`server.rate_limit_per_minute`);
    /// `false` when it is over the limit. A sliding window of 60 s per credential (token or API
    /// key), as Afacturar's "120 transacciones por minuto" reads.
    pub fn admit(&self, credential: &str) -> bool {
        self.admit_or_retry_after(credential).is_ok()
    }

    /// [`AppState::admit`], and when over the limit how long until the window frees a slot
    /// (when its oldest request leaves the 60 s window): the 429's `Retry-After`.
    pub fn admit_or_retry_after(&self, credential: &str) -> Result<(), std::time::Duration> {
        let Some(limit) = self.inner.config.server.rate_limit_per_minute else {
            return Ok(());
        };
        lock(&self.inner.rate_windows).admit(credential, limit as usize, Instant::now())
    }

    /// How many credentials the rate limit keeps a window for now.
    pub fn rate_limit_windows(&self) -> usize {
        lock(&self.inner.rate_windows).windows.len()
    }

    /// Puts everything back as at start-up: the seed events and accounts, no scenario, an
    /// empty journal and coverage, fresh rate-limit windows.
    pub fn reset(&self) -> Result<(), ConfigError> {
        let mut ledger = seed_ledger(&self.inner.config)?;
        let accounts = seed_accounts(&self.inner.config);
        ledger.attach(self.inner.store.clone());
        {
            // The ledger's lock is held from the store's reseed to the swap: an event recorded
            // concurrently (it writes through the store under this lock) is either before both,
            // and wiped with everything else, or after both, and kept in both (issue 15).
            let mut events = self.events();
            let mut current = self.accounts();
            persist_seed(&self.inner.store, &ledger, &accounts)?;
            *events = ledger;
            *current = accounts;
        }
        self.scenarios().clear();
        self.journal().reset();
        lock(&self.inner.rate_windows).clear();
        Ok(())
    }

    /// A unique moment for PHP's `uniqid()`, in microseconds: the clock's, moved forward when
    /// needed so that two requests never share one (a frozen clock gives 1, 2, 3 … µs later).
    pub fn uniqid_micros(&self) -> u64 {
        let now = u64::try_from(self.clock().now().timestamp_micros()).unwrap_or_default();
        respond::next_uniqid(&self.inner.last_uniqid_micros, now)
    }

    /// `tiempo_ejecucion` of a request that started at `started`.
    pub fn tiempo_ejecucion(&self, started: Instant) -> f64 {
        self.inner
            .config
            .server
            .fixed_tiempo_ejecucion
            .unwrap_or_else(|| started.elapsed().as_secs_f64())
    }
}

impl respond::Context for AppState {
    fn config(&self) -> &Config {
        AppState::config(self)
    }

    fn clock(&self) -> Clock {
        AppState::clock(self)
    }

    fn uniqid_micros(&self) -> u64 {
        AppState::uniqid_micros(self)
    }

    fn tiempo_ejecucion(&self, started: Instant) -> f64 {
        AppState::tiempo_ejecucion(self, started)
    }
}

impl respond::ProviderState for AppState {
    fn events(&self) -> MutexGuard<'_, EventLedger> {
        AppState::events(self)
    }

    fn accounts(&self) -> MutexGuard<'_, Vec<(Option<String>, Account)>> {
        AppState::accounts(self)
    }
}

/// The rate limit's windows: per credential, the moments of its requests in the last minute.
/// A credential is keyed by its SHA-256 (32 bytes, whatever the token's length: the token itself
/// is never kept), and windows with nothing left in them are swept once a minute, so distinct
/// tokens cost at most a minute's worth of small entries (issue 15).
#[derive(Debug, Default)]
struct RateWindows {
    windows: HashMap<[u8; 32], VecDeque<Instant>>,
    swept: Option<Instant>,
}

impl RateWindows {
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

    fn admit(
        &mut self,
        credential: &str,
        limit: usize,
        now: Instant,
    ) -> Result<(), std::time::Duration> {
        use sha2::Digest as _;
        if self
            .swept
            .is_none_or(|at| now.duration_since(at) >= Self::WINDOW)
        {
            self.windows.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < Self::WINDOW)
            });
            self.windows.shrink_to_fit();
            self.swept = Some(now);
        }
        let key: [u8; 32] = sha2::Sha256::digest(credential.as_bytes()).into();
        let times = self.windows.entry(key).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Self::WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= limit {
            // When the oldest request leaves the window, a slot frees: the 429's Retry-After.
            let frees = times.front().map_or(Self::WINDOW, |oldest| {
                Self::WINDOW.saturating_sub(now.duration_since(*oldest))
            });
            return Err(frees);
        }
        times.push_back(now);
        Ok(())
    }

    fn clear(&mut self) {
        self.windows = HashMap::new();
        self.swept = None;
    }
}

/// A poisoned lock means a handler panicked mid-update; the data is still the best we have.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Says that the state comes from the data dir, and warns when the configuration's seed is not
/// the one it grew from: that seed then applies only after `POST /__admin/reset` (or with an
/// empty data dir), which a changed `--config` alone does not make obvious.
fn report_restored(
    config: &Config,
    store: &Store,
    snapshot: &Snapshot,
    events: usize,
) -> Result<(), ConfigError> {
    let place = store
        .path()
        .map_or_else(String::new, |p| p.display().to_string());
    let (seed_events, sequences) = seed_ledger(config)?.export();
    let fingerprint =
        seed_fingerprint(&seed_events, &sequences, &seed_accounts(config)).map_err(store_error)?;
    // A data dir seeded before fingerprints were kept cannot be told apart: no warning.
    let other_seed =
        snapshot.seeded_from != fingerprint && snapshot.seeded_from != LEGACY_SEED_MARK;
    let accounts = snapshot.accounts.len();
    if other_seed {
        tracing::warn!(
            data = %place,
            events,
            accounts,
            "state restored from the data dir, which was seeded from another configuration: \
             the seed events and accounts of this configuration are not applied \
             (POST /__admin/reset applies them, as does an empty data dir)"
        );
    } else {
        tracing::info!(data = %place, events, accounts, "state restored from the data dir");
    }
    Ok(())
}

/// What data dirs seeded before fingerprints were kept hold instead of one.
const LEGACY_SEED_MARK: &str = "1";

/// A store failure, with its causes: `ConfigError::Invalid` holds text only, and the admin
/// API's reset answers with that text.
fn store_error(error: StoreError) -> ConfigError {
    ConfigError::Invalid(format!(
        "server.data_dir: {}",
        crate::error_text::chain(&error)
    ))
}

fn persist_seed(
    store: &Store,
    ledger: &EventLedger,
    accounts: &[(Option<String>, Account)],
) -> Result<(), ConfigError> {
    let (events, sequences) = ledger.export();
    store
        .reseed(&events, &sequences, accounts)
        .map_err(store_error)
}

fn seed_accounts(config: &Config) -> Vec<(Option<String>, Account)> {
    if config.sovos.accounts.is_empty() {
        vec![(None, Account::default_seed())]
    } else {
        config
            .sovos
            .accounts
            .iter()
            .map(|a| (a.api_key.clone(), a.account.clone()))
            .collect()
    }
}

fn seed_ledger(config: &Config) -> Result<EventLedger, ConfigError> {
    let afacturar = &config.afacturar;
    let mut ledger = EventLedger::new(afacturar.first_event_sequence);
    for (index, seed) in afacturar.events.iter().enumerate() {
        let invalid =
            |why: String| ConfigError::Invalid(format!("afacturar.events[{index}]: {why}"));
        let row = &seed.row;
        let code: EventCode = row
            .codigo
            .parse()
            .map_err(|_| invalid(format!("unknown event code `{}`", row.codigo)))?;
        let at = NaiveDateTime::parse_from_str(&row.fecha, "%Y-%m-%d %H:%M:%S").map_err(|e| {
            invalid(format!(
                "fecha `{}`: {e}; expected yyyy-mm-dd hh:mm:ss",
                row.fecha
            ))
        })?;
        let numero_factura = afacturar
            .invoices
            .iter()
            .find(|i| i.cufe == seed.cufe)
            .map_or(&afacturar.default_seller.numero_factura, |i| {
                &i.seller.numero_factura
            })
            .clone();
        ledger
            .record(NewEvent {
                cufe: seed.cufe.clone(),
                code,
                at,
                emisor: EventParty {
                    nombre: row.emisor_nombre.clone(),
                    identificacion: row.emisor_identificacion.clone(),
                },
                receptor: EventParty {
                    nombre: row.receptor_nombre.clone(),
                    identificacion: row.receptor_identificacion.clone(),
                },
                numero_factura,
                software_pin: afacturar.software_pin.clone(),
                cude: row.cude.clone(),
                identificacion_evento: row.identificacion_evento.clone(),
            })
            .map_err(|error| invalid(crate::error_text::chain(&error)))?;
    }
    Ok(ledger)
}

/// The bytes of request bodies the fake holds at once, across every connection and HTTP/2
/// stream: 256 MiB, or two bodies at the limit when that is more. A request waits for its
/// share (its declared length, or the limit when it declares none) before its body is read,
/// and is answered 408 when the share does not free within the read timeout.
pub const fn body_budget_bytes(body_limit: usize) -> usize {
    let floor = 256 * 1024 * 1024;
    if 2 * body_limit > floor {
        2 * body_limit
    } else {
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_windows_keep_a_digest_per_token_and_expire_after_a_minute() {
        let mut windows = RateWindows::default();
        let start = Instant::now();
        let token = |i: usize| format!("{i:06}{}", "t".repeat(60 * 1024));
        for i in 0..3_000 {
            assert!(windows.admit(&token(i), 2, start).is_ok());
        }
        assert_eq!(windows.windows.len(), 3_000);
        // Fixed-size keys: a 60 KB token costs 32 bytes of key, not 60 KB.
        assert!(windows.windows.keys().all(|k| k.len() == 32));
        assert!(windows.admit(&token(0), 2, start).is_ok());
        assert!(
            windows.admit(&token(0), 2, start).is_err(),
            "over the limit"
        );
        // A minute later the old windows are swept at the next request.
        let later = start + RateWindows::WINDOW + std::time::Duration::from_millis(1);
        assert!(windows.admit("fresh", 2, later).is_ok());
        assert_eq!(windows.windows.len(), 1);
        assert!(
            windows.admit(&token(0), 2, later).is_ok(),
            "its window expired"
        );
    }
}
