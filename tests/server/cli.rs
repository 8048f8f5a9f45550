//! The binary: `validate` exit codes and reports, `serve` start-up and shutdown.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::{block_on, start_serving, BIN};

fn fixture_path(path: &str) -> String {
    format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn validate_accepts_the_documents_ejemplo_1_with_exit_0() {
    let (code, stdout, _) = run(&[
        "validate",
        "acuse_recibo_fev",
        &fixture_path("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json"),
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("conforms to acuse_recibo_fev"));
}

#[test]
fn validate_reports_violations_with_exit_1_and_json_prints_the_providers_body() {
    let file = fixture_path(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    );
    let (code, stdout, _) = run(&["validate", "acuse_recibo_fev", &file]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("2 violations of acuse_recibo_fev"),
        "{stdout}"
    );

    let (code, stdout, _) = run(&["validate", "acuse_recibo_fev", "--format", "json", &file]);
    assert_eq!(code, 1);
    let body: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    let documented: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_path(
            "afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json",
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(body["resultado"], documented["resultado"]);
    assert_eq!(body["codigo_error"], 400);
}

#[test]
fn validate_json_prints_what_the_fake_answers_for_historico_and_a_whole_acuse_form() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-vjson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let answer = |operation: &str, name: &str, text: &str| {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let (code, stdout, _) = run(&[
            "validate",
            operation,
            "--format",
            "json",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{stdout}");
        serde_json::from_str::<serde_json::Value>(&stdout).expect("JSON output")
    };
    let body = answer("historico_eventos", "historico.json", r#"{"cufe":"abc"}"#);
    assert_eq!(body["codigo_error"], 12, "{body}");
    assert_eq!(body["resultado"], serde_json::json!([]), "{body}");
    // Seed 001's own CUFE (95 characters: it breaks the contract) has the seed's history in
    // the embedded configuration, and the fake answers it: so does validate.
    let seed_001 = r#"{"cufe":"aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137"}"#;
    let body = answer("historico_eventos", "seed001.json", seed_001);
    assert_eq!(body["codigo_error"], 0, "{body}");
    assert_eq!(body["resultado"].as_array().unwrap().len(), 3, "{body}");

    let data = std::fs::read_to_string(fixture_path(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    ))
    .unwrap();
    let whole = serde_json::json!({ "documento_obligado": "830020470", "data": data });
    let body = answer("acuse_recibo_fev", "form.json", &whole.to_string());
    assert_eq!(body["codigo_error"], 400, "{body}");
    let transaccion = body["transaccion"].as_str().unwrap();
    assert!(transaccion.starts_with("ODMwMDIwNDcw"), "{transaccion}");
    // A form the fake cannot use (its `data` is not JSON) keeps the prefix too.
    let broken = serde_json::json!({ "documento_obligado": "830020470", "data": "{x" });
    let body = answer("acuse_recibo_fev", "broken.json", &broken.to_string());
    assert_eq!(body["codigo_error"], 400, "{body}");
    let transaccion = body["transaccion"].as_str().unwrap();
    assert!(transaccion.starts_with("ODMwMDIwNDcw"), "{transaccion}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_reads_a_data_document_with_a_data_key_as_php_does_not_as_a_whole_form() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-vdata-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let resultado = |name: &str, text: &str| {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let (code, stdout, _) = run(&[
            "validate",
            "acuse_recibo_fev",
            "--format",
            "json",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{stdout}");
        let body: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
        body["resultado"].clone()
    };
    let mut data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_path(
            "afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json",
        ))
        .unwrap(),
    )
    .unwrap();
    data["data"] = serde_json::json!("x");
    assert_eq!(
        resultado("with-data.json", &data.to_string()),
        serde_json::json!([{
            "propiedad": "",
            "descripcion": "The property data is not defined and the definition does not allow additional properties"
        }])
    );
    // The file is decoded as PHP's json_decode decodes `data`: 511 levels are a document,
    // `1e400` a float, 512 levels PHP's own error.
    let deep = format!("{}{}", "[".repeat(511), "]".repeat(511));
    assert_eq!(
        resultado("deep.json", &deep),
        serde_json::json!([{ "propiedad": "", "descripcion": "Array value found, but an object is required" }])
    );
    assert_eq!(
        resultado("inf.json", "1e400"),
        serde_json::json!([{ "propiedad": "", "descripcion": "Double value found, but an object is required" }])
    );
    assert_eq!(
        resultado("deeper.json", &"[".repeat(512)),
        serde_json::json!([{ "propiedad": "data", "descripcion": "Maximum stack depth exceeded" }])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_reads_standard_input_and_prints_sovos_errors() {
    let mut child = Command::new(BIN)
        .args(["validate", "saldos", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"MesConsulta":"2019-13"}"#)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["errors"][0]["Code"], "400-001");
}

#[test]
fn validate_exits_2_on_a_missing_file_or_an_unknown_operation() {
    let (code, _, stderr) = run(&["validate", "saldos", "/no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read /no/such/file.json"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["validate", "facturas", "x.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown operation"), "{stderr}");
}

#[test]
fn serve_prints_its_address_first_answers_and_stops_on_sigterm() {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--port", "0"])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    let (mut child, url) = start_serving(command);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let status = block_on(async {
        super::client()
            .post(format!("{url}/api/rest/Timbre/saldos"))
            .header("RCApiKey", "k")
            .json(&serde_json::json!({ "MesConsulta": "2019-11" }))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "graceful shutdown exits 0");
}

#[test]
fn serve_refuses_a_broken_configuration_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("broken.toml");
    std::fs::write(&config, "[afacturar]\ntokens = [\"\"]\n").unwrap();
    let (code, _, stderr) = run(&["serve", "--port", "0", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid configuration"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_fails_on_violation_at_shutdown_and_writes_a_junit_report() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("report.xml");
    let output = serve_and_send_two_saldos(
        &["--fail-on-violation", "--junit", junit.to_str().unwrap()],
        Some("warn"),
    );
    assert_eq!(output.status.code(), Some(1), "a violation fails the run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 of 2 requests broke the contract"),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert!(xml.contains("/MesConsulta [pattern]"), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reset_neither_hides_a_violation_from_the_ci_gate_nor_drops_it_from_the_junit_report() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-reset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("report.xml");
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--port",
            "0",
            "--fail-on-violation",
            "--journal-capacity",
            "1",
        ])
        .args(["--junit", junit.to_str().unwrap()])
        .env("RUST_LOG", "error")
        .stderr(Stdio::piped());
    let (child, url) = start_serving(command);
    block_on(async {
        let saldos = |month: &'static str| {
            super::client()
                .post(format!("{url}/api/rest/Timbre/saldos"))
                .header("RCApiKey", "k")
                .json(&serde_json::json!({ "MesConsulta": month }))
                .send()
        };
        saldos("2019-13").await.unwrap();
        saldos("2019-11").await.unwrap();
        let reset = super::client()
            .post(format!("{url}/__admin/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(reset.status(), 204);
        saldos("2019-11").await.unwrap();
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("1 of 3 requests broke the contract"),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert!(xml.contains("/MesConsulta [pattern]"), "{xml}");
    assert!(xml.ends_with("</testsuites>\n"), "{xml}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "only the report is left: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_dir_seeded_from_another_configuration_is_restored_with_a_warning() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-reseed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let other = dir.join("other.toml");
    std::fs::write(
        &other,
        "[[sovos.accounts]]\ncuenta = \"Otra\"\ntipo_consumo = \"Prepago\"\n\
         rfcs = [{ rfc = \"AAA010101AAA\", estado = \"Autorizado\" }]\n",
    )
    .unwrap();
    let data_dir = ["--data-dir", data.to_str().unwrap()];
    let warning = "seeded from another configuration";
    let stderr = |args: &[&str]| {
        let output = serve_and_send_two_saldos(args, Some("warn"));
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let first = stderr(&data_dir);
    assert!(!first.contains(warning), "a fresh data dir: {first}");
    let again = stderr(&data_dir);
    assert!(!again.contains(warning), "the same configuration: {again}");
    let changed = stderr(&[&data_dir[..], &["--config", other.to_str().unwrap()]].concat());
    assert!(changed.contains(warning), "{changed}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_serve_that_fails_at_start_leaves_no_partial_junit_report() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-failed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("report.xml");
    let missing = dir.join("missing.pem");
    let (code, _, stderr) = run(&[
        "serve",
        "--port",
        "0",
        "--junit",
        junit.to_str().unwrap(),
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_a_journal_capacity_of_zero() {
    let (code, _, stderr) = run(&["serve", "--port", "0", "--journal-capacity", "0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("must be at least 1"), "{stderr}");
}

#[test]
fn serve_tls_answers_https_with_a_self_signed_certificate_it_prints() {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--tls"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{first}");
    let certificate = second
        .trim()
        .strip_prefix("certificate: ")
        .expect("second line names the certificate");
    let pem = std::fs::read(certificate).unwrap();

    let (trusted, untrusted) = block_on(async {
        let url = url.replace("127.0.0.1", "localhost");
        let trusting = reqwest::Client::builder()
            .no_proxy()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let trusted = trusting
            .post(format!("{url}/api/rest/Timbre/saldos"))
            .header("RCApiKey", "k")
            .json(&serde_json::json!({ "MesConsulta": "2019-11" }))
            .send()
            .await
            .unwrap()
            .status();
        let untrusted = super::client()
            .get(format!("{url}/__admin/health"))
            .send()
            .await;
        (trusted, untrusted)
    });
    assert_eq!(trusted, 200);
    assert!(
        untrusted.is_err(),
        "a client that does not trust the certificate is refused"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let generated = std::path::Path::new(certificate);
    assert!(
        !generated.exists(),
        "a certificate generated outside a data dir is removed at shutdown"
    );
}

/// Runs `serve --port 0 args…` (with `RUST_LOG` set to `rust_log`, or unset), sends a
/// conforming and a contract-breaking `saldos`, stops it with SIGTERM and returns its output.
fn serve_and_send_two_saldos(args: &[&str], rust_log: Option<&str>) -> std::process::Output {
    let mut command = Command::new(BIN);
    command.args(["serve", "--port", "0"]).args(args);
    match rust_log {
        Some(level) => command.env("RUST_LOG", level),
        None => command.env_remove("RUST_LOG"),
    };
    command.stderr(Stdio::piped());
    let (child, url) = start_serving(command);
    block_on(async {
        for month in ["2019-11", "2019-13"] {
            super::client()
                .post(format!("{url}/api/rest/Timbre/saldos"))
                .header("RCApiKey", "k")
                .json(&serde_json::json!({ "MesConsulta": month }))
                .send()
                .await
                .unwrap();
        }
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait_with_output().unwrap()
}

/// [`serve_and_send_two_saldos`] with the default log level; what it wrote to stderr.
fn serve_two_requests_and_read_the_log(args: &[&str]) -> String {
    let output = serve_and_send_two_saldos(args, None);
    assert_eq!(output.status.code(), Some(0));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_logs_one_json_line_per_request_with_operation_status_verdict_and_latency() {
    let log = serve_two_requests_and_read_the_log(&["--log-format", "json"]);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let requests: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 2, "{log}");
    for (line, (status, verdict)) in requests.iter().zip([(200, "conforms"), (400, "violates")]) {
        let fields = &line["fields"];
        assert_eq!(fields["operation"], "saldos", "{line}");
        assert_eq!(fields["status"], status, "{line}");
        assert_eq!(fields["verdict"], verdict, "{line}");
        assert!(fields["latency_ms"].as_f64().is_some(), "{line}");
        assert_eq!(line["level"], "INFO", "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "stopped"),
        "the last line is written at exit: {log}"
    );
}

#[test]
fn serve_logs_readable_text_by_default() {
    let log = serve_two_requests_and_read_the_log(&[]);
    let requests: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(": request method="))
        .collect();
    assert_eq!(requests.len(), 2, "{log}");
    for line in requests {
        assert!(line.contains("INFO"), "{line}");
        assert!(line.contains("operation=\"saldos\""), "{line}");
        assert!(line.contains("latency_ms="), "{line}");
        assert!(
            !line.contains('\u{1b}'),
            "no colour codes when stderr is not a terminal: {line}"
        );
    }
    assert!(log.contains("status=200"), "{log}");
    assert!(log.contains("status=400"), "{log}");
}

/// A scratch directory for one test, removed by the caller.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The one error line the binary prints, with exit status 2.
fn error_of(args: &[&str]) -> String {
    let (code, _, stderr) = run(args);
    assert_eq!(code, 2, "{stderr}");
    stderr
}

#[test]
fn an_unreadable_file_is_reported_with_the_os_message_once() {
    let missing = "/no/such/einvoice-mock-input.json";
    let os = std::fs::read_to_string(missing).unwrap_err().to_string();
    let stderr = error_of(&["validate", "saldos", missing]);
    assert_eq!(
        stderr,
        format!("einvoice-mock: cannot read {missing}: {os}\n")
    );

    let missing = "/no/such/einvoice-mock.toml";
    let stderr = error_of(&["serve", "--port", "0", "--config", missing]);
    assert_eq!(
        stderr,
        format!("einvoice-mock: cannot read {missing}: {os}\n")
    );
}

#[test]
fn a_configuration_error_prints_the_toml_error_once() {
    let dir = scratch("bogus-config");
    let config = dir.join("c1.toml");
    std::fs::write(&config, "bogus = 1\n").unwrap();
    let stderr = error_of(&["serve", "--port", "0", "--config", config.to_str().unwrap()]);
    assert!(
        stderr.starts_with("einvoice-mock: invalid configuration: TOML parse error at line 1"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("TOML parse error").count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("unknown field `bogus`").count(),
        1,
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_port_in_use_is_reported_with_the_address_and_suggests_port_0() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let os = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_err()
        .to_string();
    let stderr = error_of(&["serve", "--port", &port.to_string()]);
    assert_eq!(
        stderr,
        format!(
            "einvoice-mock: cannot listen on 127.0.0.1:{port} (the port is in use: --port 0 \
             picks a free one, printed on the first line): {os}\n"
        )
    );
    let stderr = error_of(&[
        "proxy",
        "--target",
        "http://127.0.0.1:9",
        "--port",
        &port.to_string(),
    ]);
    assert!(
        stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port} (the port is in use"
        )),
        "{stderr}"
    );
    drop(taken);
}

#[test]
fn a_data_dir_that_cannot_be_created_is_reported_with_the_os_message_once() {
    let dir = scratch("data-dir-file");
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let data_dir = file.join("data");
    let os = std::fs::create_dir_all(&data_dir).unwrap_err().to_string();
    let stderr = error_of(&[
        "serve",
        "--port",
        "0",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        stderr,
        format!(
            "einvoice-mock: invalid configuration: server.data_dir: cannot create the data directory {}: {os}\n",
            data_dir.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_field_that_is_not_json_is_reported_with_its_position_once() {
    let dir = scratch("data-not-json");
    let form = dir.join("form.json");
    std::fs::write(
        &form,
        r#"{"documento_obligado": "888888888", "data": "{x"}"#,
    )
    .unwrap();
    let (code, stdout, _) = run(&["validate", "acuse_recibo_fev", form.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "{}: the `data` field is not JSON: key must be a string at line 1 column 2\n",
            form.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn proxy_help_describes_config_and_data_dir_as_the_proxy_uses_them() {
    let (code, proxy, _) = run(&["proxy", "--help"]);
    assert_eq!(code, 0);
    let option = |help: &str, name: &str| -> String {
        let start = help
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {help}"));
        let rest = &help[start + name.len()..];
        rest[..rest.find("\n      -").unwrap_or(rest.len())].to_owned()
    };
    let config = option(&proxy, "--config <FILE>");
    assert!(config.contains("The real provider"), "{config}");
    assert!(!config.contains("example data"), "{config}");
    let data_dir = option(&proxy, "--data-dir <DIR>");
    assert!(data_dir.contains("DIR/tls"), "{data_dir}");
    assert!(
        !data_dir.contains("so that it survives restarts"),
        "{data_dir}"
    );

    let (code, serve, _) = run(&["serve", "--help"]);
    assert_eq!(code, 0);
    assert!(
        option(&serve, "--config <FILE>").contains("seed events"),
        "{serve}"
    );
    assert!(
        option(&serve, "--data-dir <DIR>").contains("survives restarts"),
        "{serve}"
    );
}

#[test]
fn validate_help_says_what_each_operations_file_holds() {
    let (code, help, _) = run(&["validate", "--help"]);
    assert_eq!(code, 0);
    // The long help, before the usage line and the possible values of OPERATION.
    let about = &help[..help.find("Usage:").expect("a usage line")];
    let named: Vec<&str> = about
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    for operation in einvoice_mock::Operation::ALL {
        let times = named.iter().filter(|w| **w == operation.name()).count();
        assert_eq!(times, 1, "{operation} in:\n{about}");
    }
    assert!(
        about.contains("the event operations (acuse_recibo_fev, recibo_bien_servicio, reclamo)"),
        "{about}"
    );
    assert!(
        about.contains("the JSON body of saldos, saldos_pdf and saldos_csv."),
        "{about}"
    );
}

/// Texts of the validation engine that no user should read in a finding.
const ENGINE_WORDS: [&str; 4] = ["(not)", "(enum)", "other candidates", "is not one of"];

fn assert_in_provider_words(text: &str) {
    for word in ENGINE_WORDS {
        assert!(!text.contains(word), "`{word}` in:\n{text}");
    }
}

#[test]
fn validate_words_findings_as_the_provider_or_in_plain_language_never_as_the_engine() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-words-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let report = write(
        "report.json",
        r#"{"MesConsulta": "2019-11", "RFCConsulta": "AAA010101AAA"}"#,
    );
    let (code, stdout, _) = run(&["validate", "saldos_csv", &report]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("400-002: No es necesario mandar el 'RFCConsulta'"),
        "{stdout}"
    );
    assert_in_provider_words(&stdout);
    let mut data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_path(
            "afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json",
        ))
        .unwrap(),
    )
    .unwrap();
    data["evento"][0]["quien_recibio_documento"]["tipo_identificacion"] = serde_json::json!(0);
    data["generalidades"]["tipo_ambiente_dian"] = serde_json::json!(3);
    let acuse = write("acuse.json", &data.to_string());
    let (code, stdout, _) = run(&["validate", "acuse_recibo_fev", &acuse]);
    assert_eq!(code, 1);
    assert!(stdout.contains("must be one of 11, 12, 13"), "{stdout}");
    assert_in_provider_words(&stdout);
    let (_, stdout, _) = run(&["validate", "acuse_recibo_fev", "--format", "json", &acuse]);
    assert_in_provider_words(&stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `validate --format json` reads a `data` file's bytes as the fake reads the `data` field of
/// a request: for each payload, its answer is the fake's over HTTP (the volatile fields aside).
#[tokio::test]
async fn validate_answers_a_data_file_exactly_as_the_fake_answers_its_bytes_over_http() {
    let ejemplo = super::fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
    let seed_003 = super::fixture(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    );
    let with_byte = |byte: &[u8]| {
        let mut bytes = ejemplo.clone().into_bytes();
        let at = ejemplo.find("Prueba").unwrap();
        bytes.splice(at..at, byte.iter().copied());
        bytes
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("the document's example", ejemplo.clone().into_bytes()),
        ("seed 003's semantic error", seed_003.into_bytes()),
        (
            "a UTF-8 byte order mark",
            [b"\xef\xbb\xbf", ejemplo.as_bytes()].concat(),
        ),
        ("an invalid byte", with_byte(b"\xff")),
        ("an overlong slash", with_byte(b"\xc0\xaf")),
        ("a CESU-8 surrogate", with_byte(b"\xed\xa0\x80")),
        ("not JSON", b"{evento: []}".to_vec()),
    ];
    let dir = std::env::temp_dir().join(format!(
        "einvoice-mock-validate-http-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let essentials = |body: &serde_json::Value| {
        serde_json::json!([
            body["codigo_error"],
            body["descripcion_error"],
            body["resultado"]
        ])
    };
    for (case, bytes) in cases {
        // A fresh fake for each: the example registers an event.
        let fake = einvoice_mock::FakeProvider::start().await;
        let file = dir.join("data.json");
        std::fs::write(&file, &bytes).unwrap();
        let (code, stdout, stderr) = run(&[
            "validate",
            "acuse_recibo_fev",
            "--format",
            "json",
            file.to_str().unwrap(),
        ]);
        let form = reqwest::multipart::Form::new()
            .text("documento_obligado", "888888888")
            .part("data", reqwest::multipart::Part::bytes(bytes));
        let answer: serde_json::Value = super::client()
            .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
            .header("Authorization", "Bearer t")
            .header("Accept", "application/json")
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if answer["codigo_error"] == 0 {
            // A conforming payload: nothing to print, exit 0.
            assert_eq!((code, stdout.as_str()), (0, ""), "{case}: {stderr}");
            continue;
        }
        let validated: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{case}: {e}: {stdout}{stderr}"));
        assert_eq!(essentials(&validated), essentials(&answer), "{case}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_refuses_a_file_larger_than_a_request_body_may_be() {
    let (code, _, stderr) = run(&["validate", "saldos", "/dev/zero"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the most a request body may hold"),
        "{stderr}"
    );
}
