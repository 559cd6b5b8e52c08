//! hark's fuzz harnesses: one function per parser of untrusted bytes, each
//! driving hark's own public entry point the way a hark run does, plus the
//! oracles that turn a wrong outcome into a crash libFuzzer records.
//!
//! Every target checks, beyond "no panic, no hang": no allocation makes the
//! live heap exceed [`HEAP_LIMIT`] (the [`Capped`] global allocator aborts),
//! and every error is one line (hark's rule for messages). The audio target
//! also checks that no input yields an internal error (exit 1 instead of 4),
//! that blocks have the shape `AudioStream::next_block` documents, and that
//! rate and channel count are within hark's limits.
//!
//! The fuzz_targets/ binaries are one line each: `fuzz_target!(|d| f(d))`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

use hark::audio::{self, AudioStream, Mix, Resampler};
use hark::job_config::{Effective, JobConfig};
use hark::license::{self, Entitlement, LicenseCommand, LicenseSource};
use hark::model::tokens::Tokens;

/// The most heap a single run of a harness may hold at once: 1 GiB.
pub const HEAP_LIMIT: usize = 1 << 30;

/// A global allocator that counts live bytes and aborts (a libFuzzer
/// "deadly signal" finding) when an allocation would take the heap past
/// [`HEAP_LIMIT`]: "allocates in proportion to a header field" shows up
/// as a crash with the input saved, not as an out-of-memory kill.
pub struct Capped;

static LIVE: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static ALLOCATOR: Capped = Capped;

fn over_limit(size: usize) -> ! {
    let mut msg =
        *b"hark-fuzz: allocation of 00000000000000000000 bytes would exceed the 1 GiB heap limit\n";
    let digits = &mut msg[25..45];
    let mut n = size;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let _ = std::io::stderr().write_all(&msg);
    std::process::abort()
}

fn charge(size: usize) {
    let before = LIVE.fetch_add(size, Ordering::Relaxed);
    if size > HEAP_LIMIT || before.saturating_add(size) > HEAP_LIMIT {
        over_limit(size);
    }
}

// SAFETY: every call is forwarded to `System` with the same arguments; the
// counter is bookkeeping only.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        let p = System.alloc(layout);
        if p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        let p = System.alloc_zeroed(layout);
        if p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old {
            charge(new_size - old);
        }
        let p = System.realloc(ptr, layout, new_size);
        if p.is_null() {
            if new_size > old {
                LIVE.fetch_sub(new_size - old, Ordering::Relaxed);
            }
        } else if new_size < old {
            LIVE.fetch_sub(old - new_size, Ordering::Relaxed);
        }
        p
    }
}

/// A scratch directory for the inputs harnesses must pass as files
/// (`$TMPDIR`, which `scripts/fuzz` points at a fresh tmpfs folder).
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hark-fuzz-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        dir
    })
    .join(name)
}

