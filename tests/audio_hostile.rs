//! Hostile input (issue 14): headers that promise what the file does not
//! hold, files cut short, absurd parameters. Each case runs the real binary
//! (exit code, first stderr line, empty stdout on failure) or the audio
//! stage's own entry point. The inputs are built here, byte by byte, from
//! the committed fixtures; nothing hostile is committed as a blob.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hark::audio::{AudioError, AudioStream};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::repo("tests/fixtures/audio").join(name)).unwrap()
}

/// A canonical PCM WAV header: `data_len` is what the header claims,
/// whatever follows it.
fn wav_header(rate: u32, channels: u16, bits: u16, data_len: u32) -> Vec<u8> {
    let block = u32::from(channels) * u32::from(bits) / 8;
    let mut h = b"RIFF".to_vec();
    h.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0");
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&rate.wrapping_mul(block).to_le_bytes());
    h.extend_from_slice(&(block as u16).to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

/// Low-level noise as 16-bit PCM (deterministic).
fn pcm16(frames: usize) -> Vec<u8> {
    (0..frames)
        .flat_map(|i| (((i * 7919) % 2000) as i16 - 1000).to_le_bytes())
        .collect()
}

/// Inserts a Xing frame claiming `frames` MPEG frames before the first
/// audio frame of an MP3 (after its ID3v2 tag), as LAME writes one.
fn with_xing(mp3: &[u8], frames: u32) -> Vec<u8> {
    let start = if mp3.starts_with(b"ID3") {
        let size = mp3[6..10]
            .iter()
            .fold(0usize, |a, b| (a << 7) | usize::from(b & 0x7f));
        10 + size
    } else {
        0
    };
    let h = &mp3[start..start + 4];
    assert_eq!((h[0], h[1] & 0xfe), (0xff, 0xfa), "MPEG-1 layer III");
    const KBPS: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const RATES: [u32; 3] = [44_100, 48_000, 32_000];
    let kbps = KBPS[usize::from(h[2] >> 4)];
    let rate = RATES[usize::from((h[2] >> 2) & 3)];
    let size = (144 * kbps * 1000 / rate) as usize + usize::from((h[2] >> 1) & 1);
    let side_info = if h[3] >> 6 == 3 { 17 } else { 32 };
    let mut xing = vec![0u8; size];
    xing[..4].copy_from_slice(h);
    let tag = 4 + side_info;
    xing[tag..tag + 4].copy_from_slice(b"Xing");
    xing[tag + 4..tag + 8].copy_from_slice(&1u32.to_be_bytes()); // frames field present
    xing[tag + 8..tag + 12].copy_from_slice(&frames.to_be_bytes());
    [&mp3[..start], &xing, &mp3[start..]].concat()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs hark on `input` and checks a clean input error: exit 4, nothing on
/// stdout, a first stderr line starting with `first_line`.
fn refused(input: &Path, first_line: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = common::transcribe(tmp.path(), input).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{}: {err}", input.display());
    assert!(out.stdout.is_empty(), "stdout written on failure");
    let first = err.lines().next().unwrap_or_default();
    let first = first.strip_prefix("hark: error: ").unwrap_or(first);
    assert!(
        first.starts_with(first_line),
        "first stderr line: {first:?}"
    );
}

#[test]
fn a_wav_claiming_4_gb_that_holds_1_kb_is_empty() {
    // The reported hole: 48 kHz stereo, a data chunk claiming ~4 GB (6 h),
    // 1 KB of samples (5 ms). It used to exit 0 with an empty transcript.
    let dir = tempfile::tempdir().unwrap();
    let bytes = [wav_header(48_000, 2, 16, 0xFFFF_FF00), pcm16(512)].concat();
    let input = write(dir.path(), "claims-4GB.wav", &bytes);
    refused(
        &input,
        "claims-4GB.wav: empty: only 5 ms of audio decoded, under the 0.1 s minimum \
         (the header says 6 h 12 min 50 s: truncated?)",
    );
}

#[test]
fn a_few_milliseconds_of_audio_is_empty_whatever_the_header_says() {
    let dir = tempfile::tempdir().unwrap();
    // An honest header, 50 ms of audio: still empty (under 0.1 s).
    let bytes = [wav_header(16_000, 1, 16, 1600), pcm16(800)].concat();
    let input = write(dir.path(), "50ms.wav", &bytes);
    refused(
        &input,
        "50ms.wav: empty: only 50 ms of audio decoded, under the 0.1 s minimum",
    );
    // A header-only WAV still says plainly that there are no samples.
    let input = write(dir.path(), "none.wav", &wav_header(16_000, 1, 16, 0));
    refused(&input, "none.wav: empty (no audio samples)");
}

#[test]
fn an_mp3_cut_after_3000_bytes_warns_that_it_looks_truncated() {
    // The reported hole: its Xing frame implies 3.4 s, 0.3 s decodes; it
    // used to exit 0 with no words and no warning.
    let dir = tempfile::tempdir().unwrap();
    let mut mp3 = with_xing(&fixture("tone.mp3"), 130); // 130 x 1152 / 44.1 kHz = 3.4 s
    mp3.truncate(3000);
    let input = write(dir.path(), "cut.mp3", &mp3);
    let tmp = tempfile::tempdir().unwrap();
    let out = common::transcribe(tmp.path(), &input).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("cut.mp3: input looks truncated: header says 3.4 s, decoded 0.3 s"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "2.9");
}

#[test]
fn the_whole_mp3_with_the_same_xing_frame_does_not_warn() {
    // 1.5 s: 57 frames of 1152 at 44.1 kHz, as its Xing frame says.
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "whole.mp3",
        &with_xing(&fixture("tone.mp3"), 57),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = common::transcribe(tmp.path(), &input).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("truncated"), "{err}");
}

#[test]
fn no_committed_fixture_looks_truncated() {
    // Encoder priming, padding and bit-rate estimates must not count (nor
    // ffprobe's durations, for the formats that go to ffmpeg).
    let dir = common::repo("tests/fixtures/audio");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols[4] != "symphonia" && !hark::audio::ffmpeg_available() {
            continue;
        }
        let file = std::fs::File::open(dir.join(cols[0])).unwrap();
        let mut s = AudioStream::open(file, cols[0]).unwrap();
        while s.next_block().unwrap().is_some() {}
        assert_eq!(s.truncation(), None, "{}", cols[0]);
    }
}

