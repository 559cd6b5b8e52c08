//! Resolved options: the validated, documented settings the rest of hark sees.
//!
//! Built from the raw [`crate::cli::Cli`] plus the environment; all flag
//! validation happens here and fails with [`Error::Usage`] naming the flag.
//!
//! May import: `cli`, `error`.

use std::path::PathBuf;

use crate::cli::{Cli, OutputFormat};
use crate::error::Error;

/// Where the input comes from, before it is opened.
pub const DEFAULT_INPUT: &str = "/input.audio";
/// Where the license file is looked for by default.
pub const DEFAULT_LICENSE: &str = "/license.json";
/// Where a job config is looked for by default.
pub const DEFAULT_JOB_CONFIG: &str = "/config.json";

/// Everything a transcription run needs to know.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--input`, if given.
    pub input: Option<PathBuf>,
    /// `--model` / `HARK_MODEL`, if given.
    pub model: Option<PathBuf>,
    /// `--enhanced-model` / `HARK_ENHANCED_MODEL`, if given.
    pub enhanced_model: Option<PathBuf>,
    /// `--vad-model` / `HARK_VAD_MODEL`, if given.
    pub vad_model: Option<PathBuf>,
    /// `--speaker-model` / `HARK_SPEAKER_MODEL`, if given.
    pub speaker_model: Option<PathBuf>,
    /// `--beam-size` / `HARK_BEAM_SIZE` (1: greedy).
    pub beam_size: usize,
    /// `--license`, if given.
    pub license: Option<PathBuf>,
    /// `--job-config`, if given.
    pub job_config: Option<PathBuf>,
    /// `--language`, if given.
    pub language: Option<String>,
    /// Workers asked for.
    pub parallel_requested: usize,
    /// Workers used (clamped to the available cores).
    pub workers: usize,
    /// ONNX Runtime intra-op threads per worker. Always 1: `--parallel N`
    /// means N cores, as in the Speechmatics container, so N workers never
    /// oversubscribe the cores and results do not depend on thread counts.
    pub intra_threads: usize,
    /// Cores available to this process (cgroup limits respected).
    pub cores: usize,
    /// Format written to stdout.
    pub output_format: OutputFormat,
    /// `--all-formats DIR`.
    pub all_formats: Option<PathBuf>,
    /// Job id (`SM_JOB_ID`, else generated).
    pub job_id: String,
    /// `-q`: no progress bar, errors only on stderr.
    pub quiet: bool,
}

/// Parses a `--parallel` value: a whole number ≥ 1.
pub fn parse_parallel(v: &str) -> Result<usize, Error> {
    match v.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::Usage(format!(
            "--parallel: invalid value {v:?}: expected a whole number of workers, at least 1"
        ))),
    }
}

/// Cores this process may use (`available_parallelism` honours cgroup quotas,
/// as set by `docker run --cpus`).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks a job id: it names a directory under `SM_LOG_DIR`, so it must be a
/// plain name: no `/`, not `.` or `..`, no NUL or other control characters.
pub fn check_job_id(id: &str) -> Result<(), Error> {
    let bad = if id.contains('/') {
        Some("contains '/'")
    } else if id == "." || id == ".." {
        Some("is '.' or '..'")
    } else if id.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match bad {
        Some(why) => Err(Error::Usage(format!(
            "SM_JOB_ID={id:?} {why}: a job id is a name, not a path \
             (use letters, digits, '-', '_' or '.')"
        ))),
        None => Ok(()),
    }
}

/// `SM_JOB_ID`, when set and not empty, checked with [`check_job_id`].
pub fn job_id_from_env() -> Result<Option<String>, Error> {
    match std::env::var_os("SM_JOB_ID") {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            let id = v.into_string().map_err(|v| {
                Error::Usage(format!(
                    "SM_JOB_ID={v:?} is not valid UTF-8: a job id is a name"
                ))
            })?;
            check_job_id(&id)?;
            Ok(Some(id))
        }
    }
}

fn generated_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

impl Options {
    /// Validates the raw arguments.
    pub fn resolve(cli: &Cli) -> Result<Options, Error> {
        let requested = match &cli.parallel {
            Some(v) => parse_parallel(v)?,
            None => 1,
        };
        let cores = available_cores();
        let workers = requested.min(cores);
        if workers < requested {
            tracing::warn!(
                "--parallel {requested} exceeds the {cores} available core(s): using {workers}"
            );
        }
        if let Some(lang) = &cli.language {
            if lang.trim().is_empty() {
                return Err(Error::Usage("--language: empty language code".into()));
            }
        }
        let job_id = job_id_from_env()?.unwrap_or_else(generated_job_id);
        let input = match (&cli.input, &cli.input_file) {
            (Some(flag), Some(positional)) => {
                return Err(Error::Usage(format!(
                    "the input is given twice: --input {} and {}; give one",
                    flag.display(),
                    positional.display()
                )))
            }
            (flag, positional) => flag.clone().or_else(|| positional.clone()),
        };
        Ok(Options {
            input,
            model: cli.model.clone().filter(|p| !p.as_os_str().is_empty()),
            enhanced_model: cli
                .enhanced_model
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            vad_model: cli.vad_model.clone().filter(|p| !p.as_os_str().is_empty()),
            speaker_model: cli
                .speaker_model
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            beam_size: usize::from(cli.beam_size),
            license: cli.license.clone(),
            job_config: cli.job_config.clone(),
            language: cli.language.clone(),
            parallel_requested: requested,
            workers,
            intra_threads: 1,
            cores,
            output_format: cli.output_format,
            all_formats: cli.all_formats.clone(),
            job_id,
            quiet: cli.quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_must_be_a_positive_number() {
        assert_eq!(parse_parallel("3").unwrap(), 3);
        for bad in ["0", "-1", "two", "", "1.5"] {
            let e = parse_parallel(bad).unwrap_err().to_string();
            assert!(e.starts_with("--parallel"), "{e}");
        }
    }

    #[test]
    fn a_job_id_is_a_name_not_a_path() {
        for ok in ["124", "job-7_a.b", "..x", "日本"] {
            check_job_id(ok).unwrap();
        }
        for bad in [
            "../../escape",
            "a/b",
            "/abs",
            "..",
            ".",
            "a\0b",
            "tab\there",
            "nl\n",
        ] {
            let e = check_job_id(bad).unwrap_err().to_string();
            assert!(e.starts_with("SM_JOB_ID="), "{e}");
            assert!(e.contains("not a path"), "{e}");
        }
    }
}
