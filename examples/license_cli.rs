//! A stand-in for `hark license ...` until the binary wires it in: parses
//! `license <subcommand>`, calls [`hark::license::run_command`], prints its
//! text to stdout or one error line to stderr, and exits 0, 2 (usage) or 3
//! (license). `scripts/make-license-fixtures` uses it.

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hark::license::{self, LicenseCommand};

#[derive(Parser)]
#[command(
    name = "hark",
    about = "hark license tools (example stand-in for the hark binary)"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// License status and vendor tools.
    #[command(subcommand)]
    License(LicenseCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let Top::License(cmd) = cli.command;
    let env_token = std::env::var(license::LICENSE_TOKEN_ENV).ok();
    let now = time::OffsetDateTime::now_utc();
    match license::run_command(
        &cmd,
        env_token,
        Path::new(license::DEFAULT_LICENSE_PATH),
        now,
    ) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hark: error: {e}");
            ExitCode::from(if e.is_usage() { 2 } else { 3 })
        }
    }
}
