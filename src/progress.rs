//! Progress of a transcription: how much audio has been recognised, how fast,
//! and how long the rest will take.
//!
//! [`start`] is called once the audio is opened, with the duration its
//! headers state (if any); the pipeline calls [`advance`] each time a worker
//! finishes a chunk; [`finish`] ends it. On a terminal (and without `-q`)
//! progress is an `indicatif` bar on stderr, drawn once the job has run for a
//! second, so short jobs never flash one; [`suspend`] lets the logging module
//! print a line without tearing it. Whatever the terminal, info lines with
//! target `hark::progress` are logged every 30 s of wall time and at every
//! 10 % step, for log files and `docker logs` (the logging module keeps them
//! off stderr while a bar is shown there).
//!
//! Imports nothing from the rest of hark.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Wall time between two progress lines in the logs, at most.
pub const LINE_EVERY: Duration = Duration::from_secs(30);
/// A progress line is also logged at each multiple of this fraction.
pub const LINE_STEP: f64 = 0.1;
/// The bar is drawn only once the job has run this long.
const BAR_AFTER: Duration = Duration::from_secs(1);

static STATE: Mutex<Option<Progress>> = Mutex::new(None);
static BAR_MODE: AtomicBool = AtomicBool::new(false);

/// What the logs should say, when they should say something.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Seconds of audio recognised (summed over streams under channel diarization).
    pub done: f64,
    /// Seconds of audio in all, when the headers state it.
    pub total: Option<f64>,
    /// Wall time since [`start`].
    pub elapsed: Duration,
}

impl Snapshot {
    /// Audio seconds per wall second so far.
    pub fn speed(&self) -> f64 {
        self.done / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// The fraction done, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0.0)
            .map(|t| (self.done / t).clamp(0.0, 1.0))
    }

    /// Estimated wall time left, when the total is known.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.total?;
        let speed = self.speed();
        (speed > 0.0).then(|| Duration::from_secs_f64((total - self.done).max(0.0) / speed))
    }

    /// `12:30 / 1:00:00 of audio, 35x real time, ETA 1:20` (the bar's message).
    pub fn short(&self) -> String {
        let mut s = match self.total {
            Some(t) => format!("{} / {} of audio", hms(self.done), hms(t)),
            None => format!("{} of audio", hms(self.done)),
        };
        s.push_str(&format!(", {} real time", speed(self.speed())));
        if let Some(eta) = self.eta() {
            s.push_str(&format!(", ETA {}", hms(eta.as_secs_f64())));
        }
        s
    }

    /// `12:30 of 1:00:00 of audio (20 %), 35x real time, about 1:20 left` (a log line).
    pub fn line(&self) -> String {
        let mut s = match (self.total, self.fraction()) {
            (Some(t), Some(f)) => format!(
                "{} of {} of audio ({:.0} %)",
                hms(self.done),
                hms(t),
                f * 100.0
            ),
            _ => format!("{} of audio", hms(self.done)),
        };
        s.push_str(&format!(", {} real time", speed(self.speed())));
        if let Some(eta) = self.eta() {
            s.push_str(&format!(", about {} left", hms(eta.as_secs_f64())));
        }
        s
    }
}

/// `3.5x`, or `35x` from 10 up.
fn speed(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.0}x")
    }
}

/// `m:ss` or `h:mm:ss`.
pub fn hms(secs: f64) -> String {
    let t = secs.max(0.0).round() as u64;
    let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The bookkeeping, apart from any bar or clock so it can be tested.
#[derive(Debug)]
pub struct Tracker {
    total: Option<f64>,
    streams: usize,
    /// Per stream, the end of the furthest chunk recognised (seconds).
    ends: Vec<f64>,
    started: Instant,
    last_line: Instant,
    last_step: u32,
}

impl Tracker {
    /// A job of `total` seconds (per stream) in `streams` streams, started at `now`.
    pub fn new(total: Option<f64>, streams: usize, now: Instant) -> Tracker {
        let streams = streams.max(1);
        Tracker {
            total: total.filter(|t| t.is_finite() && *t > 0.0),
            streams,
            ends: vec![0.0; streams],
            started: now,
            last_line: now,
            last_step: 0,
        }
    }

    /// The audio of `stream` up to `end` seconds is recognised, at `now`.
    /// Returns a snapshot when a log line is due (30 s since the last one, or
    /// a new 10 % step; never at 100 %, which the "done" line reports).
    pub fn advance(&mut self, stream: usize, end: f64, now: Instant) -> Option<Snapshot> {
        if stream >= self.ends.len() {
            self.ends.resize(stream + 1, 0.0);
        }
        // Chunks finish out of order on several workers: keep the furthest.
        if end > self.ends[stream] {
            self.ends[stream] = end;
        }
        let snap = self.snapshot(now);
        let step = snap
            .fraction()
            .map_or(0, |f| (f / LINE_STEP + 1e-9).floor() as u32);
        let finished = snap.fraction().is_some_and(|f| f >= 1.0);
        let due = now.duration_since(self.last_line) >= LINE_EVERY || step > self.last_step;
        self.last_step = self.last_step.max(step);
        if due && !finished {
            self.last_line = now;
            return Some(snap);
        }
        None
    }

    /// Where the job stands at `now`.
    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let done: f64 = self.ends.iter().sum();
        // Headers can under-state the duration: never show more than 100 %.
        let total = self.total.map(|t| (t * self.streams as f64).max(done));
        Snapshot {
            done,
            total,
            elapsed: now.duration_since(self.started),
        }
    }
}

struct Progress {
    tracker: Tracker,
    bar: Option<ProgressBar>,
    drawn: bool,
}

