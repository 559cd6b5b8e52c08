//! Chunking: cut a stream of 16 kHz samples into chunks that end in pauses.
//!
//! A [`SpeechDetector`] marks 10 ms frames as speech or silence: by default
//! the built-in [`EnergyDetector`] (no model file: frame energy against an
//! adaptive noise floor); optionally a model-based one (Silero VAD, in
//! `model::silero_vad`), which may decide a few frames late. Once a chunk reaches
//! the model's target length it is cut in the middle of the next pause of at
//! least [`MIN_PAUSE_FRAMES`]; long silences are cut early so they are never
//! sent to the model; chunks without speech are dropped and silence at chunk
//! edges is trimmed. Where no pause comes before the hard maximum, the chunk
//! is cut at its quietest point with [`OVERLAP_SECS`] of overlap on each side:
//! each chunk then *owns* the span up to the cut, and the pipeline keeps only
//! the words whose midpoint falls in the span their chunk owns, so a word is
//! neither lost nor doubled.
//!
//! Decisions depend only on the sample values, never on how the input was
//! split into blocks, so the chunks (and the transcript) are deterministic.
//!
//! Imports nothing from the rest of hark.

use std::collections::VecDeque;

/// Samples per second.
pub const RATE: usize = 16_000;
/// VAD frame: 10 ms.
pub const FRAME: usize = 160;
/// A pause must last this many frames (250 ms) to be cut in.
pub const MIN_PAUSE_FRAMES: usize = 25;
/// A silence this long (1.2 s) is cut in whatever the chunk's length.
pub const LONG_PAUSE_FRAMES: usize = 120;
/// Silence kept at each trimmed chunk edge (200 ms).
pub const EDGE_FRAMES: usize = 20;
/// Overlap on each side of a forced cut.
pub const OVERLAP_SECS: f64 = 0.5;

/// A chunk of audio ready for recognition.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The input stream (channel) it came from; 0 when mixed to mono.
    pub stream: usize,
    /// Position of `samples[0]` in the stream, in samples.
    pub start: u64,
    /// The samples.
    pub samples: Vec<f32>,
    /// The detector's decision for each [`FRAME`] of `samples`, from the
    /// first (`true`: speech); the last frame may be partial.
    pub speech: Vec<bool>,
    /// The energy (dB) of each of those frames.
    pub energy_db: Vec<f32>,
    /// The span of the stream this chunk owns, `[own_start, own_end)`, in samples.
    pub own_start: u64,
    /// End of the owned span.
    pub own_end: u64,
}

/// Chunk lengths in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Cut at the first pause after this length.
    pub target_secs: f64,
    /// Never exceed this length.
    pub max_secs: f64,
}

/// A voice-activity detector over 10 ms frames of 16 kHz audio.
///
/// Frames are pushed in order; decisions come back in the same order, each
/// for the oldest frame not yet decided, possibly some frames later (a
/// detector working on longer windows). After [`SpeechDetector::finish`] every
/// pushed frame has been decided exactly once.
pub trait SpeechDetector: Send {
    /// Feeds the next frame of [`FRAME`] samples and its energy in dB
    /// (computed once, by the chunker); appends to `out` the decisions
    /// (`true` = speech) that are now known.
    fn push(
        &mut self,
        frame: &[f32],
        energy_db: f32,
        out: &mut Vec<bool>,
    ) -> Result<(), DetectorError>;
    /// End of stream: appends the decisions of all remaining frames.
    fn finish(&mut self, out: &mut Vec<bool>) -> Result<(), DetectorError>;
}

/// A speech detector failed (e.g. its model could not run).
#[derive(Debug, thiserror::Error)]
#[error("voice activity detection failed: {0}")]
pub struct DetectorError(pub String);

/// The built-in detector: frame energy against an adaptive noise floor.
#[derive(Debug)]
pub struct EnergyDetector {
    noise_floor: f32,
}

impl Default for EnergyDetector {
    fn default() -> Self {
        EnergyDetector::new()
    }
}

impl EnergyDetector {
    /// A detector with the noise floor at its starting point (-60 dBFS).
    pub fn new() -> EnergyDetector {
        EnergyDetector { noise_floor: -60.0 }
    }