#[test]
fn a_wav_cut_in_half_looks_truncated() {
    let full = fixture("pcm_s24.wav");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "half.wav", &full[..full.len() / 2]);
    let mut s = AudioStream::open(std::fs::File::open(&path).unwrap(), "half.wav").unwrap();
    while s.next_block().unwrap().is_some() {}
    let t = s.truncation().expect("truncation");
    assert_eq!(
        t.to_string(),
        "input looks truncated: header says 1.5 s, decoded 0.7 s"
    );
}

#[test]
fn a_cut_flac_file_looks_truncated() {
    // FLAC states its length in STREAMINFO.
    let full = fixture("tone.flac");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "cut.flac", &full[..full.len() / 2]);
    let mut s = AudioStream::open(std::fs::File::open(&path).unwrap(), "cut.flac").unwrap();
    while s.next_block().unwrap().is_some() {}
    let t = s.truncation().expect("truncation").to_string();
    assert!(
        t.starts_with("input looks truncated: header says 1.5 s, decoded 0."),
        "{t}"
    );
}

#[test]
fn cut_ogg_webm_and_mp4_files_are_called_truncated_not_unknown() {
    // symphonia cannot open these once cut (Ogg: it reads the last page;
    // MP4: the moov box is at the end): the error says what the file
    // looked like instead of "not a recognised audio format".
    let dir = tempfile::tempdir().unwrap();
    for (name, first_line) in [
        (
            "vorbis.ogg",
            "cut-vorbis.ogg: malformed audio: an Ogg file that ends inside its headers (truncated?)",
        ),
        (
            "vorbis.webm",
            "cut-vorbis.webm: malformed audio: a Matroska/WebM file that cannot be read: mkv: missing segment element (truncated?)",
        ),
        (
            "aac.m4a",
            "cut-aac.m4a: malformed audio: an MP4 file that cannot be read: isomp4: missing moov atom (truncated?)",
        ),
    ] {
        let full = fixture(name);
        let input = write(dir.path(), &format!("cut-{name}"), &full[..full.len() / 2]);
        refused(&input, first_line);
    }
}

