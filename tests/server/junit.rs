//! The JUnit report a CI job reads: complete on disk while the fake runs and after kill -9,
//! and the README's CI script that starts the fake, runs the client and always stops it.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{block_on, client, start, BIN};

/// Checks that `xml` is one well-formed element tree (enough for the reports written here:
/// no comments, CDATA or doctype) and returns its element names in document order.
pub fn assert_well_formed_xml(xml: &str) -> Vec<String> {
    let mut rest = xml.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        let end = after.find("?>").expect("the declaration ends");
        rest = &after[end + 2..];
    }
    let mut open: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut roots = 0;
    loop {
        let Some(start) = rest.find('<') else {
            assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
            break;
        };
        let text = &rest[..start];
        assert!(!text.contains('>'), "a stray `>` in {text:?}");
        if open.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        }
        // The tag's end: the first `>` outside quotes.
        let tag_text = &rest[start + 1..];
        let mut quote = None;
        let end = tag_text
            .char_indices()
            .find(|&(_, c)| match quote {
                Some(q) if c == q => {
                    quote = None;
                    false
                }
                Some(_) => false,
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    false
                }
                None => c == '>',
            })
            .map(|(i, _)| i)
            .unwrap_or_else(|| {
                panic!(
                    "an unterminated tag: {:?}",
                    &tag_text[..tag_text.len().min(80)]
                )
            });
        let tag = &tag_text[..end];
        rest = &tag_text[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let expected = open
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(name.trim(), expected, "mismatched end tag");
        } else {
            let name: String = tag
                .trim_end_matches('/')
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            assert!(!name.is_empty(), "an empty tag");
            if open.is_empty() {
                roots += 1;
            }
            names.push(name.clone());
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    assert_eq!(roots, 1, "one root element");
    names
}

fn read_report(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_junit_report_is_complete_while_the_fake_runs_and_after_kill_9() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-junit9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("contract.xml");
    let (mut child, url) = start(&["serve", "--port", "0", "--junit", report.to_str().unwrap()]);
    // Valid from the start.
    let xml = read_report(&report);
    assert_well_formed_xml(&xml);
    assert!(xml.contains("tests=\"0\""), "{xml}");
    block_on(async {
        for month in ["2019-11", "2019-13", "2019-10"] {
            client()
                .post(format!("{url}/api/rest/Timbre/saldos"))
                .header("RCApiKey", "k")
                .json(&json!({ "MesConsulta": month }))
                .send()
                .await
                .unwrap();
        }
    });
    // Within a second of the last answer, the report on disk holds it.
    let deadline = Instant::now() + Duration::from_millis(1200);
    let xml = loop {
        let xml = read_report(&report);
        if xml.contains("tests=\"3\"") || Instant::now() > deadline {
            break xml;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let names = assert_well_formed_xml(&xml);
    assert_eq!(
        names.iter().filter(|n| *n == "testcase").count(),
        3,
        "{xml}"
    );
    assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<property name=\"coverage.saldos.answers\" value=\"2/6\"/>"),
        "{xml}"
    );

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after = read_report(&report);
    assert_well_formed_xml(&after);
    assert!(after.contains("tests=\"3\" failures=\"1\""), "{after}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_ci_snippet_stops_the_fake_and_leaves_a_valid_report_when_the_client_fails() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-snippet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!("{}/docs/ci/contract-tests.sh", env!("CARGO_MANIFEST_DIR"));
    // The README shows the script verbatim.
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        readme.contains(&text),
        "README.md must include docs/ci/contract-tests.sh verbatim"
    );

    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let client_tests =
        "curl -s -o /dev/null -X POST \"$EINVOICE_MOCK_URL/api/rest/Timbre/saldos\" \
        -H 'RCApiKey: k' -H 'Content-Type: application/json' -d '{\"MesConsulta\":\"2019-11\"}' \
        && echo 'a client test fails' && exit 3";
    let output = Command::new("bash")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("PATH", path)
        .env("CLIENT_TESTS", client_tests)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "the client's failure is the step's: {output:?}"
    );
    let xml = read_report(&dir.join("contract.xml"));
    assert_well_formed_xml(&xml);
    assert!(xml.contains("tests=\"1\" failures=\"0\""), "{xml}");
    // The fake was stopped, not left running: its shutdown line is in its log.
    let log = std::fs::read_to_string(dir.join("fake.log")).unwrap();
    assert!(log.contains("stopped"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_ci_snippet_fails_at_once_naming_the_cause_when_the_command_is_missing() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-nocmd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!("{}/docs/ci/contract-tests.sh", env!("CARGO_MANIFEST_DIR"));
    // A PATH with bash's own tools but no einvoice-mock.
    let output = Command::new("bash")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("PATH", "/usr/bin:/bin")
        .env("CLIENT_TESTS", "touch client-ran")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("einvoice-mock is not on PATH"), "{stderr}");
    assert!(
        !dir.join("client-ran").exists(),
        "the client ran without a fake"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_ci_snippet_fails_naming_the_cause_when_the_fake_does_not_start() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-nostart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A stand-in `einvoice-mock` that exits at once, as a bad configuration or a taken port do.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("einvoice-mock");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'error: port 8787 is in use' >&2\nexit 2\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = format!("{}/docs/ci/contract-tests.sh", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("CLIENT_TESTS", "touch client-ran")
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("einvoice-mock did not start"), "{stderr}");
    assert!(stderr.contains("port 8787 is in use"), "{stderr}");
    assert!(
        !dir.join("client-ran").exists(),
        "the client ran without a fake"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_wheel_is_a_maturin_bin_and_the_readme_shows_its_pytest_example_verbatim() {
    let root = env!("CARGO_MANIFEST_DIR");
    let pyproject = std::fs::read_to_string(format!("{root}/pyproject.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&pyproject).unwrap();
    assert_eq!(parsed["tool"]["maturin"]["bindings"].as_str(), Some("bin"));
    assert_eq!(
        parsed["build-system"]["build-backend"].as_str(),
        Some("maturin")
    );
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    for file in ["conftest.py", "test_saldos.py", "test_plugin.py"] {
        let text = std::fs::read_to_string(format!("{root}/docs/python/{file}")).unwrap();
        assert!(
            readme.contains(&text),
            "README.md must show docs/python/{file} verbatim"
        );
    }
    let run = std::fs::read_to_string(format!("{root}/.ci/run")).unwrap();
    assert!(run.contains("bash .ci/wheel-check.sh"));
    assert!(
        !readme.contains("github.com/<you>"),
        "no placeholder that looks real"
    );
}
