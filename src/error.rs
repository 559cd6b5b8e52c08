//! hark's top-level error: one variant per stage, each with its exit code.
//!
//! Stage modules return their own typed errors; this module wraps them and is
//! the single mapping from error to [`ExitCode`].
//!
//! May import: the stage error types and `exit`.

use crate::audio::AudioError;
use crate::exit::ExitCode;
use crate::input::InputError;
use crate::job_config::JobConfigError;
use crate::license::LicenseError;
use crate::model::ModelError;

/// Any failure of a hark run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad flag, flag value or job config (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The job config is unreadable, malformed or asks for what hark does not do (exit 2).
    #[error("{0}")]
    JobConfig(#[from] JobConfigError),
    /// License missing, invalid, expired or not entitled (exit 3).
    #[error("license: {0}")]
    License(#[from] LicenseError),
    /// The input could not be found or read (exit 4).
    #[error("{0}")]
    Input(#[from] InputError),
    /// The audio could not be decoded (exit 4; 1 for internal audio errors).
    #[error("{0}")]
    Audio(#[from] AudioError),
    /// The model is missing or invalid, or inference failed (exit 5).
    #[error("{0}")]
    Model(#[from] ModelError),
    /// Writing the transcript failed (exit 6).
    #[error("output: {0}")]
    Output(String),
    /// Language identification was not confident, or found an unexpected
    /// language, and the job config said to reject it (exit 7).
    #[error("language identification: {0}")]
    LanguageRejected(String),
    /// Stopped by a signal (exit 130 or 143).
    #[error("{}", if *.0 == ExitCode::Terminated { "terminated by SIGTERM" } else { "interrupted by SIGINT" })]
    Signal(ExitCode),
    /// A bug (exit 1).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::JobConfig(_) => ExitCode::Usage,
            Error::License(e) if e.is_usage() => ExitCode::Usage,
            Error::License(_) => ExitCode::License,
            Error::Input(InputError::NoInput | InputError::TerminalStdin) => ExitCode::Usage,
            Error::Input(_) => ExitCode::Input,
            Error::Audio(e) if e.is_internal() => ExitCode::Internal,
            Error::Audio(_) => ExitCode::Input,
            Error::Model(_) => ExitCode::Model,
            Error::Output(_) => ExitCode::Output,
            Error::LanguageRejected(_) => ExitCode::LanguageRejected,
            Error::Internal(_) => ExitCode::Internal,
            Error::Signal(code) => *code,
        }
    }
}
