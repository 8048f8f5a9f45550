//! The command line: `serve`, `validate`, `openapi` and `proxy`, and where log lines go.
//!
//! The runtime, the logs and every command are set up here rather than in `main.rs`: what
//! `main.rs` names generically (a future it polls, a subscriber it builds) is compiled again
//! in the binary, the last step of a first build, which no other step runs beside.

mod logging;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method};

use crate::contract::{
    Contract, Document, FormError, Operation, OperationSpec, Provider, Violations, OPERATIONS,
};
use crate::respond::{self, Parsed};
use crate::server::journal::{junit_head_with, junit_properties, JunitCounts, JUNIT_TAIL};
use crate::server::proxy::Targets;
use crate::server::tls::Tls;
use crate::server::{log_request_lines_with, AppState, Config};
use logging::{BatchedWriter, FlushGuard, LogTime, RequestLines};
use tracing_subscriber::filter::Targets as LogTargets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Contract testing for e-invoicing provider APIs: Afacturar (Colombia, DIAN RADIAN) and
/// Sovos Mexico (Reachcore).
#[derive(Debug, Parser)]
#[command(name = "einvoice-mock", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr: readable text, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Formats of the logs written to stderr (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line (tracing-subscriber's JSON format).
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the fake provider: every documented endpoint of both providers on one port.
    ///
    /// The first line on stdout is `listening on http://HOST:PORT`. Stops cleanly on Ctrl-C
    /// or SIGTERM.
    Serve(ServeArgs),
    /// Check payloads against the documented contract.
    #[command(long_about = validate_help())]
    Validate(ValidateArgs),
    /// Print the OpenAPI 3.1 document of the operations (JSON), generated from the embedded
    /// schemas and fixtures.
    #[command(about = openapi_about(), long_about = openapi_help())]
    Openapi,
    /// Forward requests to the real provider and report drift: each request and each real
    /// response is checked against the contract (a shape the schemas do not allow, a status
    /// the documents do not list), in the same journal, admin API and JUnit report as `serve`.
    ///
    /// Example: `einvoice-mock proxy --target https://servicios-pruebas.afacturar.com`, then
    /// point the client at the printed address.
    Proxy(Box<ProxyArgs>),
}