    fn decide(&mut self, e: f32) -> bool {
        // Adaptive noise floor: starts at -60 dBFS, follows quieter frames
        // down at once and rises slowly (1 dB per second) otherwise, so a
        // long stretch of speech does not lift it to speech level.
        if e < self.noise_floor {
            self.noise_floor = e;
        } else {
            self.noise_floor += 0.01;
        }
        e > (self.noise_floor + 10.0).max(-60.0)
    }
}

impl SpeechDetector for EnergyDetector {
    fn push(
        &mut self,
        _: &[f32],
        energy_db: f32,
        out: &mut Vec<bool>,
    ) -> Result<(), DetectorError> {
        out.push(self.decide(energy_db));
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<bool>) -> Result<(), DetectorError> {
        Ok(())
    }
}

/// Scores a fixed-length window of samples: the probability that it is
/// speech (e.g. Silero VAD, `model::silero_vad`, wired in by the pipeline).
pub trait WindowScorer: Send {
    /// Samples per window.
    fn window(&self) -> usize;
    /// Speech probability of the next window, in stream order.
    fn score(&mut self, window: &[f32]) -> Result<f32, DetectorError>;
}

/// A detector over a [`WindowScorer`]: speech starts at a probability of at
/// least `on` and ends below `off` (hysteresis); each 10 ms frame takes the
/// decision of the window holding its midpoint, so frames are decided up to
/// a window late. The last partial window is padded with zeros.
pub struct WindowedDetector {
    scorer: Box<dyn WindowScorer>,
    on: f32,
    off: f32,
    /// Samples of the window being filled.
    window: Vec<f32>,
    windows_done: u64,
    frames_pushed: u64,
    frames_decided: u64,
    /// Inside speech (hysteresis state).
    speech: bool,
}

impl WindowedDetector {
    /// A detector deciding with `scorer`, thresholds `on` ≥ `off`.
    pub fn new(scorer: Box<dyn WindowScorer>, on: f32, off: f32) -> WindowedDetector {
        WindowedDetector {
            window: Vec::with_capacity(scorer.window()),
            scorer,
            on,
            off,
            windows_done: 0,
            frames_pushed: 0,
            frames_decided: 0,
            speech: false,
        }
    }

    /// Scores the full window, updates the hysteresis, then decides every
    /// pushed frame whose midpoint lies in a finished window.
    fn run_window(&mut self, out: &mut Vec<bool>) -> Result<(), DetectorError> {
        let p = self.scorer.score(&self.window)?;
        self.window.clear();
        self.windows_done += 1;
        if p >= self.on {
            self.speech = true;
        } else if p < self.off {
            self.speech = false;
        }
        let done = self.windows_done * self.scorer.window() as u64;
        while self.frames_decided < self.frames_pushed
            && self.frames_decided * FRAME as u64 + FRAME as u64 / 2 < done
        {
            out.push(self.speech);
            self.frames_decided += 1;
        }
        Ok(())
    }
}

impl SpeechDetector for WindowedDetector {
    fn push(&mut self, frame: &[f32], _: f32, out: &mut Vec<bool>) -> Result<(), DetectorError> {
        self.frames_pushed += 1;
        let len = self.scorer.window();
        let mut rest = frame;
        while !rest.is_empty() {
            let take = (len - self.window.len()).min(rest.len());
            self.window.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.window.len() == len {
                self.run_window(out)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<bool>) -> Result<(), DetectorError> {
        if !self.window.is_empty() {
            self.window.resize(self.scorer.window(), 0.0);
            self.run_window(out)?;
        }
        // Every pushed frame's midpoint now lies in a finished window.
        while self.frames_decided < self.frames_pushed {
            out.push(self.speech);
            self.frames_decided += 1;
        }
        Ok(())
    }
}

/// Streaming chunker for one stream.
pub struct Chunker {
    stream: usize,
    target_frames: usize,
    max_frames: usize,
    overlap_frames: usize,
    /// Samples from `buf_start` on.
    buf: Vec<f32>,
    buf_start: u64,
    /// Owned span of the chunk being built starts here.
    own_start: u64,
    /// Per decided frame of `buf`: (energy dB, speech?). Frames after
    /// these are complete but still undecided by the detector.
    frames: Vec<(f32, bool)>,
    /// Complete frames in `buf` (decided or not).
    complete: usize,
    /// Energy (dB) of each complete frame the detector has not decided yet.
    undecided: VecDeque<f32>,
    /// Current run of silent frames at the end of `frames`.
    silent_run: usize,
    detector: Box<dyn SpeechDetector>,
    decisions: Vec<bool>,
    pending: VecDeque<Chunk>,
}

impl std::fmt::Debug for Chunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunker")
            .field("stream", &self.stream)
            .field("buf_start", &self.buf_start)
            .field("frames", &self.frames.len())
            .finish()
    }
}

