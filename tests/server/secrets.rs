//! Secrets stay secret: tokens masked whole in the journal, webhook passwords in neither logs
//! nor journal, the TLS key private.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::Form;
use serde_json::{json, Value};

use super::start_serving;
use super::{acuse, block_on, client, deterministic_config, ejemplo_1_with, BIN};
use einvoice_mock::FakeProvider;

#[tokio::test]
async fn a_short_token_is_masked_whole_in_the_journal() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    acuse(&fake, ejemplo_1_with(&"8".repeat(96), None), "abcd")
        .send()
        .await
        .unwrap();
    let journal = fake.requests();
    assert_eq!(journal[0].credential.as_deref(), Some("****"));
}

#[test]
fn a_webhook_password_appears_neither_in_the_logs_nor_in_the_journal() {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--port", "0"])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped());
    let (child, url) = start_serving(command);
    let (journal, deliveries) = block_on(async {
        let http = client();
        http.post(format!("{url}/__admin/scenarios"))
            .json(
                &json!({ "operation": "acuse_recibo_fev", "respond": "28", "webhook_delay_ms": 0 }),
            )
            .send()
            .await
            .unwrap();
        let hook = "https://hook-user:hunter2-s3cret@127.0.0.1:1/hook";
        http.post(format!("{url}/api/radian/acuse_recibo_fev"))
            .header("Authorization", "Bearer token_cliente")
            .multipart(
                Form::new()
                    .text("data", ejemplo_1_with(&"9".repeat(96), Some(hook)))
                    .text("documento_obligado", "830020470"),
            )
            .send()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let deliveries: Value = http
                .get(format!("{url}/__admin/webhooks"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if deliveries["deliveries"].get(0).is_some() {
                let journal = http
                    .get(format!("{url}/__admin/requests"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                break (journal, deliveries);
            }
            assert!(Instant::now() < deadline, "no delivery attempt");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("webhook not delivered"), "{logs}");
    for (what, text) in [
        ("logs", logs.to_string()),
        ("journal", journal),
        ("deliveries", deliveries.to_string()),
    ] {
        assert!(!text.contains("hunter2"), "{what}: {text}");
    }
    assert_eq!(
        deliveries["deliveries"][0]["url"],
        "https://****@127.0.0.1:1/hook"
    );
}

#[cfg(unix)]
#[test]
fn serve_tls_without_a_data_dir_keeps_its_key_0600_in_a_private_directory() {
    use std::io::BufRead as _;
    use std::os::unix::fs::PermissionsExt as _;
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--tls"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let certificate =
        std::path::PathBuf::from(second.trim().strip_prefix("certificate: ").unwrap());
    let dir = certificate.parent().unwrap().to_path_buf();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let (dir_mode, key_mode) = (mode(&dir), mode(&dir.join("key.pem")));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!((dir_mode, key_mode), (0o700, 0o600));
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert!(
        !name.contains(&child.id().to_string()),
        "the name is not predictable from the pid: {name}"
    );
    assert!(!dir.exists(), "removed at shutdown");
}