/// Options of `proxy`: `serve`'s, with the help of `--config` and `--data-dir` reworded for
/// what they do when the real provider answers.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("config", |arg| arg.help(PROXY_CONFIG_HELP)),
    mut_arg("data_dir", |arg| arg.help(PROXY_DATA_DIR_HELP))
)]
pub struct ProxyArgs {
    /// Both providers' base URL: requests go to TARGET + their path (the same as
    /// `--afacturar-target URL --sovos-target URL`).
    #[arg(long, value_name = "URL", required_unless_present_any = ["afacturar_target", "sovos_target"])]
    pub target: Option<reqwest::Url>,
    /// Afacturar's base URL (`/api/radian/…` requests go there), e.g.
    /// `https://servicios-pruebas.afacturar.com`.
    #[arg(long, value_name = "URL")]
    pub afacturar_target: Option<reqwest::Url>,
    /// Sovos's base URL (`/api/rest/…` requests go there).
    #[arg(long, value_name = "URL")]
    pub sovos_target: Option<reqwest::Url>,
    /// The same options as `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `proxy --config`: the real provider authenticates and answers, so only the settings of the
/// layer in front of it apply (`intercept`, admin, listener), and the fake's own data only
/// where a code-28 scenario replays the request to the fake for its webhook.
const PROXY_CONFIG_HELP: &str = "TOML configuration, in serve's format. The real provider \
    answers, so the proxy uses the [server] table (fixed clock, rate limit, body limit, read \
    timeout, admin, journal capacity, webhook hosts) and afacturar.entorno in the answers it \
    gives itself (armed scenarios, the rate limit's 429); Afacturar's tokens and seed data only \
    shape the webhook of a code-28 scenario, which the fake computes itself, and Sovos's API \
    keys and accounts are not used. Without it the embedded default";

/// `proxy --data-dir`: nothing forwarded is stored; the directory holds the TLS certificate
/// and the fake's state, which only a code-28 scenario's webhook changes.
const PROXY_DATA_DIR_HELP: &str = "Put the self-signed certificate of --tls in DIR/tls (a \
    temporary directory by default) and the fake's own state in SQLite in DIR. Requests go to \
    the real provider, which holds the real events and accounts: the fake's state is seeded at \
    start (and by /__admin/reset) and changes only with the webhook of a code-28 scenario. The \
    journal stays in memory";

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Only loopback by default: the fake has no real security.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free port.
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// TOML configuration: tokens, API keys, accounts, seed events, fixed clock. Without it
    /// the embedded default runs (any non-empty token or key, the documents' example data).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// At shutdown, exit with status 1 if any request broke the contract (for CI).
    #[arg(long)]
    pub fail_on_violation: bool,
    /// Keep a JUnit XML report of every request since start, its violations and the contract
    /// coverage at FILE: a complete report from start, rewritten (atomically, through
    /// FILE.tmp) within half a second of each request and at shutdown, so that it stays valid
    /// even if the fake is killed. The test cases are spooled to FILE.partial meanwhile.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// At shutdown, exit with status 1 if the contract coverage (documented answers received
    /// and request fields sent, `GET /__admin/coverage`) is below PCT percent.
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub min_coverage: Option<f64>,
    /// Keep the last N requests in the journal, and separately the last N that broke the
    /// contract (default 1000, at least 1), within the journal's byte budget
    /// (`[server] journal_max_bytes`); the totals, `--junit` and `--fail-on-violation` count
    /// every request.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub journal_capacity: Option<usize>,
    /// Answer 429 with `Retry-After` past N requests per minute per token or API key:
    /// Afacturar's documented 429 (the provider's limit is 120), and for Sovos, which documents
    /// no limit, a 429 in its error format. Off by default, so that fast test suites do not
    /// trip it.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Require this token on the admin API (`X-Admin-Token: …` or `Authorization: Bearer …`);
    /// `/__admin/health` stays open for health checks.
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Let clients other than loopback use the admin API (it refuses them by default, except
    /// `/__admin/health`).
    #[arg(long)]
    pub admin_allow_remote: bool,
    /// Keep the state (events, Sovos accounts) in SQLite in DIR, so that it survives restarts;
    /// in memory by default.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve HTTPS. Without --tls-cert/--tls-key a self-signed certificate for localhost is
    /// generated at start; its path is printed on the second stdout line (`certificate: …`).
    #[arg(long)]
    pub tls: bool,
    /// PEM certificate chain for --tls.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable report, one line per violation.
    Text,
    /// For each file that breaks the contract, the body the provider would answer: the
    /// semantic 400 of acuse_recibo_fev, Sovos's error, codigo 12 "Sin eventos" for
    /// historico_eventos (which documents no 400).
    Json,
}

/// Reads an operation as [`Operation`]'s `FromStr` does (`saldos/pdf` and `saldos-pdf` too),
/// and lists the operation table's names as the possible values in `--help`.
#[derive(Debug, Clone, Copy)]
struct OperationParser;

impl clap::builder::TypedValueParser for OperationParser {
    type Value = Operation;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Operation, clap::Error> {
        let text = value.to_string_lossy();
        text.parse::<Operation>().map_err(|error| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{error}\n"))
                .with_cmd(command)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Operation::ALL
                .into_iter()
                .map(|op| clap::builder::PossibleValue::new(op.name())),
        ))
    }
}

