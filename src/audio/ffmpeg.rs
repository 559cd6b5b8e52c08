//! The ffmpeg fallback: decode what symphonia cannot, via the `ffmpeg` CLI.
//!
//! Used for sniffed formats (MPEG-PS/TS, AMR, RF64, ASF/WMA) and for codecs
//! symphonia demuxes but cannot decode. `ffprobe` (shipped with ffmpeg)
//! reads the first audio stream's rate and channel count; `ffmpeg` then
//! streams raw `f32le` at that rate and layout from its stdout, read in
//! blocks, so memory stays flat. The input file is the child's stdin. The
//! child is killed and reaped on drop. `HARK_FFMPEG` names the binary
//! (`none` disables the fallback); `HARK_FFPROBE` may name ffprobe, which is
//! otherwise looked for next to ffmpeg, then on `PATH`.
//! Imports: std, tracing, and the audio module's own types.

use std::env;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use super::{AudioError, AudioInfo, Backend, DecodeStats};

/// Frames per block handed out by `next_block`.
const BLOCK_FRAMES: usize = 8192;
/// At most this much of ffmpeg's stderr is kept for messages.
const STDERR_KEEP: usize = 8 * 1024;

/// Where the ffmpeg binary is, if the fallback is enabled and available.
pub(crate) fn locate_ffmpeg() -> Option<PathBuf> {
    match env::var_os("HARK_FFMPEG") {
        Some(v) if v == "none" => None,
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => search_path("ffmpeg"),
    }
}

fn locate_ffprobe(ffmpeg: &Path) -> Option<PathBuf> {
    if let Some(v) = env::var_os("HARK_FFPROBE").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    let mut sibling = ffmpeg.with_file_name("ffprobe");
    if let Some(ext) = ffmpeg.extension() {
        sibling.set_extension(ext);
    }
    if sibling.is_file() {
        return Some(sibling);
    }
    search_path("ffprobe")
}

fn search_path(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join(program);
        if candidate.is_file() {
            return Some(candidate);
        }
        let exe = dir.join(format!("{program}.exe"));
        exe.is_file().then_some(exe)
    })
}

/// A running `ffmpeg` child producing f32le PCM.
pub(crate) struct FfmpegDecoder {
    name: String,
    info: AudioInfo,
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    buf: Vec<u8>,
    reaped: bool,
}

