//! The configuration of the fake provider (`serve --config FILE`, TOML).

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use crate::domain::sovos::ledger::Account;

/// The embedded default configuration, used when no file is given.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// How many requests each ring keeps by default (`[server] journal_capacity`,
/// `serve --journal-capacity`).
pub const DEFAULT_JOURNAL_CAPACITY: usize = 1_000;

/// What the journal keeps in all, in bytes as `GET /__admin/requests` writes them
/// (`[server] journal_max_bytes`): half for the recent requests, half for the contract-breaking
/// ones kept apart.
pub const DEFAULT_JOURNAL_MAX_BYTES: usize = 64 * 1024 * 1024;

/// What the journal keeps of one request, in bytes as written
/// (`[server] journal_entry_max_bytes`).
pub const DEFAULT_JOURNAL_ENTRY_MAX_BYTES: usize = 128 * 1024;

/// The smallest `journal_entry_max_bytes`: an entry's fields without headers or body fit.
pub const MIN_JOURNAL_ENTRY_MAX_BYTES: usize = 4 * 1024;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected fields (the TOML error, with
    /// its position, is the source).
    #[error("invalid configuration")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Connections open at once by default (lowered to fit a smaller `ulimit -n`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_000;

/// Descriptors kept for everything but connections (the listener, the runtime, the database,
/// the logs, webhooks, and the one a refused connection takes for a moment).
pub const RESERVED_DESCRIPTORS: usize = 64;

/// The soft limit on open files of this process (`/proc/self/limits`, Linux), if known.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    // `Max open files            1024                 524288               files`
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Everything `serve` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Server-wide settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// Afacturar's tokens and seed data.
    #[serde(default)]
    pub afacturar: AfacturarConfig,
    /// Sovos's API keys and accounts.
    #[serde(default)]
    pub sovos: SovosConfig,
}

/// Server-wide settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Freeze the clock at this moment (RFC 3339), for reproducible responses.
    #[serde(default, deserialize_with = "rfc3339_moment")]
    pub fixed_clock: Option<DateTime<FixedOffset>>,
    /// Report this `tiempo_ejecucion` instead of the measured one.
    pub fixed_tiempo_ejecucion: Option<f64>,
    /// Afacturar's limit of transactions per minute per token (the provider's is 120). Off
    /// when absent: a test suite should not fail because it is fast.
    pub rate_limit_per_minute: Option<u32>,
    /// Hosts that `generalidades.webhook` deliveries may go to, besides loopback. Empty: any
    /// host over https.
    #[serde(default)]
    pub webhook_hosts: Vec<String>,
    /// Largest request body accepted, in bytes (default 10 MiB); larger ones get 413.
    pub body_limit_bytes: Option<usize>,
    /// How long a client may take to send a request's headers, and then its body, in
    /// milliseconds (default 30 000); slower ones get cut off or 408.
    pub read_timeout_ms: Option<u64>,
    /// A token the admin API requires (`Authorization: Bearer …` or `X-Admin-Token`).
    pub admin_token: Option<String>,
    /// Let clients other than loopback use the admin API.
    #[serde(default)]
    pub admin_allow_remote: bool,
    /// Keep the state in SQLite in this directory (events, accounts); in memory when absent.
    pub data_dir: Option<std::path::PathBuf>,
    /// How many requests the journal keeps (default 1,000), and separately how many
    /// contract-breaking ones; the totals count every request.
    pub journal_capacity: Option<usize>,
    /// What the journal keeps in all, in bytes as `GET /__admin/requests` writes them
    /// (default 64 MiB): half for the recent requests, half for the contract-breaking ones;
    /// the oldest go first.
    pub journal_max_bytes: Option<usize>,
    /// What the journal keeps of one request, in bytes as written (default 128 KiB): headers
    /// and body past it are cut and counted in the entry's `truncated`.
    pub journal_entry_max_bytes: Option<usize>,
    /// How many connections may be open at once (default 1,000, or the open-file limit less 64
    /// when that is lower); past it new connections are closed as soon as they are accepted
    /// while the open ones go on being served.
    pub max_connections: Option<usize>,
}

