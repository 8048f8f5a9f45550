//! Documentation that states an outcome is executed: what the README and ARCHITECTURE.md say
//! about the operations, the toolchain and the repository's files is checked against the code
//! and the tree. (The README's Rust examples are doctests: `src/lib.rs`, `ReadmeExamples`;
//! its validator snippet is built from outside by `.ci/validator-alone.sh`.)

use std::path::{Path, PathBuf};

use einvoice_mock::internals::openapi;
use einvoice_mock::internals::respond::documented_answers;
use einvoice_mock::Operation;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

const NUMBER_WORDS: [&str; 13] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];

/// The scenario codes table, as the operation table gives it.
fn scenario_codes_table() -> String {
    Operation::ALL
        .iter()
        .map(|&op| {
            let codes: Vec<String> = documented_answers(op)
                .into_iter()
                .skip(1) // the success is what an unarmed fake answers
                .map(|code| format!("`{code}`"))
                .collect();
            format!("| {} | {} |\n", op.name(), codes.join(", "))
        })
        .collect()
}

#[test]
fn the_readme_lists_each_operations_scenario_codes_as_the_operation_table_has_them() {
    let readme = read("README.md");
    let begin = "<!-- scenario-codes: generated from the operation table; tests/docs/mod.rs checks it -->\n| operation | `respond` |\n| --- | --- |\n";
    let start = readme.find(begin).expect("the scenario-codes block") + begin.len();
    let end = start
        + readme[start..]
            .find("<!-- scenario-codes: end -->")
            .unwrap();
    let expected = scenario_codes_table();
    assert_eq!(
        &readme[start..end],
        expected,
        "README.md's scenario codes drifted from the operation table; the block should read:\n{expected}"
    );
}

/// The operation counts a text states: "the N operations", "N documented operations", "of N
/// operations" (across line breaks and comment markers), each as its number and its words.
fn operation_counts(text: &str) -> Vec<(usize, String)> {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !w.starts_with("//") && *w != "*")
        .collect();
    let mut counts = Vec::new();
    for triple in words.windows(3) {
        let number = triple[0].trim_start_matches(['(', '`']).to_lowercase();
        let Some(n) = NUMBER_WORDS.iter().position(|w| *w == number) else {
            continue;
        };
        if triple[1].starts_with("operations")
            || (triple[1] == "documented" && triple[2].starts_with("operations"))
        {
            counts.push((n, triple.join(" ")));
        }
    }
    counts
}

#[test]
fn every_count_of_the_operations_in_the_docs_and_help_texts_is_the_operation_tables() {
    let count = Operation::ALL.len();
    let mut files = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    files.extend(rust_files(&root().join("src")));
    files.extend(markdown_files(&root().join("docs")));
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, words) in operation_counts(&text) {
            if n != count {
                wrong.push(format!("{}: {words}", file.display()));
            }
        }
    }
    // Texts that state the count from the table: the OpenAPI document's summary and
    // `openapi`'s help.
    let document = openapi::document().unwrap();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_einvoice-mock"))
        .args(["openapi", "--help"])
        .output()
        .unwrap();
    let generated = [
        document["info"]["summary"].as_str().unwrap().to_owned(),
        String::from_utf8(help.stdout).unwrap(),
    ];
    for text in generated {
        let counts = operation_counts(&text);
        if counts.is_empty() || counts.iter().any(|(n, _)| *n != count) {
            wrong.push(format!("generated: {text}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "there are {} operations: {wrong:#?}",
        NUMBER_WORDS[count]
    );
}

#[test]
fn the_minimum_rust_version_is_stated_once_and_is_cargo_tomls() {
    let manifest = read("Cargo.toml");
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("rust-version in Cargo.toml");
    let readme = read("README.md");
    let stated: Vec<&str> = readme
        .match_indices("Rust 1.")
        .map(|(at, _)| readme[at + 5..].split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        stated,
        [msrv],
        "README.md states the MSRV once, as Cargo.toml's"
    );
}

/// Paths named in backticks: the README, ARCHITECTURE.md, `docs/`, and comments in `src/`.
#[test]
fn every_repository_path_the_docs_and_comments_name_exists_and_none_points_outside() {
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut sources: Vec<(PathBuf, String)> = ["README.md", "ARCHITECTURE.md"]
        .iter()
        .map(|f| (root().join(f), read(f)))
        .collect();
    for file in markdown_files(&root().join("docs")) {
        let text = std::fs::read_to_string(&file).unwrap();
        sources.push((file, text));
    }
    for file in rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let comments: String = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("//"))
            .map(|l| format!("{l}\n"))
            .collect();
        sources.push((file, comments));
    }
    for (file, text) in sources {
        for path in backticked_paths(&text) {
            checked += 1;
            if path.starts_with("../") {
                // Other `../` paths are schema `$ref`s, relative to a schema.
                if path.starts_with("../shared") {
                    missing.push(format!(
                        "{}: `{path}` points outside the repository",
                        file.display()
                    ));
                }
                continue;
            }
            if !root().join(path.trim_end_matches('/')).exists() {
                missing.push(format!("{}: `{path}` does not exist", file.display()));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    assert!(
        checked > 50,
        "only {checked} paths found: the check lost its input"
    );
}

/// The backticked words that name a file or folder of the repository: a known top-level folder
/// or file, or a path up and out; placeholders (`<provider>`, `{a,b}`, `*`, `…`) are skipped.
fn backticked_paths(text: &str) -> Vec<&str> {
    const TOP: [&str; 14] = [
        "src/",
        "tests/",
        "docs/",
        "schemas/",
        "fixtures/",
        "xtask/",
        ".ci/",
        "openapi/",
        "benches/",
        "bench-baseline/",
        "npm/",
        "proptest-regressions/",
        ".github/",
        "../",
    ];
    const FILES: [&str; 8] = [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
        "Dockerfile",
        "pyproject.toml",
        "action.yml",
    ];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.contains([' ', '<', '{', '*', '…', '$', '\n']) && !w.contains(".."))
        .filter(|w| TOP.iter().any(|t| w.starts_with(t)) || FILES.contains(w))
        .chain(
            text.split('`')
                .skip(1)
                .step_by(2)
                .filter(|w| w.starts_with("../") && !w.contains(' ')),
        )
        .map(|w| w.split(['#', ':']).next().unwrap_or(w))
        .collect()
}

/// What users of the repository read or run never relies on the provider documents' folder,
/// which only the project's own workspace has beside the clone.
#[test]
fn no_document_source_or_script_names_the_folder_beside_the_clone() {
    let outside = ["..", "shared"].join("/");
    let mut files: Vec<PathBuf> = [
        "README.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
        "Cargo.toml",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    files.extend(markdown_files(&root().join("docs")));
    files.extend(rust_files(&root().join("src")));
    files.extend(files_with(&root().join(".ci"), "sh"));
    files.push(root().join(".ci/run"));
    let naming: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|text| text.contains(&outside)))
        .map(|f| f.display().to_string())
        .collect();
    assert!(naming.is_empty(), "{naming:#?}");
    assert!(files.len() > 50, "only {} files read", files.len());
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, "rs")
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, "md")
}

