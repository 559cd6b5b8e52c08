//! Replays every fuzz finding kept under `tests/fixtures/fuzz/<target>/`
//! through the same entry point its fuzz target drives (see `fuzz/src/lib.rs`
//! and docs/fuzzing.md), so a fixed crash, hang or huge allocation stays
//! fixed. Each input must finish within 20 s without a panic; an error must
//! be one line (and, for audio, an input error rather than an internal one).
//! When `NAME.expect` sits beside an input, the outcome's message must
//! contain its first line (`ok` for success).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use hark::audio::{decode_file, Mix};
use hark::job_config::{Effective, JobConfig};
use hark::license::{self, Entitlement, LicenseSource};
use hark::model::tokens::Tokens;

/// What one target does with one input: `Ok(())` or the error's message.
type Replay = fn(&Path) -> Result<(), String>;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_780_272_000).unwrap()
}

fn audio(path: &Path) -> Result<(), String> {
    std::env::set_var("HARK_FFMPEG", "none");
    let mut first = Ok(());
    for mix in [Mix::Mono, Mix::PerChannel] {
        let r = decode_file(path, mix).map(|_| ()).map_err(|e| {
            assert!(!e.is_internal(), "internal error: {e}");
            e.to_string()
        });
        if mix == Mix::Mono {
            first = r;
        }
    }
    first
}

fn job_config(path: &Path) -> Result<(), String> {
    let config = JobConfig::load(path).map_err(|e| e.to_string())?;
    Effective::resolve(Some(&config), Some(path), None, None)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn license_token(path: &Path) -> Result<(), String> {
    let token = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    license::verify(&LicenseSource::Token(token), now(), &Entitlement::BATCH)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The claims are signed with the development key, as the fuzz target does.
fn license_claims(path: &Path) -> Result<(), String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    use ed25519_dalek::{Signer, SigningKey};
    let pem = std::fs::read_to_string(common::repo(
        "keys/dev/hark-dev-2026.PRIVATE-KEY-IS-PUBLIC.pem",
    ))
    .unwrap();
    let key = SigningKey::from_pkcs8_pem(&pem).unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT","kid":"hark-dev-2026"}"#);
    let signed = format!(
        "{header}.{}",
        URL_SAFE_NO_PAD.encode(std::fs::read(path).unwrap())
    );
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signed.as_bytes()).to_bytes());
    let token = format!("{signed}.{signature}");
    license::verify(&LicenseSource::Token(token), now(), &Entitlement::BATCH)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn license_file(path: &Path) -> Result<(), String> {
    license::verify(
        &LicenseSource::File(path.to_path_buf()),
        now(),
        &Entitlement::BATCH,
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

fn tokens(path: &Path) -> Result<(), String> {
    Tokens::load(path).map(|_| ()).map_err(|e| e.to_string())
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = common::repo("tests/fixtures/fuzz").join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_none_or(|e| e != "expect" && e != "md"));
    v.sort();
    v
}

fn replay(target: &str, f: Replay) {
    for input in inputs(target) {
        let (tx, rx) = mpsc::channel();
        let p = input.clone();
        std::thread::spawn(move || {
            let _ = tx.send(f(&p));
        });
        let name = input.display().to_string();
        let outcome = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{name}: panicked or hung"));
        let text = match &outcome {
            Ok(()) => "ok".to_string(),
            Err(msg) => msg.clone(),
        };
        assert!(!text.contains('\n'), "{name}: multi-line message: {text}");
        let expect = PathBuf::from(format!("{name}.expect"));
        if let Ok(want) = std::fs::read_to_string(&expect) {
            let want = want.lines().next().unwrap_or_default();
            assert!(text.contains(want), "{name}: got {text:?}, want {want:?}");
        }
        eprintln!("{name}: {text}");
    }
}

#[test]
fn audio_findings() {
    replay("audio", audio);
}

#[test]
fn job_config_findings() {
    replay("job_config", job_config);
}

#[test]
fn license_token_findings() {
    replay("license_token", license_token);
}

#[test]
fn license_claims_findings() {
    replay("license_claims", license_claims);
}

#[test]
fn license_file_findings() {
    replay("license_file", license_file);
}

#[test]
fn tokens_findings() {
    replay("tokens", tokens);
}