/// `fixed_clock`: an RFC 3339 moment, with an error that shows the expected format.
fn rfc3339_moment<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    let text = String::deserialize(deserializer)?;
    DateTime::parse_from_rfc3339(&text)
        .map(Some)
        .map_err(|error| {
            serde::de::Error::custom(format!(
                "`{text}` is not a moment in RFC 3339 ({error}): expected a date, `T`, a time and \
             an offset, like `2022-11-30T21:22:17-05:00`"
            ))
        })
}

impl ServerConfig {
    /// The body limit in force.
    pub fn body_limit(&self) -> usize {
        self.body_limit_bytes.unwrap_or(10 * 1024 * 1024)
    }

    /// The journal capacity in force.
    pub fn journal_capacity(&self) -> usize {
        self.journal_capacity
            .unwrap_or(DEFAULT_JOURNAL_CAPACITY)
            .max(1)
    }

    /// The journal's byte budget in force, in all.
    pub fn journal_max_bytes(&self) -> usize {
        self.journal_max_bytes.unwrap_or(DEFAULT_JOURNAL_MAX_BYTES)
    }

    /// The journal's byte budget per request in force: never more than a ring's half of
    /// [`ServerConfig::journal_max_bytes`].
    pub fn journal_entry_max_bytes(&self) -> usize {
        self.journal_entry_max_bytes
            .unwrap_or(DEFAULT_JOURNAL_ENTRY_MAX_BYTES)
            .min(self.journal_max_bytes() / 2)
            .max(MIN_JOURNAL_ENTRY_MAX_BYTES)
    }

    /// The connection cap in force: the configured one, or [`DEFAULT_MAX_CONNECTIONS`] lowered
    /// to fit this process's open-file limit (`ulimit -n` less [`RESERVED_DESCRIPTORS`]).
    pub fn max_connections(&self) -> usize {
        self.max_connections.unwrap_or_else(|| {
            open_file_limit().map_or(DEFAULT_MAX_CONNECTIONS, |limit| {
                DEFAULT_MAX_CONNECTIONS.min(limit.saturating_sub(RESERVED_DESCRIPTORS).max(16))
            })
        })
    }

    /// The read timeout in force.
    pub fn read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.read_timeout_ms.unwrap_or(30_000))
    }
}

/// A party that appears in histories.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Its identification (NIT or other document).
    pub identificacion: String,
    /// Its name.
    pub nombre: String,
}

/// The issuer of invoices the fake does not know.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    /// Its identification.
    pub identificacion: String,
    /// Its name.
    pub nombre: String,
    /// The invoice number that enters the CUDE.
    pub numero_factura: String,
}

// `Invoice` and `SeedEvent` are read through a flat table (`InvoiceTable`, `SeedEventTable`)
// rather than with `#[serde(flatten)]`: serde does not support `deny_unknown_fields` together
// with `flatten`, and a misspelt key (`cudee = …`) would be accepted silently.

/// An invoice the fake knows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "InvoiceTable")]
pub struct Invoice {
    /// Its CUFE.
    pub cufe: String,
    /// Who issued it, and its number.
    pub seller: Seller,
}

/// An `[[afacturar.invoices]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceTable {
    cufe: String,
    identificacion: String,
    nombre: String,
    numero_factura: String,
}

impl From<InvoiceTable> for Invoice {
    fn from(table: InvoiceTable) -> Invoice {
        Invoice {
            cufe: table.cufe,
            seller: Seller {
                identificacion: table.identificacion,
                nombre: table.nombre,
                numero_factura: table.numero_factura,
            },
        }
    }
}

/// A seeded event: a history row plus the CUFE it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "SeedEventTable")]
pub struct SeedEvent {
    /// The invoice.
    pub cufe: String,
    /// The row, without `numero` (events are numbered in order per CUFE).
    pub row: SeedRow,
}

