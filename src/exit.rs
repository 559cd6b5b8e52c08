//! The exit-code table: the one place where hark's exit statuses are defined.
//!
//! Every failure in hark maps to exactly one of these codes; `--help` and the
//! README print [`TABLE`]. This module imports nothing from the rest of hark.

use std::fmt;

/// hark's documented exit statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitCode {
    /// The transcript was written to stdout.
    Success,
    /// An unexpected internal error (a bug): please report it.
    Internal,
    /// A usage error: bad flag, flag value or job config.
    Usage,
    /// The license is missing, invalid, expired or does not entitle this use.
    License,
    /// The input audio is missing, unreadable, unsupported, corrupt, empty or too long.
    Input,
    /// The model is missing or invalid, or inference failed.
    Model,
    /// The transcript could not be written (stdout closed, disk full, an
    /// `--all-formats` file that could not be created or renamed).
    Output,
    /// Language identification rejected the audio
    /// (`low_confidence_action: reject`): no language was identified with
    /// enough confidence, or it was not one of `expected_languages`.
    LanguageRejected,
    /// Interrupted by SIGINT (Ctrl-C).
    Interrupted,
    /// Terminated by SIGTERM (e.g. `docker stop`, a Kubernetes eviction).
    Terminated,
}

impl ExitCode {
    /// Every code, in table order.
    pub const ALL: [ExitCode; 10] = [
        ExitCode::Success,
        ExitCode::Internal,
        ExitCode::Usage,
        ExitCode::License,
        ExitCode::Input,
        ExitCode::Model,
        ExitCode::Output,
        ExitCode::LanguageRejected,
        ExitCode::Interrupted,
        ExitCode::Terminated,
    ];

    /// The numeric process exit status.
    pub const fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Internal => 1,
            ExitCode::Usage => 2,
            ExitCode::License => 3,
            ExitCode::Input => 4,
            ExitCode::Model => 5,
            ExitCode::Output => 6,
            ExitCode::LanguageRejected => 7,
            ExitCode::Interrupted => 130,
            ExitCode::Terminated => 143,
        }
    }

    /// One line describing when this code is returned.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitCode::Success => "success: the transcript was written (only then is stdout written)",
            ExitCode::Internal => "unexpected internal error (a bug: please report it)",
            ExitCode::Usage => "usage error: bad flag, flag value or job config",
            ExitCode::License => "license missing, invalid, expired or not entitled",
            ExitCode::Input => {
                "input missing, unreadable, unsupported, corrupt, empty or too long (> 2 h or > 4 GB)"
            }
            ExitCode::Model => "model missing or invalid, or inference failed",
            ExitCode::Output => {
                "output could not be written (stdout or an --all-formats file)"
            }
            ExitCode::LanguageRejected => {
                "language identification rejected the audio (low_confidence_action: reject)"
            }
            ExitCode::Interrupted => "interrupted by SIGINT",
            ExitCode::Terminated => "terminated by SIGTERM",
        }
    }

    /// Combines the outcomes of parallel workers: the most specific failure wins.
    ///
    /// Signals outrank everything (the user asked to stop), then input, model and
    /// license errors (they name what the user must fix), then internal errors.
    pub fn merge(self, other: ExitCode) -> ExitCode {
        fn rank(c: ExitCode) -> u8 {
            match c {
                ExitCode::Success => 0,
                ExitCode::Internal => 1,
                ExitCode::Usage => 2,
                ExitCode::Output => 3,
                ExitCode::LanguageRejected => 4,
                ExitCode::Model => 4,
                ExitCode::Input => 5,
                ExitCode::License => 6,
                ExitCode::Interrupted => 7,
                ExitCode::Terminated => 8,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code())
    }
}

/// The exit-code table as printed in `--help` and the README.
pub fn table() -> String {
    let mut s = String::from("EXIT STATUS:\n");
    for c in ExitCode::ALL {
        s.push_str(&format!("  {:>3}  {}\n", c.code(), c.meaning()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in ExitCode::ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert!(table().contains(c.meaning()));
        }
        assert_eq!(ExitCode::Interrupted.code(), 130);
        assert_eq!(ExitCode::Terminated.code(), 143);
    }

    #[test]
    fn merge_prefers_signals_then_specific_errors() {
        use ExitCode::*;
        assert_eq!(Success.merge(Success), Success);
        assert_eq!(Success.merge(Model), Model);
        assert_eq!(Model.merge(Success), Model);
        assert_eq!(Internal.merge(Input), Input);
        assert_eq!(Input.merge(Terminated), Terminated);
        assert_eq!(Interrupted.merge(Model), Interrupted);
        assert_eq!(License.merge(Internal), License);
        assert_eq!(Output.merge(Internal), Output);
        assert_eq!(Model.merge(Output), Model);
    }
}
