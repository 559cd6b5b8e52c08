//! Signals: SIGINT and SIGTERM end the run with exit 130 / 143.
//!
//! A watcher thread receives the signal, runs the registered clean-ups
//! (partially written output files), prints one line (through `logging`,
//! which also logs it to the log file) and exits. Nothing else
//! needs cleaning: stdin is spooled to an already-unlinked file and stdout is
//! written only after a successful run.
//!
//! Imports: `exit`, `logging`.

use std::path::PathBuf;
use std::sync::Mutex;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::exit::ExitCode;

static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Registers a file to delete if hark is stopped by a signal.
pub fn remove_on_signal(path: PathBuf) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.push(path);
    }
}

/// Unregisters a file (it was completed or removed normally).
pub fn forget(path: &std::path::Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.retain(|p| p != path);
    }
}

/// Starts the watcher thread. Errors only if signal handlers cannot be installed.
pub fn install() -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let code = if sig == SIGTERM {
                    ExitCode::Terminated
                } else {
                    ExitCode::Interrupted
                };
                if let Ok(v) = CLEANUP.lock() {
                    for p in v.iter() {
                        let _ = std::fs::remove_file(p);
                    }
                }
                let what = if sig == SIGTERM {
                    "terminated by SIGTERM"
                } else {
                    "interrupted by SIGINT"
                };
                crate::logging::fail(what, code.code());
                std::process::exit(i32::from(code.code()));
            }
        })?;
    Ok(())
}