/// The names of the operations whose row is `kind`, as a list in prose: `a`, `a and b`,
/// `a, b and c`.
fn operations_named(kind: impl Fn(&OperationSpec) -> bool) -> String {
    let names: Vec<&str> = OPERATIONS
        .iter()
        .filter(|row| kind(row))
        .map(|row| row.name)
        .collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `validate`'s long help: what a FILE holds for each kind of operation, from the operation
/// table.
fn validate_help() -> String {
    let events: Vec<&str> = OPERATIONS
        .iter()
        .filter(|row| row.registers_event)
        .map(|row| row.name)
        .collect();
    let forms = operations_named(|row| row.provider == Provider::Afacturar && !row.registers_event);
    let bodies = operations_named(|row| row.provider == Provider::Sovos);
    format!(
        "Check payloads against the documented contract.\n\n\
         Each FILE holds the payload of OPERATION: the `data` JSON document of the event \
         operations ({}), read as Afacturar's PHP decodes it (or the whole form as \
         {{\"documento_obligado\": …, \"data\": \"…\"}}: a string `data` and neither `evento` nor \
         `generalidades`); the form fields of {forms} as a JSON object; or the JSON body of \
         {bodies}. `-` reads standard input.\n\n\
         Exit status: 0 every file conforms, 1 some file breaks the contract, 2 usage or I/O \
         error.",
        events.join(", ")
    )
}

/// `openapi`'s one-line help, counting the operations as the table has them.
fn openapi_about() -> String {
    format!(
        "Print the OpenAPI 3.1 document of the {} operations (JSON), generated from the \
         embedded schemas and fixtures",
        crate::openapi::operation_count()
    )
}

/// `openapi`'s long help.
fn openapi_help() -> String {
    format!(
        "{}.\n\n`openapi/openapi.json` is its checked-in copy: `einvoice-mock openapi > \
         openapi/openapi.json` regenerates it.",
        openapi_about()
    )
}

/// Options of `validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The operation whose contract the files must meet.
    #[arg(value_parser = OperationParser)]
    pub operation: Operation,
    /// Files to check; `-` is standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What a command ended with, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything conformed (exit 0).
    Ok,
    /// Some payload broke the contract (exit 1).
    Violations,
}

/// A command that could not do its work (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A report could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The address to serve on cannot be bound (in use, not local, no permission).
    #[error("cannot listen on {address}{hint}")]
    Listen {
        /// `HOST:PORT` as given.
        address: String,
        /// What to do about it, when known.
        hint: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// A proxy target that is not an http or https URL.
    #[error("{flag} {url}: only http:// and https:// targets can be proxied")]
    Target {
        /// The option.
        flag: &'static str,
        /// The URL given.
        url: String,
    },
    /// TLS cannot be set up.
    #[error(transparent)]
    Tls(#[from] crate::server::tls::TlsError),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::server::ConfigError),
    /// Writing the report or serving failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Validates each file and writes the report to `out`.
pub fn validate(args: &ValidateArgs, out: &mut impl Write) -> Result<Outcome, CliError> {
    let contract = Contract::global();
    // Built only for `--format json`: what the fake would answer, on its embedded default.
    let state = match args.format {
        Format::Json => Some(AppState::new(Config::embedded_default())?),
        Format::Text => None,
    };
    let mut outcome = Outcome::Ok;
    for path in &args.files {
        let shown = path.display().to_string();
        let bytes = read_input(path).map_err(|source| CliError::Read {
            path: shown.clone(),
            source,
        })?;
        let started = Instant::now();
        let checked = check(contract, args.operation, &bytes);
        if checked.conforms() {
            if args.format == Format::Text {
                writeln!(out, "{shown}: conforms to {}", args.operation)?;
            }
            continue;
        }
        outcome = Outcome::Violations;
        match &state {
            None => checked.write_text(&shown, args.operation, out)?,
            Some(state) => {
                let body = checked.provider_body(state, args.operation, started);
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&body).unwrap_or_default()
                )?;
            }
        }
    }
    Ok(outcome)
}

/// The file's bytes as they are: decoding them is the contract's work (PHP's `json_decode`
/// refuses what a lossy read would hide).
fn read_input(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    // No more than the fake would take in one request: `validate /dev/zero` must end.
    let limit = Config::embedded_default().server.body_limit();
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path)?)
    };
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes, the most a request body may hold"),
        ));
    }
    Ok(bytes)
}