fn write_scratch(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch(name);
    if let Err(e) = std::fs::write(&path, data) {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}

/// hark's rule for error messages: one line.
fn one_line(what: &str, msg: &str) {
    assert!(!msg.contains('\n'), "{what}: multi-line error: {msg:?}");
}

/// At most this much source audio is decoded per input, so that a small
/// file encoding hours of silence costs one slow unit, not a timeout.
const AUDIO_SECS: u64 = 60;

/// The audio stage: sniff, open (symphonia; the ffmpeg fallback is
/// disabled: it is another program), decode every block, down-mix or keep
/// channels apart, resample to 16 kHz, and run the end-of-stream checks.
pub fn audio(data: &[u8]) {
    static NO_FFMPEG: Once = Once::new();
    NO_FFMPEG.call_once(|| std::env::set_var("HARK_FFMPEG", "none"));
    let name = "fuzz.audio";
    let path = write_scratch(name, data);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => panic!("cannot reopen {}: {e}", path.display()),
    };
    let check = |e: &audio::AudioError| {
        let msg = e.to_string();
        assert!(!e.is_internal(), "internal error on input: {msg}");
        assert!(
            msg.starts_with("fuzz.audio: "),
            "message names no input: {msg}"
        );
        one_line("audio", &msg);
    };
    let mut stream = match AudioStream::open(file, name) {
        Ok(s) => s,
        Err(e) => return check(&e),
    };
    let info = stream.info().clone();
    assert!(
        (audio::MIN_RATE..=audio::MAX_RATE).contains(&info.sample_rate),
        "rate {} out of range",
        info.sample_rate
    );
    assert!(
        (1..=audio::MAX_CHANNELS).contains(&info.channels),
        "{} channels",
        info.channels
    );
    // Channel diarization keeps every channel: cover it on a quarter of inputs.
    let mix = if data.len() % 4 == 0 {
        Mix::PerChannel
    } else {
        Mix::Mono
    };
    let mut resampler = match Resampler::new(info.sample_rate, info.channels, mix) {
        Ok(r) => r,
        Err(e) => panic!("resampler refused the stream's own info {info:?}: {e}"),
    };
    let limit = AUDIO_SECS * u64::from(info.sample_rate);
    let mut frames = 0u64;
    loop {
        match stream.next_block() {
            Ok(Some(block)) => {
                assert_eq!(block.len(), info.channels, "block channel count");
                let n = block[0].len();
                assert!(n > 0, "empty block");
                for plane in &block {
                    assert_eq!(plane.len(), n, "unequal planes");
                    assert!(
                        plane.iter().all(|x| (-1.0..=1.0).contains(x)),
                        "sample outside [-1, 1]"
                    );
                }
                if let Err(e) = resampler.process(&block) {
                    panic!("resampler failed: {e}");
                }
                frames += n as u64;
                if frames > limit {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return check(&e),
        }
    }
    if let Err(e) = resampler.finish() {
        panic!("resampler failed at the end: {e}");
    }
    if let Some(t) = stream.truncation() {
        one_line("audio", &t.to_string());
    }
}

/// The job config: strict parse (unknown-field paths, line and column),
/// then resolution into the settings a run uses (regex replacements are
/// compiled, labels and URLs checked).
pub fn job_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match JobConfig::parse(text) {
        Ok(config) => {
            if let Err(e) = Effective::resolve(Some(&config), None, None, None) {
                one_line("job config", &e.to_string());
            }
        }
        Err(e) => one_line("job config", &e.to_string()),
    }
}

fn now() -> time::OffsetDateTime {
    // 2026-06-01 00:00 UTC: inside the fixtures' validity window.
    time::OffsetDateTime::from_unix_timestamp(1_780_272_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A license token as `LICENSE_TOKEN` gives it: verified for a job, and
/// shown by `hark license inspect --token`.
pub fn license_token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let want = Entitlement {
        language: Some("en"),
        ..Entitlement::BATCH
    };
    if let Err(e) = license::verify(&LicenseSource::Token(text.to_owned()), now(), &want) {
        one_line("license token", &e.to_string());
    }
    let inspect = LicenseCommand::Inspect {
        file: None,
        token: Some(text.to_owned()),
    };
    if let Err(e) = license::run_command(&inspect, None, Path::new("/nonexistent"), now()) {
        one_line("license inspect", &e.to_string());
    }
}

/// Claims that verify: the input is the claims JSON, signed here with the
/// repository's development key (its private half is public), so the
/// strict claims checks behind the signature are reached.
pub fn license_claims(data: &[u8]) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    use ed25519_dalek::{Signer, SigningKey};

    static KEY: OnceLock<SigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let pem = include_str!("../../keys/dev/hark-dev-2026.PRIVATE-KEY-IS-PUBLIC.pem");
        match SigningKey::from_pkcs8_pem(pem) {
            Ok(k) => k,
            Err(e) => panic!("development key: {e}"),
        }
    });
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT","kid":"hark-dev-2026"}"#);
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(data));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signed.as_bytes()).to_bytes());
    license_token(format!("{signed}.{signature}").as_bytes());
}

/// A license file (`/license.json`, `--license PATH`): read, parsed,
/// its token verified and its fields checked against the claims, then
/// shown by `hark license inspect FILE`.
pub fn license_file(data: &[u8]) {
    let path = write_scratch("license.json", data);
    let source = LicenseSource::File(path.clone());
    if let Err(e) = license::verify(&source, now(), &Entitlement::BATCH) {
        one_line("license file", &e.to_string());
    }
    let inspect = LicenseCommand::Inspect {
        file: Some(path),
        token: None,
    };
    if let Err(e) = license::run_command(&inspect, None, Path::new("/nonexistent"), now()) {
        one_line("license inspect", &e.to_string());
    }
}

/// A model directory's `tokens.txt`, read from a file as a model load does.
pub fn tokens(data: &[u8]) {
    let path = write_scratch("tokens.txt", data);
    match Tokens::load(&path) {
        Ok(t) => {
            assert!(!t.is_empty());
            for id in 0..t.len() {
                assert!(t.piece(id).is_some(), "id {id} of {} has no piece", t.len());
            }
        }
        Err(e) => one_line("tokens.txt", &e.to_string()),
    }
}
