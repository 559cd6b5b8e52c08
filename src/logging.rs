//! Logging, and the one printer of stderr.
//!
//! `tracing` goes to stderr and, when `SM_LOG_DIR` and `SM_JOB_ID` are both
//! set (the Speechmatics convention), to `$SM_LOG_DIR/$SM_JOB_ID/hark.log`.
//! Logs never touch stdout.
//!
//! - stderr: warnings by default, `-q` errors only, `-v` info, `-vv` debug,
//!   `-vvv` trace (with ONNX Runtime's own messages).
//! - the log file: info, or more with `-vv`/`-vvv`; a failure is logged
//!   there at ERROR with its exit code.
//! - `RUST_LOG` overrides both filters. ONNX Runtime's messages (target
//!   `ort`) stay out unless `-vvv` is given or `RUST_LOG` names `ort`.
//!
//! Everything hark prints on stderr goes through this module: log lines
//! ([`init`]), the one `hark: error: ...` line ([`fail`], [`error_line`]),
//! with the progress bar erased while a line is printed. At the default
//! verbosity log lines are held until the outcome is known ([`fail`],
//! [`succeed`]), so that a failure's first stderr line is the error itself;
//! with `-v` or `RUST_LOG` they are printed as they happen.
//!
//! Imports `progress` (to print around its bar), nothing else of hark.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Target of the failure event: logged to the file only (stderr gets the
/// `hark: error:` line instead).
const FAILURE: &str = "hark::failure";
/// Target of the periodic progress lines.
const PROGRESS: &str = "hark::progress";

/// Hold stderr log lines until the outcome is known.
static HOLD: AtomicBool = AtomicBool::new(false);
static HELD: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// How chatty stderr is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Errors only (`-q`).
    Quiet,
    /// Warnings and errors (the default).
    Normal,
    /// Info (`-v`).
    Verbose,
    /// Debug (`-vv`).
    Debug,
    /// Trace, with ONNX Runtime's and symphonia's own messages (`-vvv`).
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

    /// The stderr filter. symphonia reports probing and packet errors
    /// through `log` at error level; hark turns them into its own one-line
    /// errors. ONNX Runtime's messages (`ort`) are its internals.
    fn stderr_directive(self) -> &'static str {
        match self {
            Verbosity::Quiet => "error,ort=off,symphonia=off",
            Verbosity::Normal => "warn,ort=off,symphonia=off",
            Verbosity::Verbose => "hark=info,warn,ort=off,symphonia=off",
            Verbosity::Debug => "hark=debug,info,ort=off,symphonia=off",
            Verbosity::Trace => "hark=trace,debug",
        }
    }

    /// The log file's filter: at least info, whatever `-q` says.
    fn file_directive(self) -> &'static str {
        match self {
            Verbosity::Quiet | Verbosity::Normal | Verbosity::Verbose => {
                Verbosity::Verbose.stderr_directive()
            }
            v => v.stderr_directive(),
        }
    }
}

/// `RUST_LOG` if set (ONNX Runtime kept out unless it names `ort`), else `default`.
fn filter(rust_log: Option<&str>, default: &str) -> EnvFilter {
    match rust_log {
        Some(v) if !v.trim().is_empty() => {
            if names_ort(v) {
                EnvFilter::new(v)
            } else {
                EnvFilter::new(format!("{v},ort=off"))
            }
        }
        _ => EnvFilter::new(default),
    }
}

/// Opens `$SM_LOG_DIR/$SM_JOB_ID/hark.log` for appending. `log_dir` must be
/// an existing directory; the job's subdirectory is created in it when
/// missing, and nothing else is ever created. `job_id` must already be
/// checked to be a plain name. Errors name the path and say how to fix it.
pub fn open_log_file(log_dir: &Path, job_id: &str) -> Result<(PathBuf, File), String> {
    let shown = log_dir.display();
    match std::fs::metadata(log_dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(format!(
            "SM_LOG_DIR={shown} is not a directory (mount a directory there, or unset SM_LOG_DIR)"
        ))
        }
        Err(e) => {
            return Err(format!(
                "SM_LOG_DIR={shown}: {e}: it must be an existing directory \
                 (mount one, e.g. docker run -v \"$PWD/logs:{shown}\", or unset SM_LOG_DIR)"
            ))
        }
    }
    let job_dir = log_dir.join(job_id);
    let path = job_dir.join("hark.log");
    let unwritable = |what: &Path, e: std::io::Error| {
        let owner = std::fs::metadata(what)
            .map(|m| format!("{}:{}", m.uid(), m.gid()))
            .unwrap_or_else(|_| "?".into());
        let me = std::fs::metadata("/proc/self")
            .map(|m| format!("{}:{}", m.uid(), m.gid()))
            .unwrap_or_else(|_| "hark's UID:GID".into());
        format!(
            "unable to set up logging: cannot write {} ({e}): {} is owned by {owner} and hark \
             runs as {me}: make it writable by hark's user (chown {me}), or run hark as its \
             owner (docker run --user {owner})",
            path.display(),
            what.display()
        )
    };
    match std::fs::create_dir(&job_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if !job_dir.is_dir() {
                return Err(format!(
                    "unable to set up logging: {} is not a directory",
                    job_dir.display()
                ));
            }
        }
        Err(e) => return Err(unwritable(log_dir, e)),
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| unwritable(&job_dir, e))?;
    Ok((path, file))
}

