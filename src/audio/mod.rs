//! Audio: decode any common container/codec and produce 16 kHz f32 PCM.
//!
//! The first stage of hark. [`AudioStream`] opens a seekable file, sniffs its
//! first bytes ([`sniff`]), and streams planar `f32` blocks at the source rate
//! either from symphonia ([`decode`]) or, for formats symphonia cannot decode
//! or would decode wrongly, from the `ffmpeg` CLI ([`ffmpeg`]). [`Resampler`]
//! ([`resample`]) down-mixes and converts those blocks to [`TARGET_RATE`]
//! with exact time alignment. Memory stays flat: nothing holds a whole file
//! except the [`decode_file`] convenience.
//!
//! Hostile input is bounded here: over [`MAX_INPUT_BYTES`], or a header over
//! [`MAX_DURATION_SECS`] that the file's size can back, is refused at open;
//! rates and channel counts outside [`MIN_RATE`]..=[`MAX_RATE`] and
//! 1..=[`MAX_CHANNELS`] are refused before a decoder sizes buffers by them;
//! decoding stops at the duration limit whatever the headers say. At the end
//! of the stream, under [`MIN_DURATION_SECS`] decoded is "empty", mostly
//! failed packets are "corrupt", and far less audio than the headers state
//! is a warning ([`Truncation`]). See docs/fuzzing.md.
//!
//! Imports: std, symphonia, symphonia-adapter-libopus, rubato, thiserror and
//! tracing. Nothing else from hark; later stages import this module.

mod decode;
mod error;
mod ffmpeg;
mod mp4;
mod resample;
mod sniff;

use std::fs::File;
use std::path::Path;

pub use error::AudioError;
pub use resample::{Mix, Resampler};

/// The sample rate every later stage works at, in Hz.
pub const TARGET_RATE: u32 = 16_000;

/// Hard input limit on audio duration (Speechmatics' batch limit): longer
/// input is an error ([`AudioError::TooLong`]).
pub const MAX_DURATION_SECS: f64 = 7200.0;

/// Hard input limit on file size: larger input is an error
/// ([`AudioError::TooLarge`]).
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Decoded audio shorter than this is "empty" ([`AudioError::TooShort`]):
/// a few milliseconds hold no word, and are what a header-only or cut-off
/// file decodes to. 0.1 s is one 16 kHz feature window stride short of the
/// shortest spoken digit (~0.25 s).
pub const MIN_DURATION_SECS: f64 = 0.1;

/// Most channels accepted: more is not a recording of speech, and each
/// channel costs a resampler (and, under channel diarization, a chunker).
pub const MAX_CHANNELS: usize = 64;

/// Lowest source sample rate accepted (lower is not speech audio).
pub const MIN_RATE: u32 = 2_000;
/// Highest source sample rate accepted.
pub const MAX_RATE: u32 = 768_000;

/// A header's duration is called truncated when at most this fraction of
/// it decodes ...
const TRUNCATED_FRACTION: f64 = 0.9;
/// ... and at least this much is missing (so rounding, encoder priming
/// and padding never count).
const TRUNCATED_MIN_GAP_SECS: f64 = 0.25;

/// Which decoder produces the PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Built-in pure-Rust decoders (plus libopus for Opus).
    Symphonia,
    /// The external `ffmpeg` CLI (fallback for formats symphonia lacks).
    Ffmpeg,
}

/// What is known about an opened input before decoding it.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// Source sample rate in Hz (never 0).
    pub sample_rate: u32,
    /// Source channel count (never 0).
    pub channels: usize,
    /// Short codec name, e.g. `"mp3"`, `"pcm_s16le"`, `"opus"`.
    pub codec: String,
    /// Short container name, e.g. `"wav"`, `"isomp4"`, `"mpeg"`.
    pub container: String,
    /// Duration in seconds from the headers, when they state one. Only a
    /// hint: the limits are enforced on decoded samples.
    pub duration: Option<f64>,
    /// The decoder in use.
    pub backend: Backend,
}

/// Counters about a decode, for logs and corruption checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Packets decoded successfully.
    pub packets_decoded: u64,
    /// Packets skipped after a recoverable decode error.
    pub packets_skipped: u64,
    /// Sample frames (samples per channel) returned so far.
    pub samples_out: u64,
}

