//! The symphonia backend: demux + decode to planar f32 blocks.
//!
//! Follows symphonia's player loop: the default audio track is decoded,
//! recoverable `DecodeError`s are counted and skipped, `ResetRequired` is
//! handled, and end of stream is recognised explicitly (`Ok(None)` from the
//! reader, or an unexpected EOF on a truncated file, which is remembered
//! for the stream's end-of-stream checks). A
//! codec symphonia demuxes but cannot decode is handed back to the caller for
//! the ffmpeg fallback. Opus comes from `symphonia-adapter-libopus`.
//! Imports: std, symphonia, symphonia-adapter-libopus, tracing, and the
//! audio module's own types.

use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::OnceLock;

use symphonia::core::codecs::audio::well_known::*;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{mp4, AudioError, AudioInfo, Backend, DecodeStats};

/// After this many failed packets, a majority of failures is fatal at once
/// (rather than at the end of a possibly two-hour stream).
const EARLY_CORRUPT_MIN: u64 = 32;

/// Result of opening with symphonia.
pub(crate) enum Opened {
    /// Ready to decode.
    Decoder(Box<SymphoniaDecoder>),
    /// Demuxed, but the codec has no built-in decoder: try ffmpeg.
    Unsupported {
        /// The input again, for the fallback (its offset is unspecified).
        file: File,
        /// What was found, for messages.
        what: String,
    },
}

/// Streaming symphonia decoder for one audio track.
pub(crate) struct SymphoniaDecoder {
    name: String,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: AudioInfo,
    /// The first decoded block, read during `open` to learn the true format.
    pending: Option<Vec<Vec<f32>>>,
    /// Counters from `open` not yet merged into the caller's stats.
    primed: DecodeStats,
    /// Leading frames still to discard (MP4 edit list: encoder priming).
    skip: u64,
    /// The reader reached the end (or a truncation, warned about once).
    ended: bool,
    /// Bytes and frames of the packets decoded so far: the stream's bit
    /// rate, against which a header's claimed duration is checked.
    packet_bytes: u64,
    packet_frames: u64,
    /// The file ended inside a packet.
    cut_short: bool,
}

fn codecs() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

