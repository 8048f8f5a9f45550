//! `einvoice-mock`: thin entry point. Exit status: 0 ok, 1 contract violations, 2 error.

use std::process::ExitCode;

use clap::Parser;
use einvoice_mock::cli::{self, Cli, Command, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(cli) {
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
    }
}