fn energy_db(frame: &[f32]) -> f32 {
    let e: f32 = frame.iter().map(|x| x * x).sum::<f32>() / frame.len().max(1) as f32;
    10.0 * (e + 1e-10).log10()
}

impl Chunker {
    /// A chunker for stream `stream` with the model's limits and the
    /// built-in energy detector.
    pub fn new(stream: usize, limits: Limits) -> Chunker {
        Chunker::with_detector(stream, limits, Box::new(EnergyDetector::new()))
    }

    /// A chunker that asks `detector` which frames are speech.
    pub fn with_detector(
        stream: usize,
        limits: Limits,
        detector: Box<dyn SpeechDetector>,
    ) -> Chunker {
        let frames = |s: f64| ((s * RATE as f64) as usize / FRAME).max(1);
        let max_frames = frames(limits.max_secs).max(4 * MIN_PAUSE_FRAMES);
        Chunker {
            stream,
            target_frames: frames(limits.target_secs).min(max_frames),
            max_frames,
            overlap_frames: frames(OVERLAP_SECS),
            buf: Vec::new(),
            buf_start: 0,
            own_start: 0,
            frames: Vec::new(),
            complete: 0,
            undecided: VecDeque::new(),
            silent_run: 0,
            detector,
            decisions: Vec::new(),
            pending: VecDeque::new(),
        }
    }

