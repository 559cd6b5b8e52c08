//! The `hark` binary: parse arguments, run, print one error line, exit.

use clap::{CommandFactory, FromArgMatches};

use hark::cli::{normalize_args, Cli};
use hark::exit::ExitCode;
use hark::logging;

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
        Err(e) if e.use_stderr() => {
            // clap's message, in hark's one format: `hark: error: ...`.
            let text = e.render().to_string();
            logging::error_line(text.strip_prefix("error: ").unwrap_or(&text).trim_end());
            return ExitCode::Usage.into();
        }
        Err(e) => {
            let _ = e.print(); // --help, --version: stdout
            return ExitCode::Success.into();
        }
    };
    if let Err(e) = hark::signals::install() {
        logging::error_line(&format!("cannot install signal handlers: {e}"));
        return ExitCode::Internal.into();
    }
    let job_id = match hark::options::job_id_from_env() {
        Ok(id) => id,
        Err(e) => {
            logging::error_line(&e.to_string());
            return e.exit_code().into();
        }
    };
    let verbosity = logging::Verbosity::from_flags(cli.quiet, cli.verbose);
    if let Err(e) = logging::init(verbosity, job_id.as_deref()) {
        logging::error_line(&e);
        return ExitCode::Usage.into();
    }
    match hark::app::run(cli) {
        Ok(()) => {
            logging::succeed();
            ExitCode::Success.into()
        }
        Err(e) => {
            let code = e.exit_code();
            logging::fail(&e.to_string(), code.code());
            code.into()
        }
    }
}
