//! ONNX Runtime: finds `libonnxruntime.so` and creates the process-wide environment.
//!
//! hark uses ort's `load-dynamic`, so the library is found at run time. Search
//! order: `ORT_DYLIB_PATH`; next to the executable (`./`, `../lib/`);
//! `/opt/hark/lib/`; the development copy that `scripts/fetch-onnxruntime`
//! puts in `.ort/` (compiled in by `.cargo/config.toml`).
//!
//! Also the one place sessions are built ([`session`]), for every model.
//!
//! Imports only `model::ModelError`.

use std::path::PathBuf;
use std::sync::OnceLock;

use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ort::session::Session;

use super::ModelError;

const LIB: &str = "libonnxruntime.so";

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Where hark looks for ONNX Runtime, in order.
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push(PathBuf::from(p));
        return out;
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
    {
        out.push(dir.join(LIB));
        out.push(dir.join("../lib").join(LIB));
    }
    out.push(PathBuf::from("/opt/hark/lib").join(LIB));
    if let Some(dev) = option_env!("HARK_DEV_ORT_DYLIB") {
        out.push(PathBuf::from(dev));
    }
    out
}

/// The process-wide ONNX Runtime environment, initialised on first use.
pub fn environment() -> Result<&'static ort::environment::Environment, ModelError> {
    let env = ENV.get_or_init(|| {
        let found = candidates().into_iter().find(|p| p.exists());
        let Some(path) = found else {
            let looked: Vec<String> = candidates().iter().map(|p| p.display().to_string()).collect();
            return Err(format!(
                "ONNX Runtime library not found (looked in: {}); run scripts/fetch-onnxruntime or set ORT_DYLIB_PATH",
                looked.join(", ")
            ));
        };
        tracing::debug!(path = %path.display(), "loading ONNX Runtime");
        // The PyPI build of ONNX Runtime ships Microsoft's telemetry client,
        // which keeps a device id and an event database under
        // $HOME/.cache/Microsoft unless this is set before it loads.
        if std::env::var_os("ORT_DISABLE_TELEMETRY").is_none() {
            std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
        }
        let builder = ort::init_from(&path)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))?;
        // Telemetry off: hark is offline. ONNX Runtime's telemetry client also
        // writes a session file (`.ses`) into $TMPDIR when the environment is
        // created, before telemetry can be disabled; point TMPDIR at a private
        // directory for that moment and remove it, so nothing outlives the job.
        let scratch = tempfile::tempdir().ok();
        let saved = std::env::var_os("TMPDIR");
        if let Some(dir) = &scratch {
            std::env::set_var("TMPDIR", dir.path());
        }
        let env = builder
            .with_name("hark")
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("cannot create the ONNX Runtime environment: {e}"));
        match saved {
            Some(v) => std::env::set_var("TMPDIR", v),
            None => std::env::remove_var("TMPDIR"),
        }
        drop(scratch);
        env
    });
    env.as_ref().map_err(|e| ModelError::Runtime(e.clone()))
}

/// Where a model's ONNX graph comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file on disk. Each session reads it itself: ONNX Runtime loads a
    /// file with less copying than a buffer (measured on a 54 MB model:
    /// 125 MB instead of 201 MB peak RSS, a third less system time).
    File(PathBuf),
    /// Bytes compiled into the binary (the built-in model).
    Static(&'static [u8]),
}

/// A CPU session over `source` with `intra_threads` intra-op threads.
pub fn session(
    env: &ort::environment::Environment,
    source: &Source,
    intra_threads: usize,
) -> Result<Session, String> {
    session_sharing(env, source, intra_threads, None)
}

/// [`session`], with the weights ONNX Runtime prepacks for its kernels
/// (MatMul, Gemm, DynamicQuantizeMatMul: a copy of most of a model) kept in
/// `prepacked`, a container shared by every session of the same file, so
/// that `--parallel N` holds them once rather than N times. The packed bytes
/// are the same either way: sharing changes memory, not results.
pub fn session_sharing(
    env: &ort::environment::Environment,
    source: &Source,
    intra_threads: usize,
    prepacked: Option<&PrepackedWeights>,
) -> Result<Session, String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let mut b = Session::builder(env)
        .map_err(|e| text(&e))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| text(&e))?
        .with_intra_threads(intra_threads.max(1))
        .map_err(|e| text(&e))?
        .with_inter_threads(1)
        .map_err(|e| text(&e))?;
    if let Some(weights) = prepacked {
        b = b.with_prepacked_weights(weights).map_err(|e| text(&e))?;
    }
    match source {
        Source::File(path) => b.commit_from_file(path).map_err(|e| text(&e)),
        Source::Static(bytes) => b.commit_from_memory(bytes).map_err(|e| text(&e)),
    }
}
