//! The load generator: Debian's `wrk`, with one Lua script per route written to a temporary
//! directory. Each script ends with a `done` hook that prints one machine-readable line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The seed history's CUFE (three events in the embedded default configuration). It has 95
/// characters, so contract verification flags every request that sends it.
pub const SEED_HISTORY_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137";
/// The CUFE `historico_eventos` is benchmarked with: the seed's, made 96 digits long, so that
/// the benchmark measures a conforming client. [`history_config`] gives it the seed's three
/// events.
pub const HISTORY_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def8328521370";
/// The fixture whose `data` document every acuse sends (with a fresh CUFE).
pub const ACUSE_FIXTURE: &str =
    "fixtures/afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json";
/// `documento_obligado` of every acuse.
pub const DOCUMENTO_OBLIGADO: &str = "830020470";
const BOUNDARY: &str = "----einvoicebench7MA4YWxkTrZu0gW";

/// A benchmarked route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Saldos,
    AcuseReciboFev,
    HistoricoEventos,
    LectorCufeTenedorLegitimo,
}

impl Route {
    pub const ALL: [Route; 4] = [
        Route::Saldos,
        Route::AcuseReciboFev,
        Route::HistoricoEventos,
        Route::LectorCufeTenedorLegitimo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Saldos => "saldos",
            Route::AcuseReciboFev => "acuse_recibo_fev",
            Route::HistoricoEventos => "historico_eventos",
            Route::LectorCufeTenedorLegitimo => "lector_cufe_tenedor_legitimo",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Route::Saldos => "/api/rest/Timbre/saldos",
            Route::AcuseReciboFev => "/api/radian/acuse_recibo_fev",
            Route::HistoricoEventos => "/api/radian/historico_eventos",
            Route::LectorCufeTenedorLegitimo => "/api/radian/lector_cufe_tenedor_legitimo",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Route::Saldos => "JSON",
            Route::AcuseReciboFev => "multipart, fresh CUFE, records state",
            Route::HistoricoEventos => "multipart, 3-event history",
            Route::LectorCufeTenedorLegitimo => "multipart, one CUFE's holder",
        }
    }

    pub fn parse(name: &str) -> Result<Route> {
        Route::ALL
            .into_iter()
            .find(|r| {
                r.name() == name
                    || (name == "acuse" && *r == Route::AcuseReciboFev)
                    || (name == "lector" && *r == Route::LectorCufeTenedorLegitimo)
            })
            .with_context(|| format!("unknown route `{name}`"))
    }
}

/// What one wrk run measured.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub requests: u64,
    pub duration_us: u64,
    /// Answers with a status ≥ 400 (what wrk counts as status errors).
    pub http_errors: u64,
    pub socket_errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
}

impl Run {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }
}

/// Makes sure `wrk` is installed: installs Debian's package when running as root with apt,
/// otherwise says how.
pub fn ensure_installed() -> Result<()> {
    ensure_program("wrk", "wrk")
}

/// Makes sure `program` is on the PATH: installs Debian's `package` when running as root with
/// apt, otherwise says how.
pub fn ensure_program(program: &str, package: &str) -> Result<()> {
    if which(program) {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root && which("apt-get") {
        eprintln!(
            "xtask: {program} is missing; installing Debian's package (apt-get install -y {package})"
        );
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-qq", package])
                .status()
                .is_ok_and(|s| s.success())
        };
        // A fresh machine may have no package lists yet: update once, then try again.
        if install()
            || (Command::new("apt-get")
                .args(["update", "-qq"])
                .status()
                .is_ok()
                && install())
        {
            return Ok(());
        }
    }
    bail!(
        "{program} is not installed: run `sudo apt-get install -y {package}` (Debian/Ubuntu), then again"
    )
}

fn which(program: &str) -> bool {
    Command::new("which")
        .arg(program)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A Lua string literal holding `bytes` exactly.
fn lua_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
    out
}

/// The multipart body of `fields`.
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        let _ = write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let _ = write!(body, "--{BOUNDARY}--\r\n");
    body
}

/// The historico request body, for spot checks as well.
pub fn historico_body(cufe: &str) -> String {
    multipart(&[("cufe", cufe)])
}

/// The form of the `lector_cufe_tenedor_legitimo` run: one CUFE's holder.
pub fn lector_body(cufe: &str) -> String {
    multipart(&[
        ("documento_obligado", DOCUMENTO_OBLIGADO),
        ("lista_cufe", cufe),
    ])
}

/// The multipart content type of every form the bench sends.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

