//! The `hark` binary: parse arguments, run, print one error line, exit.

use clap::{CommandFactory, FromArgMatches};

use hark::cli::{normalize_args, Cli};
use hark::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let long_version = format!(
        "{}\n{}\nONNX Runtime: loaded at run time (ORT_DYLIB_PATH, next to the binary, or /opt/hark/lib)",
        env!("CARGO_PKG_VERSION"),
        hark::license::trusted_keys_line()
    );
    let parsed = Cli::command()
        .long_version(long_version)
        .try_get_matches_from(normalize_args(std::env::args_os()))
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Success
            };
            let _ = e.print();
            return code.into();
        }
    };
    if let Err(e) = hark::signals::install() {
        eprintln!("hark: error: cannot install signal handlers: {e}");
        return ExitCode::Internal.into();
    }
    let verbosity = hark::logging::Verbosity::from_flags(cli.quiet, cli.verbose);
    if let Err(e) = hark::logging::init(verbosity) {
        eprintln!("hark: error: {e}");
        return ExitCode::Usage.into();
    }
    match hark::app::run(cli) {
        Ok(()) => ExitCode::Success.into(),
        Err(e) => {
            eprintln!("hark: error: {e}");
            let code = e.exit_code();
            tracing::debug!(exit_code = code.code(), error = %e, "failed");
            code.into()
        }
    }
}
