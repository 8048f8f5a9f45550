//! `einvoice-mock`: thin entry point. Exit status: 0 ok, 1 contract violations, 2 error.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use einvoice_mock::cli::{self, Cli, Command, LogFormat, Outcome};
use einvoice_mock::internals::logging::{BatchedWriter, LogTime, RequestLines};
use einvoice_mock::internals::server::log_request_lines_with;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One line per request, written to stderr in batches (see `logging`); the guard writes
    // what is left at exit.
    let (writer, flush_on_exit) = BatchedWriter::stderr();
    let ansi = std::io::stderr().is_terminal();
    let request_lines = writer.clone();
    let logs = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(ansi)
        .with_timer(LogTime)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        );
    match cli.log_format {
        LogFormat::Text => {
            logs.event_format(RequestLines::new(
                tracing_subscriber::fmt::format().with_timer(LogTime),
                LogTime,
            ))
            .init();
            // The request line in plain text, written as the format above writes it, without
            // the event (colours are the format's own).
            if !ansi {
                log_request_lines_with(move |line| request_lines.write_request_line(line));
            }
        }
        LogFormat::Json => logs.json().init(),
    }
    let outcome = run(cli);
    drop(flush_on_exit);
    match outcome {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Violations) => ExitCode::from(1),
        Err(error) => {
            eprintln!("einvoice-mock: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Validate(args) => Ok(cli::validate(&args, &mut std::io::stdout().lock())?),
        Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            Ok(runtime.block_on(cli::serve(&args))?)
        }
        Command::Proxy(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            Ok(runtime.block_on(cli::proxy(&args))?)
        }
        Command::Openapi => {
            use std::io::Write as _;
            let document = einvoice_mock::openapi_json()?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(document.as_bytes())?;
            stdout.flush()?;
            Ok(Outcome::Ok)
        }
    }
}