/// One payload judged as the fake judges a request carrying it: `verify` reads the request
/// the payload is sent in (the same form reader and PHP decoding as over HTTP).
struct Checked {
    /// What verification made of it.
    parsed: Parsed,
    /// The input was a whole Afacturar form (`{"documento_obligado": …, "data": "…"}`): its
    /// form fields are judged too.
    whole_form: bool,
    /// The JSON parser's message, for a payload that is not JSON.
    not_json: Option<String>,
}

/// The form `validate` sends a payload in; its boundary is long enough never to occur in one.
const FORM_CONTENT_TYPE: &str =
    "multipart/form-data; boundary=einvoice-mock-validate-6f1c2b9e0d4a7358";

fn check(contract: &Contract, operation: Operation, bytes: &[u8]) -> Checked {
    let json = serde_json::from_slice::<Value>(bytes);
    let not_json = json.as_ref().err().map(ToString::to_string);
    // A whole form has a string `data` and none of the data document's own properties: a
    // data document with an extra `data` key is a data document (PHP: "not defined").
    let whole_form = operation.registers_event()
        && json.as_ref().is_ok_and(|value| {
            value.get("data").is_some_and(Value::is_string)
                && value.get("evento").is_none()
                && value.get("generalidades").is_none()
        });
    let body: Vec<u8> = match (operation.provider(), &json) {
        (Provider::Sovos, _) => bytes.to_vec(),
        // The `data` document alone, as the field's bytes.
        (Provider::Afacturar, _) if operation.registers_event() && !whole_form => {
            multipart([("documento_obligado", &b""[..]), ("data", bytes)])
        }
        // A whole form, or a query's fields: each value as the form field's text.
        (Provider::Afacturar, Ok(Value::Object(fields))) => {
            let texts: Vec<(&str, Vec<u8>)> = fields
                .iter()
                .map(|(name, value)| {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    (name.as_str(), text.into_bytes())
                })
                .collect();
            multipart(texts.iter().map(|(name, text)| (*name, text.as_slice())))
        }
        (Provider::Afacturar, _) => {
            return Checked {
                parsed: Parsed::NotJson,
                whole_form,
                not_json: not_json.or_else(|| Some("not a JSON object".to_owned())),
            };
        }
    };
    let headers = validate_headers(operation.provider());
    let verdict = respond::verify_as(
        contract,
        operation,
        &Method::POST,
        &headers,
        &bytes::Bytes::from(body),
    );
    let mut parsed = verdict.parsed.unwrap_or(Parsed::MalformedForm);
    if !whole_form && operation.registers_event() {
        // The `data` document alone: its envelope is not the user's, so it is not judged.
        if let Parsed::Form {
            form,
            form_violations,
            ..
        } = &mut parsed
        {
            form.fields = Document::from_fields::<&str, &str>([]);
            *form_violations = Violations::default();
        }
    }
    Checked {
        parsed,
        whole_form,
        not_json,
    }
}

/// A `multipart/form-data` body with these fields, in this order.
fn multipart<'a>(fields: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let boundary = FORM_CONTENT_TYPE.rsplit('=').next().unwrap_or_default();
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

impl Checked {
    fn conforms(&self) -> bool {
        match &self.parsed {
            Parsed::Form {
                form_violations,
                data_violations,
                ..
            } => form_violations.is_valid() && data_violations.is_valid(),
            Parsed::Json { violations, .. } => violations.is_valid(),
            _ => false,
        }
    }

