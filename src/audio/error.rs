//! The audio stage's error type.
//!
//! Every variant's message is one line that starts with the input's display
//! name and says what is wrong. All of them are input errors (exit code 4)
//! except those for which [`AudioError::is_internal`] is true (hark bugs,
//! exit code 1). Imports: std and thiserror only.

use std::fmt;

use super::{MAX_DURATION_SECS, MIN_DURATION_SECS};

/// Why an input could not be turned into audio samples.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// Reading the input failed.
    #[error("{name}: read error: {source}")]
    Io {
        /// Display name of the input.
        name: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`super::MAX_INPUT_BYTES`].
    #[error("{name}: too large: {} exceeds the 4 GiB limit", Gib(*.bytes))]
    TooLarge {
        /// Display name of the input.
        name: String,
        /// File size in bytes.
        bytes: u64,
    },
    /// The audio is longer than [`MAX_DURATION_SECS`].
    #[error("{name}: too long: {}", TooLongText(*.secs))]
    TooLong {
        /// Display name of the input.
        name: String,
        /// Total duration from the headers, when known.
        secs: Option<f64>,
    },
    /// Zero bytes, or a valid container with no audio samples in it.
    #[error("{name}: empty (no audio samples)")]
    Empty {
        /// Display name of the input.
        name: String,
    },
    /// Audio decoded, but less than [`MIN_DURATION_SECS`] of it: as good as
    /// empty, whatever the headers claim.
    #[error("{name}: empty: only {} of audio decoded, under the {} minimum{}", Secs(*.secs), Secs(MIN_DURATION_SECS), Claimed(*.declared))]
    TooShort {
        /// Display name of the input.
        name: String,
        /// Seconds decoded.
        secs: f64,
        /// The (longer) duration the headers state, when they state one.
        declared: Option<f64>,
    },
    /// No known container/codec signature (text, random bytes, ...).
    #[error("{name}: not a recognised audio format")]
    NotAudio {
        /// Display name of the input.
        name: String,
    },
    /// A container without any audio track (e.g. video only).
    #[error("{name}: no audio track")]
    NoAudioTrack {
        /// Display name of the input.
        name: String,
    },
    /// A format the built-in decoders cannot handle and ffmpeg is not available.
    #[error(
        "{name}: {what} is not supported by the built-in decoders; install ffmpeg or convert to WAV/FLAC"
    )]
    Unsupported {
        /// Display name of the input.
        name: String,
        /// What was found, e.g. "AMR audio" or "codec 'opus' in isomp4".
        what: String,
    },
    /// Too many packets failed to decode.
    #[error("{name}: corrupt: {failed} of {total} packets failed to decode")]
    Corrupt {
        /// Display name of the input.
        name: String,
        /// Packets that failed.
        failed: u64,
        /// Packets read.
        total: u64,
    },
    /// The stream is structurally broken (unrecoverable demux/decode error).
    #[error("{name}: malformed audio: {detail}")]
    Malformed {
        /// Display name of the input.
        name: String,
        /// What the decoder reported.
        detail: String,
    },
    /// The stream lacks or changes its sample rate or channel count.
    #[error("{name}: unusable audio parameters: {detail}")]
    BadParams {
        /// Display name of the input.
        name: String,
        /// Which parameter is missing or invalid.
        detail: String,
    },
    /// The ffmpeg fallback failed on this input.
    #[error("{name}: ffmpeg could not decode it: {detail}")]
    Ffmpeg {
        /// Display name of the input.
        name: String,
        /// First line of ffmpeg's error output, or what went wrong.
        detail: String,
    },
    /// A bug in hark (e.g. the resampler rejected its own parameters).
    #[error("internal audio error (a bug in hark): {detail}")]
    Internal {
        /// What went wrong.
        detail: String,
    },
}

impl AudioError {
    /// True for errors that are hark bugs (exit code 1) rather than bad
    /// input (exit code 4).
    pub fn is_internal(&self) -> bool {
        matches!(self, AudioError::Internal { .. })
    }

