//! `einvoice-mock`: thin entry point. Exit status: 0 ok, 1 contract violations, 2 error.

use std::process::ExitCode;

use clap::Parser;
use einvoice_mock::cli::{self, Cli, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let flush_on_exit = cli::init_logs(cli.log_format);
    let outcome = cli::run(cli);
    // The last log lines go out before the error line.
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