    fn write_text(
        &self,
        shown: &str,
        operation: Operation,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let (form, payload) = match &self.parsed {
            Parsed::Form {
                form_violations,
                data_violations,
                ..
            } if operation.registers_event() => {
                (self.whole_form.then_some(form_violations), data_violations)
            }
            // A query's fields are its payload.
            Parsed::Form {
                form_violations, ..
            } => (None, form_violations),
            Parsed::Json { violations, .. } => (None, violations),
            // The file is the `data` document itself: it is what is not JSON.
            Parsed::FormRefused {
                error: FormError::DataNotJson { message, .. },
                ..
            } if !self.whole_form => return writeln!(out, "{shown}: not JSON: {message}"),
            Parsed::FormRefused { error, .. } => return writeln!(out, "{shown}: {error}"),
            Parsed::NotJson | Parsed::NotAForm | Parsed::MalformedForm => {
                let message = self.not_json.as_deref().unwrap_or("unreadable");
                return writeln!(out, "{shown}: not JSON: {message}");
            }
        };
        let count = form.map_or(0, |v| v.len()) + payload.len();
        let plural = if count == 1 { "" } else { "s" };
        writeln!(out, "{shown}: {count} violation{plural} of {operation}")?;
        for violation in form.into_iter().flatten() {
            writeln!(out, "  form field {violation}")?;
        }
        for violation in payload {
            match operation.provider() {
                // Sovos's own words where a documented error stands for the finding.
                Provider::Sovos => {
                    let path = violation.path.to_string();
                    let path = if path.is_empty() { "/" } else { path.as_str() };
                    let words =
                        crate::render::sovos::errors::SovosError::finding(operation, violation);
                    writeln!(out, "  {path}: {words}")?;
                }
                Provider::Afacturar => writeln!(out, "  {violation}")?,
            }
        }
        Ok(())
    }

    /// What the fake, on the embedded configuration, answers to a request carrying this
    /// payload (contract note A15): through the same answer core as a request over HTTP.
    fn provider_body(self, state: &AppState, operation: Operation, started: Instant) -> Value {
        let headers = validate_headers(operation.provider());
        let reply = respond::answer(
            state,
            respond::Request {
                operation,
                method: &Method::POST,
                headers: &headers,
                parsed: self.parsed,
                started,
            },
        );
        reply.body_json().unwrap_or(Value::Null)
    }
}

/// The headers of a request as the documents show it, with a credential the embedded
/// configuration accepts: `validate` judges the payload, not the credential.
fn validate_headers(provider: Provider) -> HeaderMap {
    let mut headers = HeaderMap::new();
    match provider {
        Provider::Afacturar => {
            headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer validate"));
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE));
        }
        Provider::Sovos => {
            headers.insert("RCApiKey", HeaderValue::from_static("validate"));
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
    }
    headers
}

/// Sets up the logs on standard error in `format`: one line per request, written in batches
/// (see `logging`), filtered by `RUST_LOG` (see `log_filter`). Dropping the guard writes what
/// is left.
pub fn init_logs(format: LogFormat) -> FlushGuard {
    use std::io::IsTerminal as _;
    use tracing_subscriber::fmt;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref()).unwrap_or_else(|error| {
        eprintln!("einvoice-mock: {error}; logging at info");
        info_logs()
    });
    let (writer, flush_on_exit) = BatchedWriter::stderr();
    let ansi = std::io::stderr().is_terminal();
    let request_lines = writer.clone();
    // The filter first, as a layer of its own: the most verbose level it lets through is the
    // process's, so disabled events (hyper's and h2's `trace!`) stop at their level check.
    let logs = tracing_subscriber::registry().with(filter);
    let layer = fmt::layer()
        .with_writer(move || writer.clone())
        .with_ansi(ansi)
        .with_timer(LogTime);
    match format {
        LogFormat::Text => {
            logs.with(layer.event_format(RequestLines::new(
                fmt::format().with_timer(LogTime),
                LogTime,
            )))
            .init();
            // The request line in plain text, written as the format above writes it, without
            // the event (colours are the format's own).
            if !ansi {
                log_request_lines_with(move |line| request_lines.write_request_line(line));
            }
        }
        LogFormat::Json => logs.with(layer.json()).init(),
    }
    flush_on_exit
}

/// What the logs show, from `RUST_LOG` (`None` when it is unset): levels and `target=level`
/// pairs separated by commas (`warn`, `einvoice_mock=debug,hyper=warn`), `info` when it holds
/// none. Span and field filters are not read; a list that does not parse is an error.
fn log_filter(rust_log: Option<&str>) -> Result<LogTargets, String> {
    let directives: Vec<&str> = rust_log
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .collect();
    if directives.is_empty() {
        return Ok(info_logs());
    }
    directives.join(",").parse().map_err(|error| {
        format!(
            "RUST_LOG={:?} is not a list of levels and target=level pairs ({error})",
            rust_log.unwrap_or_default()
        )
    })
}