/// An `[[afacturar.events]]` table as written: the CUFE and the row's fields side by side.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedEventTable {
    cufe: String,
    codigo: String,
    fecha: String,
    cude: Option<String>,
    identificacion_evento: Option<String>,
    emisor_nombre: String,
    emisor_identificacion: String,
    receptor_nombre: String,
    receptor_identificacion: String,
}

impl From<SeedEventTable> for SeedEvent {
    fn from(table: SeedEventTable) -> SeedEvent {
        SeedEvent {
            cufe: table.cufe,
            row: SeedRow {
                codigo: table.codigo,
                fecha: table.fecha,
                cude: table.cude,
                identificacion_evento: table.identificacion_evento,
                emisor_nombre: table.emisor_nombre,
                emisor_identificacion: table.emisor_identificacion,
                receptor_nombre: table.receptor_nombre,
                receptor_identificacion: table.receptor_identificacion,
            },
        }
    }
}

/// The fields of a seeded history row (read from the table of its [`SeedEvent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRow {
    /// `030` … `034`.
    pub codigo: String,
    /// `yyyy-mm-dd hh:mm:ss`.
    pub fecha: String,
    /// The CUDE, verbatim (computed when absent).
    pub cude: Option<String>,
    /// `PAR29` … (allocated when absent).
    pub identificacion_evento: Option<String>,
    /// Who sent it.
    pub emisor_nombre: String,
    /// Who sent it.
    pub emisor_identificacion: String,
    /// Who received it.
    pub receptor_nombre: String,
    /// Who received it.
    pub receptor_identificacion: String,
}

/// Afacturar's tokens and seed data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AfacturarConfig {
    /// Accepted Bearer tokens; empty accepts any non-empty token.
    pub tokens: Vec<String>,
    /// The obligados (`documento_obligado`) each token belongs to, for
    /// `lector_cufe_tenedor_legitimo`'s code 11; a token not listed may ask for any.
    pub token_obligados: std::collections::BTreeMap<String, Vec<String>>,
    /// What follows `Este documento se envia al entorno: `.
    pub entorno: String,
    /// The software PIN that enters every CUDE.
    pub software_pin: String,
    /// Everything before `/eventos/` in `url_representacion_xml`.
    pub xml_base_url: String,
    /// The first number of `identificacion_evento` for new events, per prefix (`PAR100`,
    /// `PRE100` … with 100); seeded events keep their own ids and do not move it.
    pub first_event_sequence: u64,
    /// Names of parties by identification.
    pub parties: Vec<Party>,
    /// The issuer of unknown invoices.
    pub default_seller: Seller,
    /// Known invoices.
    pub invoices: Vec<Invoice>,
    /// Seeded history, in order.
    pub events: Vec<SeedEvent>,
}

impl Default for AfacturarConfig {
    fn default() -> Self {
        AfacturarConfig {
            tokens: Vec::new(),
            token_obligados: std::collections::BTreeMap::new(),
            entorno: "DOCUMENTO_NO_VALIDO".into(),
            software_pin: "12345".into(),
            xml_base_url:
                "https://afacturar.archivamos.com/310c4707/1e552c715fe8f7e53626bd261ce6681d3db495f8"
                    .into(),
            first_event_sequence: 100,
            parties: Vec::new(),
            default_seller: Seller {
                identificacion: "5555555".into(),
                nombre: "ENERGIA".into(),
                numero_factura: "SETP990000001".into(),
            },
            invoices: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// A Sovos account and the API key that reaches it.
#[derive(Debug, Clone)]
pub struct SovosAccount {
    /// The key; `None` matches any accepted key.
    pub api_key: Option<String>,
    /// The account.
    pub account: Account,
}

// Written by hand instead of `#[serde(flatten)]`, which would switch off the account's
// `deny_unknown_fields` and let typos through.
impl<'de> Deserialize<'de> for SovosAccount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(deserializer)?;
        let api_key = match table.remove("api_key") {
            None => None,
            Some(toml::Value::String(key)) => Some(key),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "api_key must be a string, got {other}"
                )))
            }
        };
        let account = Account::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(e.message()))?;
        Ok(SovosAccount { api_key, account })
    }
}

