//! The `hark` binary: parse arguments, run, print one error line, exit.

use clap::Parser;

use hark::cli::{normalize_args, Cli};
use hark::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse_from(normalize_args(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { ExitCode::Usage } else { ExitCode::Success };
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
            tracing::debug!(exit_code = code.code(), "exiting");
            code.into()
        }
    }
}