/// The logs when `RUST_LOG` says nothing usable: `info` and above, from every target.
fn info_logs() -> LogTargets {
    LogTargets::new().with_default(tracing::Level::INFO)
}

/// Runs the command `cli` names; `serve` and `proxy` on a runtime of their own.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Validate(args) => Ok(validate(&args, &mut std::io::stdout().lock())?),
        Command::Serve(args) => Ok(runtime()?.block_on(serve(&args))?),
        Command::Proxy(args) => Ok(runtime()?.block_on(proxy(&args))?),
        Command::Openapi => {
            let document = crate::openapi::render()?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(document.as_bytes())?;
            stdout.flush()?;
            Ok(Outcome::Ok)
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Runs the fake provider until SIGINT or SIGTERM; then writes the JUnit report and judges
/// the journal when asked to.
pub async fn serve(args: &ServeArgs) -> Result<Outcome, CliError> {
    run_server(args, None).await
}

/// Runs the validating proxy until SIGINT or SIGTERM (see [`serve`] for the reports).
pub async fn proxy(args: &ProxyArgs) -> Result<Outcome, CliError> {
    let mut targets = args.target.clone().map(Targets::both).unwrap_or_default();
    for (flag, url, slot) in [
        ("--target", &args.target, None),
        (
            "--afacturar-target",
            &args.afacturar_target,
            Some(&mut targets.afacturar),
        ),
        (
            "--sovos-target",
            &args.sovos_target,
            Some(&mut targets.sovos),
        ),
    ] {
        let Some(url) = url else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CliError::Target {
                flag,
                url: url.to_string(),
            });
        }
        if let Some(slot) = slot {
            *slot = Some(url.clone());
        }
    }
    run_server(&args.serve, Some(targets)).await
}