/// The input looks cut off: what [`AudioStream::truncation`] reports after
/// the end of stream. Its `Display` is the warning hark prints, e.g.
/// `input looks truncated: header says 3.4 s, decoded 0.3 s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truncation {
    /// Duration the container or frame headers state, in seconds; `None`
    /// when they state none and the file ended in the middle of a packet.
    pub declared_secs: Option<f64>,
    /// Duration actually decoded, in seconds.
    pub decoded_secs: f64,
}

impl Truncation {
    /// `Some` when `decoded` falls well short of `declared` (seconds):
    /// under 90 % of it and at least 0.25 s less.
    pub fn detect(declared: f64, decoded: f64) -> Option<Truncation> {
        let short =
            decoded < declared * TRUNCATED_FRACTION && declared - decoded >= TRUNCATED_MIN_GAP_SECS;
        short.then_some(Truncation {
            declared_secs: Some(declared),
            decoded_secs: decoded,
        })
    }
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let decoded = error::Secs(self.decoded_secs);
        match self.declared_secs {
            Some(d) => write!(
                f,
                "input looks truncated: header says {}, decoded {decoded}",
                error::Secs(d)
            ),
            None => write!(
                f,
                "input looks truncated: it ends in the middle of a packet, decoded {decoded}"
            ),
        }
    }
}

/// An opened, streaming decoder.
///
/// Blocks come out in order until `Ok(None)`; an error is final (further
/// calls return `Ok(None)`). Dropping the stream kills any ffmpeg child.
pub struct AudioStream {
    info: AudioInfo,
    inner: Inner,
    name: String,
    max_frames: u64,
    stats: DecodeStats,
    done: bool,
    truncation: Option<Truncation>,
}