/// Starts tracking a job of `total` seconds of audio (from the headers, if
/// known) in `streams` streams (channels transcribed separately, else 1). A
/// bar is drawn on stderr when `bar` is true (stderr is a terminal and
/// `-q` was not given).
pub fn start(total: Option<f64>, streams: usize, bar: bool) {
    let now = Instant::now();
    let tracker = Tracker::new(total, streams, now);
    let bar = bar.then(|| {
        let style = match tracker.snapshot(now).total {
            Some(_) => ProgressStyle::with_template("{bar:25} {msg}"),
            None => ProgressStyle::with_template("{spinner} {msg}"),
        };
        let pb = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::hidden());
        if let Ok(style) = style {
            pb.set_style(style);
        }
        pb
    });
    BAR_MODE.store(bar.is_some(), Ordering::Relaxed);
    if let Ok(mut state) = STATE.lock() {
        *state = Some(Progress {
            tracker,
            bar,
            drawn: false,
        });
    }
}

/// A worker has recognised the chunk of `stream` ending at `end` seconds.
pub fn advance(stream: usize, end: f64) {
    let now = Instant::now();
    let line = {
        let Ok(mut guard) = STATE.lock() else { return };
        let Some(p) = guard.as_mut() else { return };
        let line = p.tracker.advance(stream, end, now);
        if let Some(bar) = &p.bar {
            let snap = p.tracker.snapshot(now);
            if !p.drawn && snap.elapsed >= BAR_AFTER {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                p.drawn = true;
            }
            let permille = snap.fraction().map_or(0, |f| (f * 1000.0) as u64);
            bar.set_position(permille);
            bar.set_message(snap.short());
        }
        line
    };
    // Logged with the lock released: the logging writer calls `suspend`.
    if let Some(snap) = line {
        tracing::info!(target: "hark::progress", "progress: {}", snap.line());
    }
}

/// Ends the job's progress: the bar, if any, is erased.
pub fn finish() {
    let bar = STATE
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .and_then(|p| p.bar);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    BAR_MODE.store(false, Ordering::Relaxed);
}

/// True while a bar owns stderr (progress lines then stay off stderr).
pub fn bar_mode() -> bool {
    BAR_MODE.load(Ordering::Relaxed)
}

/// Runs `f` (which prints to stderr) with the bar erased, then redraws it.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = STATE
        .lock()
        .ok()
        .and_then(|s| s.as_ref().and_then(|p| p.bar.clone()));
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, secs: f64) -> Instant {
        t0 + Duration::from_secs_f64(secs)
    }

    #[test]
    fn lines_come_at_each_ten_percent_and_every_thirty_seconds() {
        let t0 = Instant::now();
        let mut t = Tracker::new(Some(100.0), 1, t0);
        assert!(t.advance(0, 5.0, at(t0, 1.0)).is_none());
        let s = t.advance(0, 12.0, at(t0, 2.0)).unwrap();
        assert_eq!(s.fraction(), Some(0.12));
        // Same step, soon after: nothing.
        assert!(t.advance(0, 15.0, at(t0, 3.0)).is_none());
        // Same step, but 30 s of wall time later: a line.
        assert!(t.advance(0, 16.0, at(t0, 33.0)).is_some());
        // Jumping two steps gives one line.
        assert!(t.advance(0, 35.0, at(t0, 34.0)).is_some());
        assert!(t.advance(0, 36.0, at(t0, 35.0)).is_none());
        // 100 % is the "done" line's job.
        assert!(t.advance(0, 100.0, at(t0, 36.0)).is_none());
    }

    #[test]
    fn unknown_total_logs_every_thirty_seconds_only() {
        let t0 = Instant::now();
        let mut t = Tracker::new(None, 1, t0);
        assert!(t.advance(0, 50.0, at(t0, 10.0)).is_none());
        let s = t.advance(0, 90.0, at(t0, 30.0)).unwrap();
        assert_eq!(s.line(), "1:30 of audio, 3.0x real time");
        assert!(t.advance(0, 120.0, at(t0, 40.0)).is_none());
    }

    #[test]
    fn out_of_order_chunks_and_streams() {
        let t0 = Instant::now();
        let mut t = Tracker::new(Some(60.0), 2, t0);
        t.advance(0, 20.0, at(t0, 1.0));
        t.advance(0, 10.0, at(t0, 1.0)); // an earlier chunk, finished later
        t.advance(1, 30.0, at(t0, 2.0));
        let s = t.snapshot(at(t0, 2.0));
        assert_eq!(s.done, 50.0);
        assert_eq!(s.total, Some(120.0));
        assert_eq!(s.speed(), 25.0);
        assert_eq!(s.eta(), Some(Duration::from_secs_f64(70.0 / 25.0)));
    }

    #[test]
    fn texts() {
        let s = Snapshot {
            done: 750.0,
            total: Some(3600.0),
            elapsed: Duration::from_secs(25),
        };
        assert_eq!(
            s.line(),
            "12:30 of 1:00:00 of audio (21 %), 30x real time, about 1:35 left"
        );
        assert_eq!(
            s.short(),
            "12:30 / 1:00:00 of audio, 30x real time, ETA 1:35"
        );
        // A header that under-states the duration never shows over 100 %.
        let t0 = Instant::now();
        let mut t = Tracker::new(Some(10.0), 1, t0);
        t.advance(0, 12.0, at(t0, 1.0));
        assert_eq!(t.snapshot(at(t0, 1.0)).fraction(), Some(1.0));
        assert_eq!(hms(59.6), "1:00");
        assert_eq!(hms(3725.0), "1:02:05");
    }
}