#[test]
fn a_header_over_the_limit_that_the_file_holds_is_refused_before_decoding() {
    // 2 h 0 min 10 s of 2 kHz 8-bit mono: 14.4 MB, written sparse.
    let dir = tempfile::tempdir().unwrap();
    let frames: u32 = 2_000 * 7_210;
    let mut h = wav_header(2_000, 1, 8, frames);
    h.extend_from_slice(&[128u8; 4096]);
    let path = write(dir.path(), "long.wav", &h);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(44 + u64::from(frames)).unwrap();
    let t0 = Instant::now();
    let err = AudioStream::open(std::fs::File::open(&path).unwrap(), "long.wav").unwrap_err();
    assert!(matches!(err, AudioError::TooLong { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "long.wav: too long: 2 h 0 min 10 s exceeds the 2 h limit"
    );
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    refused(
        &path,
        "long.wav: too long: 2 h 0 min 10 s exceeds the 2 h limit",
    );
}

#[test]
fn a_header_over_the_limit_that_the_file_cannot_hold_is_decoded_and_called_truncated() {
    // Claims 6 h of 16 kHz mono, holds 1 s.
    let dir = tempfile::tempdir().unwrap();
    let bytes = [wav_header(16_000, 1, 16, 691_200_000), pcm16(16_000)].concat();
    let path = write(dir.path(), "claims-6h.wav", &bytes);
    let mut s = AudioStream::open(std::fs::File::open(&path).unwrap(), "claims-6h.wav").unwrap();
    while s.next_block().unwrap().is_some() {}
    assert_eq!(
        s.truncation().map(|t| t.to_string()).as_deref(),
        Some("input looks truncated: header says 6 h, decoded 1.0 s")
    );
}

#[test]
fn absurd_channel_counts_and_rates_exit_4() {
    // hark refuses more than 64 channels itself (tested in src/audio); in
    // WAV, symphonia already refuses more than 26. (65,535 channels also
    // overflows a u16 in symphonia's fmt parser: a panic in debug builds
    // only, so it is not used here.)
    let dir = tempfile::tempdir().unwrap();
    let data = pcm16(4096);
    let cases = [
        (
            "40ch.wav",
            wav_header(16_000, 40, 16, 8192),
            "40ch.wav: malformed audio: riff: invalid channel count",
        ),
        (
            "4GHz.wav",
            wav_header(u32::MAX, 1, 16, 8192),
            "4GHz.wav: unusable audio parameters: sample rate 4294967295 Hz is outside 2000..768000 Hz",
        ),
        (
            "1MHz.wav",
            wav_header(1_000_000, 1, 16, 8192),
            "1MHz.wav: unusable audio parameters: sample rate 1000000 Hz is outside 2000..768000 Hz",
        ),
    ];
    for (name, header, first_line) in cases {
        let input = write(dir.path(), name, &[header, data.clone()].concat());
        refused(&input, first_line);
    }
}

#[test]
fn an_mp3_whose_frames_are_mostly_garbage_is_corrupt() {
    // Keep every frame header, scramble the rest: most packets fail.
    let mp3 = fixture("tone.mp3");
    let start = 20;
    let mut bad = mp3.clone();
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    for (i, b) in bad.iter_mut().enumerate().skip(start) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        if (i - start) % 209 >= 6 {
            *b = (s >> 32) as u8;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "garbage.mp3", &bad);
    let tmp = tempfile::tempdir().unwrap();
    let out = common::transcribe(tmp.path(), &input).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(out.stdout.is_empty());
}