impl FfmpegDecoder {
    /// Probes and starts decoding `file`. `what` names the format for the
    /// "not supported; install ffmpeg" error when ffmpeg is unavailable.
    pub(crate) fn open(
        mut file: File,
        name: &str,
        what: &str,
    ) -> Result<FfmpegDecoder, AudioError> {
        let unsupported = || AudioError::Unsupported {
            name: name.to_owned(),
            what: what.to_owned(),
        };
        let Some(ffmpeg) = locate_ffmpeg() else {
            return Err(unsupported());
        };
        let Some(ffprobe) = locate_ffprobe(&ffmpeg) else {
            return Err(AudioError::Ffmpeg {
                name: name.to_owned(),
                detail: format!("ffprobe not found next to {} or on PATH", ffmpeg.display()),
            });
        };
        let io = |source| AudioError::Io {
            name: name.to_owned(),
            source,
        };
        tracing::debug!(input = name, what, ffmpeg = %ffmpeg.display(), "using the ffmpeg fallback");
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let probe = probe(&ffprobe, file.try_clone().map_err(io)?, name)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;

        let mut child = Command::new(&ffmpeg)
            .args([
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-i",
                "pipe:0",
            ])
            .args(["-map", "0:a:0", "-f", "f32le", "-ac"])
            .arg(probe.channels.to_string())
            .arg("-ar")
            .arg(probe.sample_rate.to_string())
            .arg("pipe:1")
            .stdin(Stdio::from(file))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AudioError::Ffmpeg {
                name: name.to_owned(),
                detail: format!("cannot run {}: {e}", ffmpeg.display()),
            })?;
        let stderr = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let mut chunk = [0u8; 4096];
                // Drain everything so ffmpeg never blocks on a full pipe.
                while let Ok(n) = err.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let room = STDERR_KEEP.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
                String::from_utf8_lossy(&kept).into_owned()
            })
        });
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(AudioError::internal("ffmpeg child has no stdout pipe"));
        };
        let info = AudioInfo {
            sample_rate: probe.sample_rate,
            channels: probe.channels,
            codec: probe.codec,
            container: probe.container,
            duration: probe.duration,
            backend: Backend::Ffmpeg,
        };
        Ok(FfmpegDecoder {
            name: name.to_owned(),
            info,
            child,
            stdout,
            stderr,
            buf: Vec::new(),
            reaped: false,
        })
    }

    /// Stream info from ffprobe.
    pub(crate) fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Next block (up to `BLOCK_FRAMES` frames), `Ok(None)` when ffmpeg
    /// finished successfully. Each block counts as one decoded packet.
    pub(crate) fn next_block(
        &mut self,
        stats: &mut DecodeStats,
    ) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        if self.reaped {
            return Ok(None);
        }
        let channels = self.info.channels;
        let frame_bytes = 4 * channels;
        let want = BLOCK_FRAMES * frame_bytes;
        let mut eof = false;
        while self.buf.len() < want {
            let start = self.buf.len();
            self.buf.resize(want, 0);
            match self.stdout.read(&mut self.buf[start..]) {
                Ok(0) => {
                    self.buf.truncate(start);
                    eof = true;
                    break;
                }
                Ok(n) => self.buf.truncate(start + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(start),
                Err(source) => {
                    self.buf.truncate(start);
                    return Err(AudioError::Io {
                        name: self.name.clone(),
                        source,
                    });
                }
            }
        }
        let frames = self.buf.len() / frame_bytes;
        if frames == 0 {
            if eof {
                self.finish()?;
            }
            return Ok(None);
        }
        let mut planes = vec![Vec::with_capacity(frames); channels];
        for frame in self.buf[..frames * frame_bytes].chunks_exact(frame_bytes) {
            for (plane, s) in planes.iter_mut().zip(frame.chunks_exact(4)) {
                let x = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                plane.push(if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) });
            }
        }
        self.buf.drain(..frames * frame_bytes);
        stats.packets_decoded += 1;
        Ok(Some(planes))
    }

    /// Reaps the child at end of output; a failure exit is an error.
    fn finish(&mut self) -> Result<(), AudioError> {
        self.reaped = true;
        let status = self.child.wait().map_err(|source| AudioError::Io {
            name: self.name.clone(),
            source,
        })?;
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        if !stderr.trim().is_empty() {
            tracing::debug!(input = %self.name, stderr = %stderr.trim(), "ffmpeg reported");
        }
        if !self.buf.is_empty() {
            tracing::debug!(input = %self.name, bytes = self.buf.len(), "dropping a partial frame");
        }
        if !status.success() {
            return Err(AudioError::Ffmpeg {
                name: self.name.clone(),
                detail: first_line(&stderr, &format!("exited with {status}")),
            });
        }
        Ok(())
    }
}

impl Drop for FfmpegDecoder {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Probe {
    sample_rate: u32,
    channels: usize,
    codec: String,
    container: String,
    duration: Option<f64>,
}

/// Runs ffprobe on `file` (as stdin) for the first audio stream.
fn probe(ffprobe: &Path, file: File, name: &str) -> Result<Probe, AudioError> {
    let out = Command::new(ffprobe)
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .arg("stream=codec_name,sample_rate,channels:format=format_name,duration")
        .args(["-of", "default=noprint_wrappers=1", "-i", "pipe:0"])
        .stdin(Stdio::from(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| AudioError::Ffmpeg {
            name: name.to_owned(),
            detail: format!("cannot run {}: {e}", ffprobe.display()),
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        tracing::debug!(input = name, stderr = %stderr.trim(), "ffprobe failed");
        return Err(AudioError::NotAudio {
            name: name.to_owned(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |key: &str| -> Option<String> {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, v)| *k == key && !v.is_empty() && *v != "N/A")
            .map(|(_, v)| v.trim().to_owned())
    };
    let Some(codec) = get("codec_name") else {
        return Err(AudioError::NoAudioTrack {
            name: name.to_owned(),
        });
    };
    let sample_rate = get("sample_rate")
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|r| *r > 0);
    let channels = get("channels")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|c| *c > 0);
    let (Some(sample_rate), Some(channels)) = (sample_rate, channels) else {
        return Err(AudioError::BadParams {
            name: name.to_owned(),
            detail: "unknown sample rate or channel count".into(),
        });
    };
    Ok(Probe {
        sample_rate,
        channels,
        codec,
        container: get("format_name").unwrap_or_default(),
        duration: get("duration").and_then(|v| v.parse().ok()),
    })
}

fn first_line(text: &str, default: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(default)
        .to_owned()
}

/// True when the fallback is usable (ffmpeg found, not disabled).
pub(crate) fn available() -> bool {
    locate_ffmpeg().is_some()
}