/// Sovos's API keys and accounts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SovosConfig {
    /// Accepted keys; empty accepts any non-empty key. An accepted key must also reach an
    /// account (the first whose `api_key` is that key or absent), or it gets 401.
    pub api_keys: Vec<String>,
    /// Accounts; empty means seed 002's account.
    pub accounts: Vec<SovosAccount>,
}

impl Config {
    /// The embedded default.
    pub fn embedded_default() -> Config {
        // The embedded default is covered by tests: failing here is a bug.
        #[allow(clippy::expect_used)]
        Config::from_toml(DEFAULT_CONFIG).expect("the embedded default configuration parses")
    }

    /// Parses a configuration. Fields left out take the defaults of an empty file (no seed
    /// history, any token), not those of the embedded default.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        config.check()?;
        Ok(config)
    }

    /// Reads a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if let Some(t) = self.server.fixed_tiempo_ejecucion {
            if !(t.is_finite() && t >= 0.0) {
                return Err(ConfigError::Invalid(format!(
                    "server.fixed_tiempo_ejecucion must be a non-negative number, got {t}"
                )));
            }
        }
        if self.server.max_connections == Some(0) {
            return Err(ConfigError::Invalid(
                "server.max_connections must be at least 1".into(),
            ));
        }
        if self.server.read_timeout_ms == Some(0) {
            return Err(ConfigError::Invalid(
                "server.read_timeout_ms must be at least 1".into(),
            ));
        }
        if self.server.journal_capacity == Some(0) {
            return Err(ConfigError::Invalid(
                "server.journal_capacity must be at least 1".into(),
            ));
        }
        if self
            .server
            .journal_entry_max_bytes
            .is_some_and(|b| b < MIN_JOURNAL_ENTRY_MAX_BYTES)
        {
            return Err(ConfigError::Invalid(format!(
                "server.journal_entry_max_bytes must be at least {MIN_JOURNAL_ENTRY_MAX_BYTES}"
            )));
        }
        if self
            .server
            .journal_max_bytes
            .is_some_and(|b| b < 2 * MIN_JOURNAL_ENTRY_MAX_BYTES)
        {
            return Err(ConfigError::Invalid(format!(
                "server.journal_max_bytes must be at least {}",
                2 * MIN_JOURNAL_ENTRY_MAX_BYTES
            )));
        }
        if self.afacturar.tokens.iter().any(String::is_empty)
            || self.sovos.api_keys.iter().any(String::is_empty)
        {
            return Err(ConfigError::Invalid(
                "tokens and API keys must not be empty strings".into(),
            ));
        }
        Ok(())
    }

    /// The name of a party, if configured.
    pub fn party_name(&self, identificacion: &str) -> Option<&str> {
        self.afacturar
            .parties
            .iter()
            .find(|p| p.identificacion == identificacion)
            .map(|p| p.nombre.as_str())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::embedded_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error_text::chain;

    const EVENT: &str = r#"
        [[afacturar.events]]
        cufe = "eeee"
        codigo = "030"
        fecha = "2022-11-30 21:22:17"
        emisor_nombre = "SOFTWARE SAS"
        emisor_identificacion = "9999999"
        receptor_nombre = "ENERGIA"
        receptor_identificacion = "5555555"
    "#;

    fn refused(text: &str) -> String {
        chain(&Config::from_toml(text).unwrap_err())
    }

    #[test]
    fn the_default_connection_cap_fits_the_open_file_limit() {
        let cap = ServerConfig::default().max_connections();
        assert!(cap <= DEFAULT_MAX_CONNECTIONS);
        if let Some(limit) = open_file_limit() {
            assert!(
                cap + RESERVED_DESCRIPTORS <= limit.max(80),
                "{cap} for {limit}"
            );
        }
        let configured = ServerConfig {
            max_connections: Some(5),
            ..ServerConfig::default()
        };
        assert_eq!(configured.max_connections(), 5);
        let error = refused("[server]\nmax_connections = 0\n");
        assert!(
            error.contains("max_connections must be at least 1"),
            "{error}"
        );
    }

    #[test]
    fn a_journal_capacity_of_zero_is_refused() {
        let error = refused("[server]\njournal_capacity = 0\n");
        assert!(
            error.contains("journal_capacity must be at least 1"),
            "{error}"
        );
    }

    #[test]
    fn journal_byte_budgets_too_small_to_hold_an_entry_are_refused() {
        let error = refused("[server]\njournal_entry_max_bytes = 100\n");
        assert!(
            error.contains("journal_entry_max_bytes must be at least 4096"),
            "{error}"
        );
        let error = refused("[server]\njournal_max_bytes = 100\n");
        assert!(
            error.contains("journal_max_bytes must be at least 8192"),
            "{error}"
        );
        let config = Config::from_toml("[server]\njournal_max_bytes = 65536\n").unwrap();
        assert_eq!(config.server.journal_entry_max_bytes(), 32 * 1024);
    }

    #[test]
    fn a_seeded_event_reads_its_cufe_and_row_from_one_table() {
        let config = Config::from_toml(&format!("{EVENT}cude = \"abc\"\n")).unwrap();
        let event = &config.afacturar.events[0];
        assert_eq!(event.cufe, "eeee");
        assert_eq!(event.row.codigo, "030");
        assert_eq!(event.row.cude.as_deref(), Some("abc"));
        assert_eq!(event.row.identificacion_evento, None);
    }

    #[test]
    fn a_misspelt_key_in_a_seeded_event_is_refused_by_name() {
        for typo in ["cudee = \"abc\"", "identificacion_eventoo = \"PAR29\""] {
            let error = refused(&format!("{EVENT}{typo}\n"));
            let key = typo.split(' ').next().unwrap();
            assert!(
                error.contains(&format!("unknown field `{key}`")),
                "{typo}: {error}"
            );
            assert!(
                error.contains("expected one of `cufe`, `codigo`"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_seeded_event_without_its_cufe_is_refused() {
        let error = refused(&EVENT.replace("cufe = \"eeee\"", ""));
        assert!(error.contains("missing field `cufe`"), "{error}");
    }

    #[test]
    fn a_misspelt_key_in_an_invoice_is_refused_by_name() {
        let invoice = "[[afacturar.invoices]]\ncufe = \"c\"\nidentificacion = \"1\"\nnombre = \"N\"\nnumero_factura = \"F1\"\n";
        let config = Config::from_toml(invoice).unwrap();
        assert_eq!(config.afacturar.invoices[0].seller.numero_factura, "F1");
        let error = refused(&format!("{invoice}numero_facturaa = \"F2\"\n"));
        assert!(error.contains("unknown field `numero_facturaa`"), "{error}");
    }

    #[test]
    fn a_toml_error_is_the_source_and_is_rendered_once() {
        let error = Config::from_toml("bogus = 1\n").unwrap_err();
        assert_eq!(error.to_string(), "invalid configuration");
        let rendered = chain(&error);
        assert_eq!(
            rendered.matches("unknown field `bogus`").count(),
            1,
            "{rendered}"
        );
        assert_eq!(
            rendered.matches("TOML parse error").count(),
            1,
            "{rendered}"
        );
    }

    #[test]
    fn an_unreadable_file_names_the_file_and_the_os_error_once() {
        let path = Path::new("/no/such/einvoice-mock.toml");
        let os = std::fs::read_to_string(path).unwrap_err().to_string();
        let rendered = chain(&Config::from_file(path).unwrap_err());
        assert_eq!(rendered, format!("cannot read {}: {os}", path.display()));
    }
}
