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

/// Lowest source sample rate accepted (lower is not speech audio).
const MIN_RATE: u32 = 2_000;
/// Highest source sample rate accepted.
const MAX_RATE: u32 = 768_000;

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
        let kind = sniff::sniff(&mut file).map_err(io)?;
        tracing::debug!(input = name, ?kind, bytes, "sniffed input");
        let inner = match kind {
            sniff::Kind::Native => match decode::SymphoniaDecoder::open(file, name)? {
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
        if !(MIN_RATE..=MAX_RATE).contains(&info.sample_rate) {
            return Err(AudioError::BadParams {
                name: name.to_owned(),
                detail: format!(
                    "sample rate {} Hz is outside {MIN_RATE}..{MAX_RATE} Hz",
                    info.sample_rate
                ),
            });
        }
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
        if let Some(d) = info.duration {
            if d > MAX_DURATION_SECS {
                // Headers can lie (streamed WAVs claim 4 GiB); only warn here.
                tracing::warn!(input = name, secs = d, "header duration exceeds the limit");
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

    /// End-of-stream checks: no samples at all, or mostly failed packets.
    fn check_end(&self) -> Result<(), AudioError> {
        let s = &self.stats;
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