enum Inner {
    Symphonia(Box<decode::SymphoniaDecoder>),
    Ffmpeg(ffmpeg::FfmpegDecoder),
}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("name", &self.name)
            .field("info", &self.info)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl AudioStream {
    /// Opens `file` (a seekable regular file; hark spools stdin to a temp
    /// file first). `name` is the display name used in errors ("stdin" or
    /// the file name); its extension is only a hint, the format is sniffed
    /// from the bytes.
    pub fn open(mut file: File, name: &str) -> Result<AudioStream, AudioError> {
        let io = |source| AudioError::Io {
            name: name.to_owned(),
            source,
        };
        let bytes = file.metadata().map_err(io)?.len();
        if bytes > MAX_INPUT_BYTES {
            return Err(AudioError::TooLarge {
                name: name.to_owned(),
                bytes,
            });
        }
        if bytes == 0 {
            return Err(AudioError::Empty {
                name: name.to_owned(),
            });
        }
        let (kind, container) = sniff::sniff(&mut file).map_err(io)?;
        tracing::debug!(input = name, ?kind, container, bytes, "sniffed input");
        let inner = match kind {
            sniff::Kind::Native => match decode::SymphoniaDecoder::open(file, name, container)? {
                decode::Opened::Decoder(d) => Inner::Symphonia(d),
                decode::Opened::Unsupported { file, what } => {
                    Inner::Ffmpeg(ffmpeg::FfmpegDecoder::open(file, name, &what)?)
                }
            },
            sniff::Kind::Fallback(what) => {
                Inner::Ffmpeg(ffmpeg::FfmpegDecoder::open(file, name, what)?)
            }
        };
        let info = match &inner {
            Inner::Symphonia(d) => d.info().clone(),
            Inner::Ffmpeg(d) => d.info().clone(),
        };
        check_params(name, Some(info.sample_rate), Some(info.channels))?;
        // The one line that says what the input is (the app does not repeat it).
        tracing::info!(
            input = name,
            rate = info.sample_rate,
            channels = info.channels,
            codec = %info.codec,
            container = %info.container,
            backend = ?info.backend,
            duration = %info.duration.map_or_else(|| "unknown".to_string(), |d| format!("{d:.2} s")),
            "input opened"
        );
        if let Some(declared) = info.duration.filter(|d| *d > MAX_DURATION_SECS) {
            // A header is believed only as far as the file can back it: a
            // cut-off or forged file claims hours it does not hold, so the
            // claim is checked against the file size at the bit rate of
            // the packets decoded so far. A real long file is refused now;
            // anything else is decoded, the limit enforced on samples.
            let held = match &inner {
                Inner::Symphonia(d) => d.bytes_per_frame(),
                Inner::Ffmpeg(_) => None,
            }
            .map(|per_frame| bytes as f64 / per_frame / f64::from(info.sample_rate));
            match held {
                Some(held) if held > MAX_DURATION_SECS => {
                    return Err(AudioError::TooLong {
                        name: name.to_owned(),
                        secs: Some(declared),
                    })
                }
                _ => tracing::debug!(
                    input = name,
                    declared,
                    held,
                    "the header's duration is over the limit, but the file cannot hold it"
                ),
            }
        }
        let max_frames = (MAX_DURATION_SECS * f64::from(info.sample_rate)).ceil() as u64;
        Ok(AudioStream {
            info,
            inner,
            name: name.to_owned(),
            max_frames,
            stats: DecodeStats::default(),
            done: false,
            truncation: None,
        })
    }

    /// What is known about the input.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The display name given to [`AudioStream::open`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Next block of decoded PCM: planar `f32` clamped to [-1, 1] (NaN → 0),
    /// one `Vec` per channel (`info().channels` of them, equal lengths, never
    /// empty), at `info().sample_rate`. `Ok(None)` at a clean end of stream.
    pub fn next_block(&mut self) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        if self.done {
            return Ok(None);
        }
        let block = match &mut self.inner {
            Inner::Symphonia(d) => d.next_block(&mut self.stats),
            Inner::Ffmpeg(d) => d.next_block(&mut self.stats),
        };
        let block = match block {
            Ok(Some(b)) => b,
            Ok(None) => {
                self.done = true;
                return self.check_end().map(|()| None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        let frames = block.first().map_or(0, Vec::len) as u64;
        self.stats.samples_out += frames;
        if self.stats.samples_out > self.max_frames {
            self.done = true;
            return Err(AudioError::TooLong {
                name: self.name.clone(),
                secs: self.info.duration.filter(|d| *d > MAX_DURATION_SECS),
            });
        }
        Ok(Some(block))
    }

    /// Counters so far (final after `next_block` returned `Ok(None)`).
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Set once the stream has ended (`next_block` returned `Ok(None)`) if
    /// the headers stated a duration and far less decoded. hark has
    /// already logged it as a warning; callers may report it further.
    pub fn truncation(&self) -> Option<Truncation> {
        self.truncation
    }

    /// End-of-stream checks, run by `next_block` when the stream ends:
    /// mostly failed packets are [`AudioError::Corrupt`]; no samples, or
    /// under [`MIN_DURATION_SECS`] of them, are [`AudioError::Empty`] or
    /// [`AudioError::TooShort`], whatever the headers claim; far fewer
    /// samples than the headers state is a warning ([`Truncation`]).
    fn check_end(&mut self) -> Result<(), AudioError> {
        let s = self.stats;
        tracing::debug!(input = %self.name, ?s, "end of stream");
        let total = s.packets_decoded + s.packets_skipped;
        if s.packets_skipped > 0
            && (s.samples_out == 0 || (total >= 3 && s.packets_skipped * 2 > total))
        {
            return Err(AudioError::Corrupt {
                name: self.name.clone(),
                failed: s.packets_skipped,
                total,
            });
        }
        if s.samples_out == 0 {
            return Err(AudioError::Empty {
                name: self.name.clone(),
            });
        }
        let decoded = s.samples_out as f64 / f64::from(self.info.sample_rate.max(1));
        if decoded < MIN_DURATION_SECS {
            return Err(AudioError::TooShort {
                name: self.name.clone(),
                secs: decoded,
                declared: self.info.duration.filter(|d| *d > decoded),
            });
        }
        self.truncation = match self.info.duration {
            Some(declared) => Truncation::detect(declared, decoded),
            None => self.cut_short().then_some(Truncation {
                declared_secs: None,
                decoded_secs: decoded,
            }),
        };
        if let Some(t) = self.truncation {
            tracing::warn!("{}: {t}", self.name);
        }
        if s.packets_skipped > 0 {
            tracing::warn!(
                input = %self.name,
                skipped = s.packets_skipped,
                total,
                "some packets failed to decode and were skipped"
            );
        }
        Ok(())
    }
}

impl AudioStream {
    /// True when the decoder met the end of the file inside a packet.
    fn cut_short(&self) -> bool {
        match &self.inner {
            Inner::Symphonia(d) => d.cut_short(),
            Inner::Ffmpeg(_) => false,
        }
    }
}

/// Checks a source sample rate and channel count (either may be unknown
/// yet) against [`MIN_RATE`]..=[`MAX_RATE`] and 1..=[`MAX_CHANNELS`].
pub(crate) fn check_params(
    name: &str,
    rate: Option<u32>,
    channels: Option<usize>,
) -> Result<(), AudioError> {
    let bad = |detail: String| {
        Err(AudioError::BadParams {
            name: name.to_owned(),
            detail,
        })
    };
    if let Some(rate) = rate.filter(|r| !(MIN_RATE..=MAX_RATE).contains(r)) {
        return bad(format!(
            "sample rate {rate} Hz is outside {MIN_RATE}..{MAX_RATE} Hz"
        ));
    }
    if let Some(n) = channels.filter(|n| !(1..=MAX_CHANNELS).contains(n)) {
        return bad(format!("{n} channels (hark takes 1 to {MAX_CHANNELS})"));
    }
    Ok(())
}

/// True when the ffmpeg fallback is usable: `HARK_FFMPEG` is not `none`
/// and an ffmpeg binary is named by it or found on `PATH`.
pub fn ffmpeg_available() -> bool {
    ffmpeg::available()
}

/// Convenience: decode and resample a whole file in memory (tests, short
/// files). Returns the info and one 16 kHz stream per [`Resampler::streams`].
pub fn decode_file(path: &Path, mix: Mix) -> Result<(AudioInfo, Vec<Vec<f32>>), AudioError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let file = File::open(path).map_err(|source| AudioError::Io {
        name: name.clone(),
        source,
    })?;
    let mut stream = AudioStream::open(file, &name)?;
    let info = stream.info().clone();
    let mut resampler = Resampler::new(info.sample_rate, info.channels, mix)?;
    let mut out = vec![Vec::new(); resampler.streams()];
    let append = |out: &mut Vec<Vec<f32>>, part: Vec<Vec<f32>>| {
        for (o, p) in out.iter_mut().zip(part) {
            o.extend_from_slice(&p);
        }
    };
    while let Some(block) = stream.next_block()? {
        append(&mut out, resampler.process(&block)?);
    }
    append(&mut out, resampler.finish()?);
    Ok((info, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_outside_the_limits_are_refused() {
        let msg = |rate, channels| match check_params("x.wav", rate, channels) {
            Ok(()) => String::new(),
            Err(e) => e.to_string(),
        };
        assert_eq!(msg(Some(16_000), Some(2)), "");
        assert_eq!(msg(None, None), "");
        assert_eq!(
            msg(None, Some(65)),
            "x.wav: unusable audio parameters: 65 channels (hark takes 1 to 64)"
        );
        assert_eq!(
            msg(Some(16_000), Some(65_535)),
            "x.wav: unusable audio parameters: 65535 channels (hark takes 1 to 64)"
        );
        assert_eq!(
            msg(Some(0), Some(1)),
            "x.wav: unusable audio parameters: sample rate 0 Hz is outside 2000..768000 Hz"
        );
    }

    #[test]
    fn truncation_needs_a_real_gap() {
        assert_eq!(Truncation::detect(1.5, 1.49), None);
        assert_eq!(Truncation::detect(1.0, 0.8), None); // 0.2 s: under the 0.25 s gap
        assert_eq!(Truncation::detect(600.0, 590.0), None); // 98 %
        let t = Truncation::detect(3.396, 0.34).map(|t| t.to_string());
        assert_eq!(
            t.as_deref(),
            Some("input looks truncated: header says 3.4 s, decoded 0.3 s")
        );
        let cut = Truncation {
            declared_secs: None,
            decoded_secs: 12.0,
        };
        assert_eq!(
            cut.to_string(),
            "input looks truncated: it ends in the middle of a packet, decoded 12.0 s"
        );
    }
}