    /// Feeds samples; returns the chunks completed by them.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<Chunk>, DetectorError> {
        let mut rest = samples;
        while !rest.is_empty() {
            // Fill the current frame, then hand it to the detector.
            let need = FRAME - self.buf.len() % FRAME;
            let (now, later) = rest.split_at(need.min(rest.len()));
            self.buf.extend_from_slice(now);
            rest = later;
            if self.buf.len().is_multiple_of(FRAME) {
                let i = self.complete;
                self.complete += 1;
                let frame = &self.buf[i * FRAME..(i + 1) * FRAME];
                let e = energy_db(frame);
                self.undecided.push_back(e);
                self.detector.push(frame, e, &mut self.decisions)?;
                self.apply_decisions();
            }
        }
        Ok(self.pending.drain(..).collect())
    }

    /// Flushes the last chunk at the end of the stream.
    pub fn finish(&mut self) -> Result<Vec<Chunk>, DetectorError> {
        self.detector.finish(&mut self.decisions)?;
        self.apply_decisions();
        let end = self.buf_start + self.buf.len() as u64;
        let n = self.buf.len();
        self.emit(n, end);
        Ok(self.pending.drain(..).collect())
    }

    fn apply_decisions(&mut self) {
        let mut decisions = std::mem::take(&mut self.decisions);
        for speech in decisions.drain(..) {
            // A detector never decides more frames than it was given.
            let Some(e) = self.undecided.pop_front() else {
                break;
            };
            self.on_frame(e, speech);
        }
        self.decisions = decisions;
    }

    /// The next undecided frame, of energy `e` dB, has been decided: `speech` or not.
    fn on_frame(&mut self, e: f32, speech: bool) {
        self.frames.push((e, speech));
        self.silent_run = if speech { 0 } else { self.silent_run + 1 };

        let len = self.frames.len();
        // `silent_run` counts the trailing silent frames, so any speech frame
        // lies before them: O(1) instead of a scan of the whole buffer per frame.
        let has_speech = len > self.silent_run;
        let pause = self.silent_run >= MIN_PAUSE_FRAMES && len >= self.target_frames;
        let long_pause = self.silent_run >= LONG_PAUSE_FRAMES && has_speech;
        if pause || long_pause {
            let cut = len - self.silent_run / 2;
            self.cut_at(cut, 0);
        } else if len >= self.max_frames {
            let cut = self.quietest_frame();
            self.cut_at(cut, self.overlap_frames);
        }
    }

    /// The quietest 200 ms point in the second half of the buffer.
    fn quietest_frame(&self) -> usize {
        let len = self.frames.len();
        let lo = (len / 2).max(1);
        let hi = len.saturating_sub(self.overlap_frames + 1).max(lo + 1);
        let w = 10;
        (lo..hi)
            .map(|c| {
                let a = c.saturating_sub(w);
                let b = (c + w).min(len);
                let m = self.frames[a..b].iter().map(|f| f.0).sum::<f32>() / (b - a) as f32;
                (c, m)
            })
            .fold(
                (lo, f32::INFINITY),
                |acc, (c, m)| if m < acc.1 { (c, m) } else { acc },
            )
            .0
    }

    /// Ends the current chunk at frame `cut`, keeping `overlap` frames on both sides.
    fn cut_at(&mut self, cut: usize, overlap: usize) {
        let cut_sample = cut * FRAME;
        let end = (cut + overlap).min(self.frames.len()) * FRAME;
        let own_end = self.buf_start + cut_sample as u64;
        self.emit(end, own_end);
        // The next chunk starts `overlap` frames before the cut.
        let keep_from = cut.saturating_sub(overlap) * FRAME;
        self.buf.drain(..keep_from);
        self.frames.drain(..cut.saturating_sub(overlap));
        self.complete -= cut.saturating_sub(overlap);
        self.buf_start += keep_from as u64;
        self.own_start = own_end;
        self.silent_run = self.frames.iter().rev().take_while(|f| !f.1).count();
    }

    /// Queues `buf[..end]` as a chunk owning `[own_start, own_end)`, trimmed
    /// to its speech; nothing is queued when it holds no speech.
    fn emit(&mut self, end: usize, own_end: u64) {
        let nframes = end.div_ceil(FRAME).min(self.frames.len());
        let flags = &self.frames[..nframes];
        let first = flags.iter().position(|f| f.1);
        let last = flags.iter().rposition(|f| f.1);
        let (Some(first), Some(last)) = (first, last) else {
            // Trailing partial frame (< 10 ms) at the end of a stream with no
            // complete speech frame: nothing worth recognising.
            return;
        };
        let a = first.saturating_sub(EDGE_FRAMES) * FRAME;
        let b = ((last + 1 + EDGE_FRAMES) * FRAME).min(end);
        if b <= a {
            return;
        }
        let frames = &self.frames[a / FRAME..b.div_ceil(FRAME).min(self.frames.len())];
        let speech = frames.iter().map(|f| f.1).collect();
        let energy_db = frames.iter().map(|f| f.0).collect();
        self.pending.push_back(Chunk {
            stream: self.stream,
            start: self.buf_start + a as u64,
            samples: self.buf[a..b].to_vec(),
            speech,
            energy_db,
            own_start: self.own_start,
            own_end,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(secs: f64, amp: f32) -> Vec<f32> {
        (0..(secs * RATE as f64) as usize)
            .map(|i| amp * (i as f32 * 0.3).sin() * (1.0 + 0.3 * (i as f32 * 0.0021).sin()))
            .collect()
    }

    fn noise(secs: f64, amp: f32, seed: &mut u32) -> Vec<f32> {
        (0..(secs * RATE as f64) as usize)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                amp * ((*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
            })
            .collect()
    }

    fn run(samples: &[f32], block: usize, limits: Limits) -> Vec<Chunk> {
        run_with(samples, block, limits, Box::new(EnergyDetector::new()))
    }

    fn run_with(
        samples: &[f32],
        block: usize,
        limits: Limits,
        detector: Box<dyn SpeechDetector>,
    ) -> Vec<Chunk> {
        let mut c = Chunker::with_detector(0, limits, detector);
        let mut out = Vec::new();
        for b in samples.chunks(block) {
            out.extend(c.push(b).unwrap());
        }
        out.extend(c.finish().unwrap());
        out
    }

    /// The energy detector's decisions, handed out `delay` frames late and
    /// in bursts, as a detector working on longer windows does.
    struct Delayed {
        inner: EnergyDetector,
        delay: usize,
        held: VecDeque<bool>,
    }

    impl SpeechDetector for Delayed {
        fn push(&mut self, _: &[f32], e: f32, out: &mut Vec<bool>) -> Result<(), DetectorError> {
            self.held.push_back(self.inner.decide(e));
            if self.held.len() > self.delay {
                out.extend(self.held.drain(..));
            }
            Ok(())
        }

        fn finish(&mut self, out: &mut Vec<bool>) -> Result<(), DetectorError> {
            out.extend(self.held.drain(..));
            Ok(())
        }
    }

    struct Failing;

    impl SpeechDetector for Failing {
        fn push(&mut self, _: &[f32], _: f32, _: &mut Vec<bool>) -> Result<(), DetectorError> {
            Err(DetectorError("broken".into()))
        }

        fn finish(&mut self, _: &mut Vec<bool>) -> Result<(), DetectorError> {
            Ok(())
        }
    }

    #[test]
    fn late_decisions_give_the_same_chunks() {
        let mut seed = 11;
        let mut audio = Vec::new();
        for i in 0..12 {
            audio.extend(tone(0.6 + 0.15 * i as f64, 0.2));
            audio.extend(noise(0.2 + 0.1 * i as f64, 0.002, &mut seed));
        }
        audio.extend(tone(9.0, 0.3)); // forces overlapping cuts too
        let now = run(&audio, 777, LIMITS);
        assert!(now.len() >= 4, "{} chunks", now.len());
        for delay in [1, 3, 7, 40] {
            let late = run_with(
                &audio,
                777,
                LIMITS,
                Box::new(Delayed {
                    inner: EnergyDetector::new(),
                    delay,
                    held: VecDeque::new(),
                }),
            );
            assert_eq!(now, late, "delay {delay}");
        }
    }

    #[test]
    fn detector_errors_are_returned() {
        let mut c = Chunker::with_detector(0, LIMITS, Box::new(Failing));
        assert!(c.push(&[0.0; 100]).is_ok()); // no complete frame yet
        let err = c.push(&[0.0; 100]).unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
    }

    const LIMITS: Limits = Limits {
        target_secs: 3.0,
        max_secs: 6.0,
    };

    #[test]
    fn cuts_in_pauses_after_the_target() {
        let mut seed = 1;
        let mut audio = Vec::new();
        for _ in 0..6 {
            audio.extend(tone(1.5, 0.3));
            audio.extend(noise(0.5, 0.001, &mut seed));
        }
        let chunks = run(&audio, 1000, LIMITS);
        assert!(chunks.len() >= 2, "{} chunks", chunks.len());
        for c in &chunks {
            assert!(c.samples.len() <= 6 * RATE);
            // Every cut lies in a pause: the owned end is inside silence.
            let t = c.own_end as f64 / RATE as f64;
            let phase = t % 2.0;
            assert!(
                c.own_end as usize == audio.len() || phase > 1.5,
                "cut at {t}"
            );
        }
        // Owned spans tile the stream.
        for w in chunks.windows(2) {
            assert_eq!(w[0].own_end, w[1].own_start);
        }
    }

    #[test]
    fn block_size_does_not_change_chunks() {
        let mut seed = 7;
        let mut audio = Vec::new();
        for i in 0..10 {
            audio.extend(tone(0.7 + 0.1 * i as f64, 0.2));
            audio.extend(noise(0.3 + 0.05 * i as f64, 0.002, &mut seed));
        }
        let a = run(&audio, 1, LIMITS);
        let b = run(&audio, 4096, LIMITS);
        let c = run(&audio, 12345, LIMITS);
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn no_pause_forces_overlapping_cuts() {
        let audio = tone(20.0, 0.3);
        let chunks = run(&audio, 4000, LIMITS);
        assert!(chunks.len() >= 4);
        for w in chunks.windows(2) {
            assert_eq!(w[0].own_end, w[1].own_start);
            // Overlap: the next chunk starts before the previous one ends.
            let prev_end = w[0].start + w[0].samples.len() as u64;
            assert!(w[1].start < prev_end);
            assert!(w[0].samples.len() <= 6 * RATE + 2 * FRAME * 50);
        }
        assert_eq!(chunks[0].own_start, 0);
        assert_eq!(chunks.last().map(|c| c.own_end), Some(audio.len() as u64));
    }

    #[test]
    fn silence_is_never_sent() {
        let mut seed = 3;
        let audio = noise(10.0, 0.0005, &mut seed);
        assert!(run(&audio, 3000, LIMITS).is_empty());
        assert!(run(&[], 3000, LIMITS).is_empty());
        let mut mixed = noise(5.0, 0.0005, &mut seed);
        mixed.extend(tone(1.0, 0.3));
        mixed.extend(noise(5.0, 0.0005, &mut seed));
        let chunks = run(&mixed, 3000, LIMITS);
        let total: usize = chunks.iter().map(|c| c.samples.len()).sum();
        assert!(total < 2 * RATE, "sent {total} samples");
    }
}
