//! Logging: `tracing` to stderr, and to `$SM_LOG_DIR/$SM_JOB_ID/hark.log`
//! when both variables are set (the Speechmatics convention). Logs never touch
//! stdout. The stderr level follows -q/-v (default: warnings), the log file
//! records info and above; `RUST_LOG` overrides both.
//!
//! Imports nothing from the rest of hark.

use std::io::IsTerminal;
use std::path::PathBuf;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How chatty stderr is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// Warnings and errors.
    Normal,
    /// Info.
    Verbose,
    /// Debug.
    Debug,
    /// Trace.
    Trace,
}

impl Verbosity {
    /// From the `-q` flag and the `-v` count.
    pub fn from_flags(quiet: bool, verbose: u8) -> Verbosity {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, 2) => Verbosity::Debug,
            _ => Verbosity::Trace,
        }
    }

    fn directive(self) -> &'static str {
        match self {
            Verbosity::Quiet => "error",
            Verbosity::Normal => "warn",
            Verbosity::Verbose => "hark=info,warn",
            Verbosity::Debug => "hark=debug,info",
            Verbosity::Trace => "hark=trace,debug",
        }
    }
}

fn filter(default: &str) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::new(v),
        _ => EnvFilter::new(default),
    }
}

/// The log file path from `SM_LOG_DIR` and `SM_JOB_ID`, when both are set.
pub fn log_file_path() -> Option<PathBuf> {
    let dir = std::env::var_os("SM_LOG_DIR").filter(|v| !v.is_empty())?;
    let job = std::env::var("SM_JOB_ID").ok().filter(|v| !v.is_empty())?;
    Some(PathBuf::from(dir).join(job).join("hark.log"))
}

/// Installs the global subscriber. Fails (with a message naming the path) only
/// when the log file was requested and cannot be created.
pub fn init(verbosity: Verbosity) -> Result<(), String> {
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .with_filter(filter(verbosity.directive()));
    let file_layer = match log_file_path() {
        None => None,
        Some(path) => {
            let open = || -> std::io::Result<std::fs::File> {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
            };
            let file =
                open().map_err(|e| format!("unable to set up logging: {}: {e}", path.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::sync::Mutex::new(file))
                    .with_ansi(false)
                    .with_filter(filter("hark=debug,info")),
            )
        }
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
        .map_err(|e| format!("unable to set up logging: {e}"))
}