impl SymphoniaDecoder {
    /// Probes `file`, picks the default audio track, and decodes up to the
    /// first non-empty block to learn the real sample rate and channel count.
    /// `container` is what the sniffer saw in the first bytes (`"an Ogg"`),
    /// so that a cut file that cannot be probed is called malformed, not
    /// "not audio".
    pub(crate) fn open(
        file: File,
        name: &str,
        container: Option<&'static str>,
    ) -> Result<Opened, AudioError> {
        let err = |detail: String| AudioError::Malformed {
            name: name.to_owned(),
            detail,
        };
        let spare = file.try_clone().map_err(|source| AudioError::Io {
            name: name.to_owned(),
            source,
        })?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = Path::new(name).extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe().probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        );
        let not_audio = |why: String| match container {
            Some(c) => err(format!("{c} file {why} (truncated?)")),
            None => AudioError::NotAudio {
                name: name.to_owned(),
            },
        };
        let format = match probed {
            Ok(f) => f,
            Err(Error::Unsupported(what)) => {
                tracing::debug!(input = name, what, "no format reader matched");
                return Err(not_audio(format!("that cannot be read: {what}")));
            }
            Err(Error::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                tracing::debug!(input = name, "probe reached end of file");
                return Err(not_audio("that ends inside its headers".to_owned()));
            }
            Err(Error::IoError(source)) => {
                return Err(AudioError::Io {
                    name: name.to_owned(),
                    source,
                })
            }
            Err(e) => return Err(err(describe(&e))),
        };
        let container = format.format_info().short_name.to_owned();
        let Some(track) = format.default_track(TrackType::Audio).cloned() else {
            return match format.first_track(TrackType::Audio) {
                Some(t) => Ok(Opened::Unsupported {
                    file: spare,
                    what: unsupported_what(&t.codec_params, &container),
                }),
                None => Err(AudioError::NoAudioTrack {
                    name: name.to_owned(),
                }),
            };
        };
        let Some(params) = track.codec_params.as_ref().and_then(|p| p.audio()) else {
            return Err(AudioError::NoAudioTrack {
                name: name.to_owned(),
            });
        };
        // Refuse absurd headers before a decoder sizes its buffers by them
        // (0 is "unknown": the first decoded block is checked in any case).
        super::check_params(
            name,
            params.sample_rate.filter(|r| *r != 0),
            params
                .channels
                .as_ref()
                .map(|c| c.count())
                .filter(|n| *n != 0),
        )?;
        let decoder = match codecs().make_audio_decoder(params, &AudioDecoderOptions::default()) {
            Ok(d) => d,
            Err(Error::Unsupported(why)) => {
                tracing::debug!(input = name, why, "codec not supported by symphonia");
                return Ok(Opened::Unsupported {
                    file: spare,
                    what: unsupported_what(&track.codec_params, &container),
                });
            }
            Err(e) => return Err(err(describe(&e))),
        };
        let edit = if container == "isomp4" && track.delay.is_none() {
            let mut spare = spare;
            mp4::audio_edit(&mut spare).unwrap_or_else(|e| {
                tracing::debug!(input = name, error = %e, "cannot read the MP4 edit list");
                None
            })
        } else {
            None
        };
        let info = AudioInfo {
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.as_ref().map_or(0, |c| c.count()),
            codec: decoder.codec_info().short_name.to_owned(),
            container,
            duration: header_duration(&track),
            backend: Backend::Symphonia,
        };
        let mut me = SymphoniaDecoder {
            name: name.to_owned(),
            format,
            decoder,
            track_id: track.id,
            info,
            pending: None,
            primed: DecodeStats::default(),
            skip: 0,
            ended: false,
            packet_bytes: 0,
            packet_frames: 0,
            cut_short: false,
        };
        me.prime()?;
        if let Some(edit) = edit {
            me.skip = edit.frames_at(me.info.sample_rate);
            tracing::debug!(
                input = name,
                frames = me.skip,
                "skipping MP4 edit-list priming"
            );
        }
        Ok(Opened::Decoder(Box::new(me)))
    }

    /// Decodes the first non-empty block and takes rate/channels from it.
    fn prime(&mut self) -> Result<(), AudioError> {
        let mut stats = DecodeStats::default();
        let (header_rate, header_channels) = (self.info.sample_rate, self.info.channels);
        // Rate and channels are re-read from the first decoded block.
        self.info.sample_rate = 0;
        self.info.channels = 0;
        let first = self.next_raw(&mut stats)?;
        self.primed = stats;
        if let Some(block) = first {
            self.pending = Some(block);
        }
        if self.pending.is_some() && (self.info.sample_rate == 0 || self.info.channels == 0) {
            return Err(AudioError::BadParams {
                name: self.name.clone(),
                detail: "unknown sample rate or channel count".into(),
            });
        }
        if self.pending.is_none() {
            // No samples at all: the caller will report "empty" or
            // "corrupt" at the first `next_block`; until then keep info
            // plausible (a resampler may be built from it).
            self.info.sample_rate = match header_rate {
                0 => super::TARGET_RATE,
                r => r,
            };
            self.info.channels = header_channels.max(1);
        }
        Ok(())
    }

    /// Stream info (valid after `open`).
    pub(crate) fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// True once the file ended inside a packet (an unexpected EOF).
    pub(crate) fn cut_short(&self) -> bool {
        self.cut_short
    }

    /// Average coded bytes per sample frame of the packets decoded so far
    /// (`None` before any): with the file size, how much audio the file
    /// can hold at most, container overhead counted as audio.
    pub(crate) fn bytes_per_frame(&self) -> Option<f64> {
        (self.packet_bytes > 0 && self.packet_frames > 0)
            .then(|| self.packet_bytes as f64 / self.packet_frames as f64)
    }

    /// Next non-empty block, or `Ok(None)` at the end of the stream.
    pub(crate) fn next_block(
        &mut self,
        stats: &mut DecodeStats,
    ) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        let primed = std::mem::take(&mut self.primed);
        stats.packets_decoded += primed.packets_decoded;
        stats.packets_skipped += primed.packets_skipped;
        loop {
            let block = match self.pending.take() {
                Some(b) => b,
                None => match self.next_raw(stats)? {
                    Some(b) => b,
                    None => return Ok(None),
                },
            };
            let frames = block.first().map_or(0, Vec::len) as u64;
            if self.skip == 0 {
                return Ok(Some(block));
            }
            if frames <= self.skip {
                self.skip -= frames;
                continue;
            }
            let k = self.skip as usize;
            self.skip = 0;
            return Ok(Some(
                block
                    .into_iter()
                    .map(|mut p| {
                        p.drain(..k);
                        p
                    })
                    .collect(),
            ));
        }
    }

    fn next_raw(&mut self, stats: &mut DecodeStats) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.ended = true;
                    return Ok(None);
                }
                Err(Error::ResetRequired) => {
                    self.reset_track()?;
                    continue;
                }
                Err(Error::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    self.ended = true;
                    // Reported (or not) by the end-of-stream checks, which
                    // know what the headers promised.
                    tracing::debug!(input = %self.name, "unexpected end of file");
                    self.cut_short = true;
                    return Ok(None);
                }
                Err(Error::IoError(source)) => {
                    return Err(AudioError::Io {
                        name: self.name.clone(),
                        source,
                    })
                }
                Err(e) => return Err(self.malformed(&e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    stats.packets_decoded += 1;
                    if buf.frames() == 0 {
                        continue;
                    }
                    self.packet_bytes += packet.data.len() as u64;
                    self.packet_frames += buf.frames() as u64;
                    let rate = buf.spec().rate();
                    let channels = buf.spec().channels().count();
                    check_spec(&mut self.info, &self.name, rate, channels)?;
                    let mut planes: Vec<Vec<f32>> = Vec::with_capacity(channels);
                    buf.copy_to_vecs_planar(&mut planes);
                    for plane in &mut planes {
                        sanitize(plane);
                    }
                    return Ok(Some(planes));
                }
                Err(Error::DecodeError(why)) => {
                    tracing::debug!(input = %self.name, why, "skipping undecodable packet");
                    self.skip(stats)?;
                }
                Err(Error::IoError(e)) => {
                    tracing::debug!(input = %self.name, error = %e, "skipping packet (I/O error)");
                    self.skip(stats)?;
                }
                Err(Error::ResetRequired) => {
                    tracing::debug!(input = %self.name, "decoder reset required");
                    self.decoder.reset();
                    self.skip(stats)?;
                }
                Err(e) => return Err(self.malformed(&e)),
            }
        }
    }

    fn skip(&self, stats: &mut DecodeStats) -> Result<(), AudioError> {
        stats.packets_skipped += 1;
        let total = stats.packets_decoded + stats.packets_skipped;
        if stats.packets_skipped >= EARLY_CORRUPT_MIN && stats.packets_skipped * 2 > total {
            return Err(AudioError::Corrupt {
                name: self.name.clone(),
                failed: stats.packets_skipped,
                total,
            });
        }
        Ok(())
    }

    /// The track list changed (chained Ogg): re-select and re-create.
    fn reset_track(&mut self) -> Result<(), AudioError> {
        let params = self
            .format
            .default_track(TrackType::Audio)
            .and_then(|t| Some((t.id, t.codec_params.as_ref()?.audio()?.clone())));
        let Some((id, params)) = params else {
            return Err(AudioError::NoAudioTrack {
                name: self.name.clone(),
            });
        };
        self.decoder = codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| self.malformed(&e))?;
        self.track_id = id;
        tracing::debug!(input = %self.name, track = id, "track list changed; decoder re-created");
        Ok(())
    }

    fn malformed(&self, e: &Error) -> AudioError {
        AudioError::Malformed {
            name: self.name.clone(),
            detail: describe(e),
        }
    }
}