const DONE: &str = r#"
done = function(summary, latency, requests)
  io.write(string.format(
    "XTASK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#;

/// The acuse body split around its CUFE: `(before, after)`.
pub fn acuse_parts(root: &Path) -> Result<(String, String)> {
    let path = root.join(ACUSE_FIXTURE);
    let data =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&data)?;
    let cufe = value["evento"][0]["informacion_documento_referencia"]["cufe"]
        .as_str()
        .context("the fixture names no CUFE")?;
    const MARK: &str = "@@CUFE@@";
    let body = multipart(&[
        ("data", &data.replacen(cufe, MARK, 1)),
        ("documento_obligado", DOCUMENTO_OBLIGADO),
    ]);
    let (before, after) = body.split_once(MARK).context("no CUFE mark")?;
    Ok((before.to_owned(), after.to_owned()))
}

/// The CUFE the acuse script sends as request `counter` (from 1) of wrk thread `thread`
/// (from 1): an 80-hex nonce, then thread and counter as 8 hex digits each.
pub fn acuse_cufe(nonce: &str, thread: u32, counter: u32) -> String {
    format!("{nonce}{thread:08x}{counter:08x}")
}

/// The embedded default configuration (`src/config/default.toml`) plus a copy of the seed
/// history's events under [`HISTORY_CUFE`].
pub fn history_config(root: &Path) -> Result<String> {
    let path = root.join("src/config/default.toml");
    let default =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut config = default.clone();
    let mut copied = 0;
    for (start, _) in default.match_indices("\n[[afacturar.events]]") {
        let block = &default[start + 1..];
        // The block runs to the next table header.
        let end = block[1..].find("\n[").map_or(block.len(), |i| i + 1);
        let block = &block[..end];
        if block.contains(SEED_HISTORY_CUFE) {
            config.push('\n');
            config.push_str(&block.replace(SEED_HISTORY_CUFE, HISTORY_CUFE));
            copied += 1;
        }
    }
    if copied == 0 {
        bail!("{} holds no event of the seed history", path.display());
    }
    Ok(config)
}

/// Writes the script of `route` into `dir`; `nonce` (80 hex digits) makes the acuse CUFEs of
/// this run unlike any other run's.
pub fn write_script(dir: &Path, route: Route, root: &Path, nonce: &str) -> Result<PathBuf> {
    let content_type = multipart_type();
    let mut script = String::new();
    match route {
        Route::Saldos => {
            let _ = write!(
                script,
                "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"RCApiKey\"] = \"k\"\n",
                lua_string(br#"{"MesConsulta":"2019-11"}"#)
            );
        }
        Route::HistoricoEventos => {
            let _ = write!(
                script,
                "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"{content_type}\"\nwrk.headers[\"Authorization\"] = \"Bearer t\"\nwrk.headers[\"Accept\"] = \"application/json\"\n",
                lua_string(historico_body(HISTORY_CUFE).as_bytes())
            );
        }
        Route::LectorCufeTenedorLegitimo => {
            let _ = write!(
                script,
                "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"{content_type}\"\nwrk.headers[\"Authorization\"] = \"Bearer t\"\nwrk.headers[\"Accept\"] = \"application/json\"\n",
                lua_string(lector_body(HISTORY_CUFE).as_bytes())
            );
        }
        Route::AcuseReciboFev => {
            let (before, after) = acuse_parts(root)?;
            assert_eq!(nonce.len(), 80, "the nonce is 80 hex digits");
            let _ = write!(
                script,
                r#"local before = {before}
local after = {after}
local nonce = "{nonce}"
local counter = 0
local threads = 0
local headers = {{
  ["Content-Type"] = "{content_type}",
  ["Authorization"] = "Bearer t",
  ["Accept"] = "application/json",
}}
-- Runs in the main Lua state once per thread: each thread gets its number as global `tid`.
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
-- A fresh CUFE per request: 80 hex of nonce, then thread and counter as 8 hex each.
request = function()
  counter = counter + 1
  local cufe = nonce .. string.format("%08x%08x", tid, counter)
  return wrk.format("POST", nil, headers, before .. cufe .. after)
end
"#,
                before = lua_string(before.as_bytes()),
                after = lua_string(after.as_bytes()),
            );
        }
    }
    script.push_str(DONE);
    let path = dir.join(format!("{}.lua", route.name()));
    std::fs::write(&path, script)?;
    Ok(path)
}

/// Runs wrk against `http://ADDRESS/route` and parses its `XTASK` line; the whole output is
/// saved beside the script.
pub fn run(
    script: &Path,
    address: &str,
    route: Route,
    threads: u32,
    connections: u32,
    seconds: u64,
    log: &Path,
) -> Result<Run> {
    assert!(
        address.starts_with("127.")
            || address.starts_with("[::1]")
            || address.starts_with("localhost"),
        "wrk is aimed at loopback only, not {address}"
    );
    let output = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--timeout")
        .arg("5s")
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(format!("http://{address}{}", route.path()))
        .output()
        .context("running wrk")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    std::fs::write(log, format!("{stdout}{stderr}"))?;
    if !output.status.success() {
        bail!("wrk failed ({}): {stdout}{stderr}", output.status);
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("XTASK "))
        .with_context(|| format!("no XTASK line in wrk's output: {stdout}{stderr}"))?;
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    Ok(Run {
        requests: field("requests") as u64,
        duration_us: field("duration_us") as u64,
        http_errors: field("status_errors") as u64,
        socket_errors: (field("connect") + field("read") + field("write") + field("timeout"))
            as u64,
        p50_us: field("p50_us"),
        p99_us: field("p99_us"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_strings_keep_every_byte() {
        assert_eq!(lua_string(b"a\"b\\\r\n\t"), r#""a\"b\\\r\n\t""#);
        assert_eq!(lua_string("ó".as_bytes()), r#""\195\179""#);
    }

    #[test]
    fn the_history_config_copies_the_seed_history_under_a_well_formed_cufe() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let config = history_config(&root).unwrap();
        assert_eq!(HISTORY_CUFE.len(), 96);
        assert!(HISTORY_CUFE.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(config.matches(HISTORY_CUFE).count(), 3);
        assert_eq!(
            config.matches(SEED_HISTORY_CUFE).count(),
            3 + 3,
            "the seed's events stay, and each copy's CUFE starts with the seed's"
        );
    }

    #[test]
    fn acuse_cufes_are_96_hex_digits() {
        let cufe = acuse_cufe(&"0".repeat(80), 2, 0x1234);
        assert_eq!(cufe.len(), 96);
        assert!(cufe.ends_with("0000000200001234"));
    }
}
