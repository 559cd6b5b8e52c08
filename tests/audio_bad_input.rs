//! Bad input never panics, never hangs and never decodes to garbage: each
//! of these inputs must give a clean `AudioError` (an input error, not an
//! internal one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use hark::audio::{decode_file, AudioError, Mix};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audio")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// xorshift64*: deterministic bytes for a seed.
fn random(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn wav_header(rate: u32, channels: u16, bits: u16, data_len: u32) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut h = b"RIFF".to_vec();
    h.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0");
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    h.extend_from_slice(&block.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

fn cut(mut bytes: Vec<u8>, len: usize) -> Vec<u8> {
    bytes.truncate(len);
    bytes
}

fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&format!(
            "line {i}: this is a plain text file, not audio.\n"
        ));
    }
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![
        ("empty.wav", Vec::new()),
        ("one-byte.mp3", vec![0xFF]),
        ("text.txt", text.into_bytes()),
        (
            "text-named.wav",
            b"hello, I am not a wav file\n".repeat(100),
        ),
        ("zeros.bin", vec![0; 100_000]),
        ("header-only.wav", wav_header(16_000, 1, 16, 0)),
        ("huge-claim.wav", wav_header(16_000, 1, 16, 0x7FFF_FFF0)),
        (
            "zero-channels.wav",
            [wav_header(16_000, 0, 16, 3200), vec![0; 3200]].concat(),
        ),
        (
            "zero-rate.wav",
            [wav_header(0, 1, 16, 3200), vec![0; 3200]].concat(),
        ),
        (
            "one-hz.wav",
            [wav_header(1, 1, 16, 3200), vec![0; 3200]].concat(),
        ),
        (
            "riff-then-random.wav",
            [b"RIFF\xff\xff\xff\xffWAVE".to_vec(), random(7, 50_000)].concat(),
        ),
        ("truncated-header.wav", cut(fixture("pcm_s24.wav"), 30)),
        ("truncated.mp3", cut(fixture("tone.mp3"), 100)),
        ("truncated.flac", cut(fixture("tone.flac"), 60)),
        ("truncated.m4a", cut(fixture("aac.m4a"), 300)),
        ("truncated.ogg", cut(fixture("vorbis.ogg"), 200)),
        (
            "png.png",
            [b"\x89PNG\r\n\x1a\n".to_vec(), random(3, 4000)].concat(),
        ),
        (
            "zip.zip",
            [b"PK\x03\x04".to_vec(), random(4, 4000)].concat(),
        ),
        (
            "mpeg-ps-then-random.mpg",
            [vec![0, 0, 1, 0xBA], random(5, 4000)].concat(),
        ),
    ];
    for (seed, len) in [
        (1u64, 1_000usize),
        (2, 65_536),
        (3, 1 << 20),
        (11, 300_000),
        (12, 8_192),
    ] {
        let name: &'static str = Box::leak(format!("random-{seed}-{len}.bin").into_boxed_str());
        v.push((name, random(seed, len)));
    }
    v
}

#[test]
fn bad_inputs_give_clean_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = cases();
    assert!(cases.len() >= 20);
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .expect("write");
        // Run in a thread so a hang is reported instead of stalling the suite.
        let t0 = std::time::Instant::now();
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let _ = tx.send(decode_file(&p, Mix::Mono).map(|(info, out)| (info, out[0].len())));
        });
        let result = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{name}: panicked or hung"));
        match result {
            Ok((info, len)) => panic!("{name}: decoded {len} samples ({info:?})"),
            Err(e) => {
                let msg = e.to_string();
                assert!(!e.is_internal(), "{name}: internal error: {msg}");
                assert!(msg.starts_with(&format!("{name}: ")), "{name}: {msg}");
                assert!(!msg.contains('\n'), "{name}: multi-line: {msg}");
                eprintln!("{msg} ({:?})", t0.elapsed());
            }
        }
    }
}

#[test]
fn empty_inputs_say_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in [
        ("zero.wav", Vec::new()),
        ("header-only.wav", wav_header(16_000, 1, 16, 0)),
        ("claims-2GB.wav", wav_header(16_000, 1, 16, 0x7FFF_FFF0)),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let err = decode_file(&path, Mix::Mono).expect_err(name);
        assert!(matches!(err, AudioError::Empty { .. }), "{name}: {err}");
        assert_eq!(err.to_string(), format!("{name}: empty (no audio samples)"));
    }
}

#[test]
fn a_wav_cut_in_half_decodes_what_is_there() {
    let full = fixture("pcm_s24.wav");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("half.wav");
    std::fs::write(&path, &full[..full.len() / 2]).expect("write");
    let (_, out) = decode_file(&path, Mix::Mono).expect("half a wav");
    let secs = out[0].len() as f64 / 16_000.0;
    assert!((secs - 0.75).abs() < 0.01, "{secs}");
}