/// The first block fixes rate/channels (within hark's limits); later
/// blocks must agree.
fn check_spec(
    info: &mut AudioInfo,
    name: &str,
    rate: u32,
    channels: usize,
) -> Result<(), AudioError> {
    if info.sample_rate == 0 && info.channels == 0 {
        super::check_params(name, Some(rate), Some(channels))?;
        info.sample_rate = rate;
        info.channels = channels;
        return Ok(());
    }
    if rate != info.sample_rate || channels != info.channels {
        return Err(AudioError::BadParams {
            name: name.to_owned(),
            detail: format!(
                "format changes mid-stream from {} Hz x{} to {rate} Hz x{channels}",
                info.sample_rate, info.channels
            ),
        });
    }
    Ok(())
}

/// symphonia's message without its "malformed stream: " prefix.
fn describe(e: &Error) -> String {
    match e {
        Error::DecodeError(msg) => (*msg).to_owned(),
        other => other.to_string(),
    }
}

/// Clamps to [-1, 1] and replaces NaN with silence.
fn sanitize(plane: &mut [f32]) {
    for x in plane {
        *x = if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) };
    }
}

fn header_duration(track: &Track) -> Option<f64> {
    let rate = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .and_then(|a| a.sample_rate)
        .filter(|r| *r > 0);
    if let (Some(frames), Some(rate)) = (track.num_frames, rate) {
        return Some(frames as f64 / f64::from(rate));
    }
    let tb = track.time_base?;
    Some(tb.calc_duration(track.duration?)?.as_secs_f64())
}

fn unsupported_what(
    params: &Option<symphonia::core::codecs::CodecParameters>,
    container: &str,
) -> String {
    let id = params.as_ref().and_then(|p| p.audio()).map(|a| a.codec);
    match id {
        Some(id) => format!("codec '{}' in {container}", codec_name(id)),
        None => format!("an unknown codec in {container}"),
    }
}

fn codec_name(id: AudioCodecId) -> String {
    let known = [
        (CODEC_ID_OPUS, "opus"),
        (CODEC_ID_SPEEX, "speex"),
        (CODEC_ID_AC3, "ac3"),
        (CODEC_ID_EAC3, "eac3"),
        (CODEC_ID_AC4, "ac4"),
        (CODEC_ID_DCA, "dts"),
        (CODEC_ID_WMA, "wma"),
        (CODEC_ID_MUSEPACK, "musepack"),
        (CODEC_ID_WAVPACK, "wavpack"),
        (CODEC_ID_MONKEYS_AUDIO, "ape"),
        (CODEC_ID_TTA, "tta"),
        (CODEC_ID_TRUEHD, "truehd"),
        (CODEC_ID_ATRAC3, "atrac3"),
        (CODEC_ID_COOK, "cook"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map_or_else(|| id.to_string(), |(_, n)| (*n).to_owned())
}
