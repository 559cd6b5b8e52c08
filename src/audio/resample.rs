//! Streaming down-mix and resampling to [`TARGET_RATE`].
//!
//! Down-mixes first (for [`Mix::Mono`]), then runs rubato's synchronous FFT
//! resampler (`Fft`, `FixedSync::Both`): exact ratio, flat passband and
//! strong anti-aliasing. The resampler's delay is trimmed from the start and
//! its tail flushed at the end, so output sample `i` is input time
//! `i / 16000` s and the output length is `round(len_in * 16000 / rate_in)`.
//! A 16 kHz source bypasses rubato entirely (bit-exact pass-through).
//! Imports: std, rubato, and the audio module's own types.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};

use super::{AudioError, TARGET_RATE};

/// Target chunk size (input frames) for the FFT resampler; one chunk is one
/// FFT. See [`chunk_size`] for the rounding.
const CHUNK_HINT: usize = 2048;

/// The chunk (= FFT) size for `rate_in`: an even multiple `m` of the
/// minimum block `rate_in / gcd(rate_in, 16000)`, about `CHUNK_HINT` frames
/// on the larger side. rubato's anti-aliasing sinc is centred on input frame
/// `floor(n / 2)`, which is exactly `output_delay()` output frames only when
/// `m` is even; with an odd `m` the output would lag by a fraction of a
/// sample.
fn chunk_size(rate_in: u32) -> usize {
    let (mut a, mut b) = (rate_in as usize, TARGET_RATE as usize);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let (min_in, min_out) = (rate_in as usize / a, TARGET_RATE as usize / a);
    let m = 2 * CHUNK_HINT.div_ceil(2 * min_in.max(min_out)).max(1);
    m * min_in
}

/// How channels map to output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// One stream: the average of all channels.
    Mono,
    /// One stream per channel, kept separate (for channel diarization).
    PerChannel,
}

/// Streaming resampler from a source rate and layout to 16 kHz streams.
pub struct Resampler {
    source_rate: u32,
    channels: usize,
    mix: Mix,
    fft: Option<Fft<f32>>,
    /// Mixed input not yet consumed, one `Vec` per output stream.
    pending: Vec<Vec<f32>>,
    /// Output scratch for rubato, `output_frames_max` long per stream.
    scratch: Vec<Vec<f32>>,
    /// Leading output frames still to drop (the resampler's delay).
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
    finished: bool,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("source_rate", &self.source_rate)
            .field("channels", &self.channels)
            .field("mix", &self.mix)
            .field("passthrough", &self.fft.is_none())
            .field("frames_in", &self.frames_in)
            .field("frames_out", &self.frames_out)
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler for `channels` planar channels at `source_rate` Hz.
    /// Errors (internal: callers pass values from [`super::AudioInfo`]) on
    /// a zero rate or channel count, or if rubato rejects the ratio.
    pub fn new(source_rate: u32, channels: usize, mix: Mix) -> Result<Resampler, AudioError> {
        if source_rate == 0 || channels == 0 {
            return Err(AudioError::internal(format!(
                "resampler asked for {source_rate} Hz with {channels} channels"
            )));
        }
        let streams = match mix {
            Mix::Mono => 1,
            Mix::PerChannel => channels,
        };
        let (fft, scratch, to_trim) = if source_rate == TARGET_RATE {
            (None, Vec::new(), 0)
        } else {
            let fft = Fft::<f32>::new(
                source_rate as usize,
                TARGET_RATE as usize,
                chunk_size(source_rate),
                streams,
                FixedSync::Both,
            )
            .map_err(|e| AudioError::internal(format!("resampler {source_rate} Hz: {e}")))?;
            let scratch = vec![vec![0.0; fft.output_frames_max()]; streams];
            let delay = fft.output_delay();
            (Some(fft), scratch, delay)
        };
        Ok(Resampler {
            source_rate,
            channels,
            mix,
            fft,
            pending: vec![Vec::new(); streams],
            scratch,
            to_trim,
            frames_in: 0,
            frames_out: 0,
            finished: false,
        })
    }

    /// Number of output streams: 1 for [`Mix::Mono`], else the channel count.
    pub fn streams(&self) -> usize {
        self.pending.len()
    }