fn files_with(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_with(&path, extension));
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The README's five-minute tour, run as written against the binary: every `sh` block of the
/// section in one shell (the host replaced by the fake's), and every backticked fragment of a
/// comment under a `curl` found in that command's answer (`…` stands for any text).
#[test]
fn the_readme_tour_answers_what_it_says() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};

    let readme = read("README.md");
    let start = readme.find("## Five-minute tour").expect("the tour");
    let end = start + 3 + readme[start + 3..].find("\n## ").unwrap();
    let blocks: Vec<&str> = readme[start..end]
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let (serve, commands): (Vec<&str>, Vec<&str>) =
        blocks.iter().partition(|b| b.contains("cargo run"));
    assert_eq!(serve.len(), 1, "one block starts the fake");

    let dir = std::env::temp_dir().join(format!("einvoice-mock-tour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut fake = Command::new(env!("CARGO_BIN_EXE_einvoice-mock"))
        .args(["serve", "--port", "0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(fake.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let stated = serve[0].lines().find_map(|l| l.strip_prefix("# ")).unwrap();
    assert!(
        stated.starts_with("listening on http://127.0.0.1:")
            && url.starts_with("http://127.0.0.1:"),
        "{stated} / {first}"
    );

    // What each curl's comments promise, in order.
    let mut expected: Vec<Vec<String>> = Vec::new();
    for line in commands.iter().flat_map(|b| b.lines()) {
        if line.starts_with("curl ") {
            expected.push(Vec::new());
        } else if let (Some(comment), Some(last)) = (line.strip_prefix('#'), expected.last_mut()) {
            last.extend(comment.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    let script = format!(
        "set -e\ncurl() {{ command curl \"$@\"; echo; echo '@@@'; }}\n{}",
        commands.concat().replace("http://127.0.0.1:8787", &url)
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = fake.kill();
    let _ = fake.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let answers: Vec<&str> = stdout.split("@@@\n").collect();
    assert_eq!(
        answers.len(),
        expected.len() + 1,
        "one answer per curl: {stdout}"
    );
    let mut checked = 0;
    for (n, (answer, fragments)) in answers.iter().zip(&expected).enumerate() {
        for fragment in fragments {
            let mut rest = *answer;
            for part in fragment.split('…').filter(|p| !p.is_empty()) {
                let at = rest.find(part).unwrap_or_else(|| {
                    panic!(
                        "curl #{}: `{fragment}` is not in its answer:\n{answer}",
                        n + 1
                    )
                });
                rest = &rest[at + part.len()..];
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "only {checked} stated outcomes: the tour lost its comments"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