async fn run_server(args: &ServeArgs, target: Option<Targets>) -> Result<Outcome, CliError> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::embedded_default(),
    };
    if args.rate_limit.is_some() {
        config.server.rate_limit_per_minute = args.rate_limit;
    }
    if args.journal_capacity.is_some() {
        config.server.journal_capacity = args.journal_capacity;
    }
    if args.admin_token.is_some() {
        config.server.admin_token.clone_from(&args.admin_token);
    }
    config.server.admin_allow_remote |= args.admin_allow_remote;
    if args.data_dir.is_some() {
        config.server.data_dir.clone_from(&args.data_dir);
    }
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|source| CliError::Listen {
            address: listen_address(&args.host, args.port),
            hint: if source.kind() == std::io::ErrorKind::AddrInUse {
                " (the port is in use: --port 0 picks a free one, printed on the first line)"
            } else {
                ""
            },
            source,
        })?;
    let address = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    // A certificate generated outside a data dir is this run's alone: removed when it ends.
    let mut temporary_tls_dir = None;
    let tls = if args.tls || args.tls_cert.is_some() {
        Some(match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Tls::from_files(cert, key)?,
            _ => {
                let dir = match &args.data_dir {
                    Some(dir) => dir.join("tls"),
                    None => {
                        let dir = Tls::private_dir()?;
                        let path = dir.path().to_path_buf();
                        temporary_tls_dir = Some(dir);
                        path
                    }
                };
                Tls::self_signed(&dir, &args.host)?
            }
        })
    } else {
        None
    };
    // Opened before the address is printed, so that an unwritable path fails at start, not
    // after the whole test run; removed if the run ends before the report is written.
    let junit_spool = match &args.junit {
        Some(path) => Some(Temporary(spool_junit(&state, path)?)),
        None => None,
    };
    // A complete report is on disk from the start, and rewritten as requests arrive.
    let junit_writer = match (&args.junit, &junit_spool) {
        (Some(path), Some(Temporary(spool))) => {
            let report = JunitReport {
                path: path.clone(),
                spool: spool.clone(),
                last: std::sync::Mutex::new(None),
            };
            report.refresh(&state).map_err(|source| CliError::Write {
                path: path.display().to_string(),
                source,
            })?;
            Some(JunitWriter::start(state.clone(), report))
        }
        _ => None,
    };
    {
        let mut stdout = std::io::stdout().lock();
        let scheme = if tls.is_some() { "https" } else { "http" };
        writeln!(stdout, "listening on {scheme}://{address}")?;
        if let Some(tls) = &tls {
            writeln!(stdout, "certificate: {}", tls.certificate.display())?;
        }
        stdout.flush()?;
    }
    tracing::info!(%address, "einvoice-mock serving");
    let router = match target {
        Some(targets) => {
            for (provider, target) in [("afacturar", &targets.afacturar), ("sovos", &targets.sovos)]
            {
                if let Some(target) = target {
                    let shown = crate::server::webhooks::mask_userinfo(target.as_str());
                    tracing::info!(provider, target = %shown, "proxying to the provider");
                }
            }
            crate::server::Served::from(crate::server::proxy::proxy_app_to(state.clone(), targets))
        }
        None => crate::server::Served::fake(state.clone()),
    };
    crate::server::serve_router_until(listener, router, &state, tls, shutdown).await?;
    drop(temporary_tls_dir);
    let report = junit_writer.and_then(JunitWriter::stop);
    // Every request since start: `DELETE /__admin/requests` and `POST /__admin/reset` empty
    // the journal, not the verdict.
    let (summary, upstream_errors, coverage) = {
        let journal = state.journal();
        (
            journal.lifetime(),
            journal.upstream_errors(),
            journal.coverage(),
        )
    };
    tracing::info!(
        requests = summary.requests,
        violating = summary.violating,
        log_lines_dropped =
            crate::server::LOG_LINES_DROPPED.load(std::sync::atomic::Ordering::Relaxed),
        upstream_errors,
        "stopped"
    );
    for line in coverage.lines() {
        tracing::info!(target: "einvoice_mock::coverage", "{line}");
    }
    if let Some(report) = report {
        report.refresh(&state).map_err(|source| CliError::Write {
            path: report.path.display().to_string(),
            source,
        })?;
        if let Some(Err(source)) = state.journal().finish_junit() {
            return Err(CliError::Write {
                path: report.spool.display().to_string(),
                source,
            });
        }
    }
    drop(junit_spool);
    let mut outcome = Outcome::Ok;
    if args.fail_on_violation && summary.violating > 0 {
        eprintln!(
            "einvoice-mock: {} of {} requests broke the contract (GET /__admin/violations lists them)",
            summary.violating, summary.requests
        );
        outcome = Outcome::Violations;
    }
    if let Some(minimum) = args.min_coverage {
        if coverage.percent < minimum {
            eprintln!(
                "einvoice-mock: contract coverage {}% is below --min-coverage {minimum}% (GET /__admin/coverage lists what was never answered or sent)",
                coverage.percent
            );
            outcome = Outcome::Violations;
        }
    }
    Ok(outcome)
}

fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        Ok(_) => Err("must be between 0 and 100".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// The `--junit` report, rewritten whole from the spool: the counts, the coverage as
/// `<properties>`, the test cases spooled so far, the tail. Written to FILE.tmp and renamed
/// over FILE, so that FILE is always a complete report (even after `kill -9`).
#[derive(Debug)]
struct JunitReport {
    path: PathBuf,
    spool: PathBuf,
    /// What the file on disk holds: the spooled bytes and the properties.
    last: std::sync::Mutex<Option<(u64, String)>>,
}

impl JunitReport {
    /// Rewrites the report if anything changed since the last time.
    fn refresh(&self, state: &AppState) -> std::io::Result<()> {
        let (checkpoint, properties) = {
            let mut journal = state.journal();
            let checkpoint = journal.junit_checkpoint();
            (checkpoint, junit_properties(&journal.coverage()))
        };
        let (counts, bytes) = checkpoint.unwrap_or(Ok((JunitCounts::default(), 0)))?;
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.as_ref() == Some(&(bytes, properties.clone())) {
            return Ok(());
        }
        let mut temporary = self.path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
            out.write_all(junit_head_with(counts, &properties).as_bytes())?;
            std::io::copy(&mut std::fs::File::open(&self.spool)?.take(bytes), &mut out)?;
            out.write_all(JUNIT_TAIL.as_bytes())?;
            out.flush()?;
        }
        std::fs::rename(&temporary, &self.path)?;
        *last = Some((bytes, properties));
        Ok(())
    }
}