    /// Feeds one planar block (`channels` equally long `Vec`s at the source
    /// rate); returns the newly available 16 kHz samples per output stream
    /// (possibly empty vectors).
    pub fn process(&mut self, block: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, AudioError> {
        if self.finished {
            return Err(AudioError::internal("Resampler::process after finish"));
        }
        let frames = block.first().map_or(0, Vec::len);
        if block.len() != self.channels || block.iter().any(|c| c.len() != frames) {
            return Err(AudioError::internal(format!(
                "resampler expects {} equal-length channels, got {}",
                self.channels,
                block.len()
            )));
        }
        self.frames_in += frames as u64;
        match self.mix {
            Mix::PerChannel => {
                for (p, c) in self.pending.iter_mut().zip(block) {
                    p.extend_from_slice(c);
                }
            }
            Mix::Mono => {
                let scale = 1.0 / self.channels as f32;
                let p = &mut self.pending[0];
                let start = p.len();
                p.extend_from_slice(&block[0]);
                for c in &block[1..] {
                    for (acc, x) in p[start..].iter_mut().zip(c) {
                        *acc += x;
                    }
                }
                if self.channels > 1 {
                    p[start..].iter_mut().for_each(|x| *x *= scale);
                }
            }
        }
        if self.fft.is_none() {
            self.frames_out += frames as u64;
            let streams = self.streams();
            return Ok(std::mem::replace(
                &mut self.pending,
                vec![Vec::new(); streams],
            ));
        }
        self.run_full_chunks()
    }

    /// Flushes the tail: returns the last samples so that the total output
    /// length is `round(len_in * 16000 / rate_in)`. Later calls return
    /// empty vectors.
    pub fn finish(&mut self) -> Result<Vec<Vec<f32>>, AudioError> {
        let streams = self.streams();
        let mut out = vec![Vec::new(); streams];
        if self.finished || self.fft.is_none() {
            self.finished = true;
            return Ok(out);
        }
        self.finished = true;
        let expected = (u128::from(self.frames_in) * u128::from(TARGET_RATE)
            + u128::from(self.source_rate / 2))
            / u128::from(self.source_rate);
        let expected = expected as u64;
        // The partial last chunk, then zeros until the delay is flushed.
        let mut partial = self.pending[0].len();
        while self.frames_out < expected {
            let nout = self.run_chunk(0, Some(partial))?.1;
            partial = 0;
            self.emit(nout, &mut out);
        }
        self.pending.iter_mut().for_each(Vec::clear);
        let excess = (self.frames_out - expected) as usize;
        for o in &mut out {
            o.truncate(o.len().saturating_sub(excess));
        }
        self.frames_out = expected;
        Ok(out)
    }

    fn run_full_chunks(&mut self) -> Result<Vec<Vec<f32>>, AudioError> {
        let mut out = vec![Vec::new(); self.streams()];
        let avail = self.pending[0].len();
        let mut offset = 0;
        while let Some(need) = self.fft.as_ref().map(|f| f.input_frames_next()) {
            if avail - offset < need {
                break;
            }
            let (nin, nout) = self.run_chunk(offset, None)?;
            offset += nin;
            self.emit(nout, &mut out);
        }
        for p in &mut self.pending {
            p.drain(..offset);
        }
        Ok(out)
    }

    /// One rubato call reading `pending` from `offset` (a partial chunk when
    /// `partial` is set: missing frames are zeros). Output goes to scratch.
    fn run_chunk(
        &mut self,
        offset: usize,
        partial: Option<usize>,
    ) -> Result<(usize, usize), AudioError> {
        let internal = |e: &dyn std::fmt::Display| AudioError::internal(format!("resampling: {e}"));
        let Some(fft) = self.fft.as_mut() else {
            return Ok((0, 0));
        };
        let streams = self.pending.len();
        let avail = self.pending[0].len();
        let out_len = self.scratch[0].len();
        let input =
            SequentialSliceOfVecs::new(&self.pending, streams, avail).map_err(|e| internal(&e))?;
        let mut output = SequentialSliceOfVecs::new_mut(&mut self.scratch, streams, out_len)
            .map_err(|e| internal(&e))?;
        let mut indexing = Indexing::new().input_offset(offset);
        if let Some(n) = partial {
            indexing = indexing.partial_len(n);
        }
        fft.process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| internal(&e))
    }

    /// Appends `nout` scratch frames to `out`, dropping the delay first.
    fn emit(&mut self, nout: usize, out: &mut [Vec<f32>]) {
        let skip = self.to_trim.min(nout);
        self.to_trim -= skip;
        for (o, s) in out.iter_mut().zip(&self.scratch) {
            o.extend_from_slice(&s[skip..nout]);
        }
        self.frames_out += (nout - skip) as u64;
    }
}
