//! With `HARK_FFMPEG=none` the fallback formats fail with the specific
//! "not supported ... install ffmpeg" error, and everything else still
//! decodes. (Its own test binary: it sets a process-wide variable.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use hark::audio::{decode_file, AudioError, Mix};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio")
}

#[test]
fn fallback_formats_name_themselves_and_ask_for_ffmpeg() {
    // Every test in this binary sets the same value, so threads cannot race
    // on a different one.
    std::env::set_var("HARK_FFMPEG", "none");
    assert!(!hark::audio::ffmpeg_available());
    let expected = [
        ("amr_nb.amr", "AMR audio"),
        ("amr_nb.3gp", "AMR audio in 3GP"),
        (
            "mp2_program_stream.mpg",
            "an MPEG program stream (.mpg/.vob)",
        ),
        ("mp2_transport_stream.ts", "an MPEG transport stream (.ts)"),
        ("rf64.wav", "RF64/BW64 (large WAV)"),
        ("wma.wma", "ASF/WMA audio"),
    ];
    for (name, what) in expected {
        let err = decode_file(&fixtures().join(name), Mix::Mono).expect_err(name);
        assert!(
            matches!(err, AudioError::Unsupported { .. }),
            "{name}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{name}: {what} is not supported by the built-in decoders; \
                 install ffmpeg or convert to WAV/FLAC"
            )
        );
    }
}

#[test]
fn built_in_formats_do_not_need_ffmpeg() {
    std::env::set_var("HARK_FFMPEG", "none");
    for name in ["tone.flac", "opus.ogg", "aac.m4a", "tone.mp2", "mulaw.wav"] {
        let (info, out) = decode_file(&fixtures().join(name), Mix::Mono)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(info.backend, hark::audio::Backend::Symphonia, "{name}");
        assert!(out[0].len() > 20_000, "{name}");
    }
}