/// Rewrites the `--junit` report every half second while the fake runs (when it changed).
#[derive(Debug)]
struct JunitWriter {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<JunitReport>,
}

impl JunitWriter {
    fn start(state: AppState, report: JunitReport) -> JunitWriter {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                std::thread::park_timeout(std::time::Duration::from_millis(500));
                if let Err(error) = report.refresh(&state) {
                    tracing::warn!(path = %report.path.display(), %error, "the JUnit report could not be rewritten");
                }
            }
            report
        });
        JunitWriter { stop, thread }
    }

    /// Stops the thread; the report, for its last rewrite.
    fn stop(self) -> Option<JunitReport> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.thread().unpark();
        self.thread.join().ok()
    }
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(error) => Err(error.to_string()),
    }
}

/// A file or directory this run created for itself: removed when dropped, however the run
/// ends.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = if self.0.is_dir() {
            std::fs::remove_dir_all(&self.0)
        } else {
            std::fs::remove_file(&self.0)
        };
    }
}

/// Starts writing every request's JUnit test case to `FILE.partial` beside `path`.
fn spool_junit(state: &AppState, path: &Path) -> Result<PathBuf, CliError> {
    let mut spool = path.as_os_str().to_owned();
    spool.push(".partial");
    let spool = PathBuf::from(spool);
    let file = std::fs::File::create(&spool).map_err(|source| CliError::Write {
        path: spool.display().to_string(),
        source,
    })?;
    state
        .journal()
        .spool_junit(Box::new(std::io::BufWriter::new(file)));
    Ok(spool)
}

/// `HOST:PORT` for messages; an IPv6 address in brackets (`[::1]:8787`).
fn listen_address(host: &str, port: u16) -> String {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => std::net::SocketAddr::new(ip, port).to_string(),
        Err(_) => format!("{host}:{port}"),
    }
}

/// The shutdown signal, with its handlers installed *now*: a signal that arrives between
/// the `listening on` line and the first poll of the accept loop must not kill the process.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::log_filter;

    /// What `RUST_LOG = rust_log` lets through, at each level, for one target.
    fn shown(rust_log: Option<&str>, target: &str) -> Vec<Level> {
        let filter = log_filter(rust_log).expect("a list that parses");
        [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ]
        .into_iter()
        .filter(|level| filter.would_enable(target, level))
        .collect()
    }

    #[test]
    fn the_logs_show_info_when_rust_log_is_unset_empty_or_only_commas() {
        for rust_log in [None, Some(""), Some(" "), Some(",,")] {
            assert_eq!(
                shown(rust_log, "einvoice_mock::server"),
                [Level::ERROR, Level::WARN, Level::INFO],
                "{rust_log:?}"
            );
        }
    }

    #[test]
    fn rust_log_takes_a_level_and_target_level_pairs_with_or_without_spaces_and_commas() {
        assert_eq!(shown(Some("warn"), "hyper"), [Level::ERROR, Level::WARN]);
        assert_eq!(shown(Some("warn,"), "hyper"), [Level::ERROR, Level::WARN]);
        assert!(shown(Some("off"), "einvoice_mock").is_empty());
        let pairs = Some("warn, einvoice_mock=debug ,hyper=error,");
        assert_eq!(shown(pairs, "einvoice_mock::server").len(), 4);
        assert_eq!(shown(pairs, "hyper::proto"), [Level::ERROR]);
        assert_eq!(shown(pairs, "h2"), [Level::ERROR, Level::WARN]);
    }

    #[test]
    fn a_rust_log_that_does_not_parse_is_named_in_the_error() {
        let error = log_filter(Some("einvoice_mock=loud")).expect_err("not a level");
        assert!(error.contains("RUST_LOG=\"einvoice_mock=loud\""), "{error}");
    }
}