/// A stderr log line: collected while tracing formats it, printed (or
/// held) in one piece when dropped.
struct StderrLine(Vec<u8>);

impl Write for StderrLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for StderrLine {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.0);
        if HOLD.load(Ordering::Relaxed) {
            if let Ok(mut held) = HELD.lock() {
                held.extend_from_slice(&bytes);
                return;
            }
        }
        print_stderr(&bytes);
    }
}

fn print_stderr(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    crate::progress::suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(bytes);
        let _ = err.flush();
    });
}

/// Installs the global subscriber. `job_id` (already checked) names the log
/// file's directory when `SM_LOG_DIR` is set. Fails, with a message naming
/// the path, only when the log file was asked for and cannot be written.
pub fn init(verbosity: Verbosity, job_id: Option<&str>) -> Result<(), String> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let rust_log = rust_log.as_deref().filter(|v| !v.trim().is_empty());
    HOLD.store(
        rust_log.is_none() && matches!(verbosity, Verbosity::Quiet | Verbosity::Normal),
        Ordering::Relaxed,
    );
    let stderr_only = filter_fn(|m| {
        m.target() != FAILURE && !(m.target() == PROGRESS && crate::progress::bar_mode())
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(|| StderrLine(Vec::new()))
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .with_filter(filter(rust_log, verbosity.stderr_directive()).and(stderr_only));
    let log_dir = std::env::var_os("SM_LOG_DIR").filter(|v| !v.is_empty());
    let mut no_job_id = false;
    let file_layer = match (log_dir.as_deref().map(Path::new), job_id) {
        (Some(dir), Some(job)) => {
            let (_, file) = open_log_file(dir, job)?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(Mutex::new(file))
                    .with_ansi(false)
                    .with_filter(filter(rust_log, verbosity.file_directive())),
            )
        }
        (Some(_), None) => {
            no_job_id = true;
            None
        }
        (None, _) => None,
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
        .map_err(|e| format!("unable to set up logging: {e}"))?;
    if no_job_id {
        tracing::warn!("SM_LOG_DIR is set but SM_JOB_ID is not: no log file is written");
    }
    Ok(())
}

/// Prints `hark: error: {msg}` on stderr, the progress bar erased first.
pub fn error_line(msg: &str) {
    print_stderr(format!("hark: error: {msg}\n").as_bytes());
}

/// The run failed with exit status `code`: the bar is erased, the error is
/// printed first, logged to the log file at ERROR, and any held log lines
/// follow it.
pub fn fail(msg: &str, code: u8) {
    crate::progress::finish();
    error_line(msg);
    tracing::error!(target: "hark::failure", exit_code = code, "{msg}");
    release();
}

/// The run succeeded: the bar is erased and held log lines are printed.
pub fn succeed() {
    crate::progress::finish();
    release();
}

/// Stops holding log lines and prints those held.
fn release() {
    HOLD.store(false, Ordering::Relaxed);
    let held = HELD.lock().map(|mut h| std::mem::take(&mut *h));
    if let Ok(bytes) = held {
        print_stderr(&bytes);
    }
}

/// True when a `RUST_LOG` directive list names ONNX Runtime's target.
fn names_ort(rust_log: &str) -> bool {
    rust_log
        .split(',')
        .any(|d| d.trim().split(['=', '[', ':']).next() == Some("ort"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_directory_is_the_only_thing_created() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, _) = open_log_file(tmp.path(), "job-1").unwrap();
        assert_eq!(path, tmp.path().join("job-1/hark.log"));
        // Again: the directory exists, the file is appended to.
        open_log_file(tmp.path(), "job-1").unwrap();
        let missing = tmp.path().join("no/such");
        let e = open_log_file(&missing, "job-1").unwrap_err();
        assert!(
            e.starts_with(&format!("SM_LOG_DIR={}", missing.display())),
            "{e}"
        );
        assert!(!missing.exists() && !tmp.path().join("no").exists());
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = open_log_file(&file, "job-1").unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
        // Not writable (even by root: /proc takes no new directories).
        let e = open_log_file(Path::new("/proc"), "job-1").unwrap_err();
        assert!(
            e.contains("/proc/job-1/hark.log") && e.contains("chown"),
            "{e}"
        );
    }

    #[test]
    fn onnx_runtime_stays_out_unless_named() {
        assert!(names_ort("info,ort=debug"));
        assert!(names_ort("ort"));
        assert!(!names_ort("debug"));
        assert!(!names_ort("hark=debug,orthography=info"));
        for v in [
            Verbosity::Quiet,
            Verbosity::Normal,
            Verbosity::Verbose,
            Verbosity::Debug,
        ] {
            assert!(v.stderr_directive().contains("ort=off"), "{v:?}");
            assert!(v.file_directive().contains("ort=off"), "{v:?}");
        }
        assert_eq!(
            Verbosity::Quiet.file_directive(),
            "hark=info,warn,ort=off,symphonia=off"
        );
        assert!(!Verbosity::Trace.stderr_directive().contains("ort=off"));
    }
}