    pub(crate) fn internal(detail: impl fmt::Display) -> AudioError {
        AudioError::Internal {
            detail: detail.to_string(),
        }
    }
}

/// Formats whole seconds as "2 h 3 min", "2 h 0 min 10 s", "45 min" or "2 h".
struct Hm(f64);

impl fmt::Display for Hm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.max(0.0).round() as u64;
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        let mut parts = Vec::new();
        if h > 0 {
            parts.push(format!("{h} h"));
        }
        if m > 0 || (h > 0 && s > 0) {
            parts.push(format!("{m} min"));
        }
        if s > 0 || total == 0 {
            parts.push(format!("{s} s"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// A duration for messages: "5 ms" below 0.1 s, "3.4 s" below a minute,
/// else as [`Hm`] ("6 h 12 min").
pub(crate) struct Secs(pub(crate) f64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.max(0.0);
        if s < 0.1 {
            write!(f, "{} ms", (s * 1000.0).round())
        } else if s < 60.0 {
            write!(f, "{s:.1} s")
        } else {
            Hm(s).fmt(f)
        }
    }
}

/// ` (the header says 6 h 12 min: truncated?)`, or nothing.
struct Claimed(Option<f64>);

impl fmt::Display for Claimed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) if d.is_finite() => write!(f, " (the header says {}: truncated?)", Secs(d)),
            _ => Ok(()),
        }
    }
}

struct TooLongText(Option<f64>);

impl fmt::Display for TooLongText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(secs) => write!(
                f,
                "{} exceeds the {} limit",
                Hm(secs),
                Hm(MAX_DURATION_SECS)
            ),
            None => write!(
                f,
                "more than {0} of audio (the limit is {0})",
                Hm(MAX_DURATION_SECS)
            ),
        }
    }
}

struct Gib(u64);

impl fmt::Display for Gib {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} GiB", self.0 as f64 / f64::from(1u32 << 30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_name_the_input() {
        let cases = [
            AudioError::TooLong {
                name: "x.wav".into(),
                secs: Some(7380.0),
            },
            AudioError::TooLong {
                name: "x.wav".into(),
                secs: None,
            },
            AudioError::TooLarge {
                name: "x.wav".into(),
                bytes: 5 << 30,
            },
            AudioError::Corrupt {
                name: "x.wav".into(),
                failed: 95,
                total: 100,
            },
            AudioError::Unsupported {
                name: "x.wav".into(),
                what: "AMR audio".into(),
            },
            AudioError::TooShort {
                name: "x.wav".into(),
                secs: 0.0053,
                declared: Some(22_369.6),
            },
        ];
        for e in &cases {
            let s = e.to_string();
            assert!(s.starts_with("x.wav: "), "{s}");
            assert!(!s.contains('\n'), "{s}");
            assert!(!e.is_internal());
        }
        assert_eq!(
            cases[0].to_string(),
            "x.wav: too long: 2 h 3 min exceeds the 2 h limit"
        );
        assert_eq!(
            cases[1].to_string(),
            "x.wav: too long: more than 2 h of audio (the limit is 2 h)"
        );
        assert_eq!(
            cases[2].to_string(),
            "x.wav: too large: 5.0 GiB exceeds the 4 GiB limit"
        );
        assert_eq!(
            cases[5].to_string(),
            "x.wav: empty: only 5 ms of audio decoded, under the 0.1 s minimum \
             (the header says 6 h 12 min 50 s: truncated?)"
        );
        assert!(AudioError::internal("boom").is_internal());
        assert_eq!(Secs(0.3).to_string(), "0.3 s");
        assert_eq!(Secs(3.41).to_string(), "3.4 s");
        assert_eq!(Secs(0.0).to_string(), "0 ms");
        assert_eq!(Hm(45.0).to_string(), "45 s");
        assert_eq!(Hm(2700.0).to_string(), "45 min");
        assert_eq!(Hm(7210.0).to_string(), "2 h 0 min 10 s");
    }
}
