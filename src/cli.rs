//! Command-line arguments exactly as the user typed them (no I/O here).
//!
//! clap lives in this module alone; [`crate::options`] turns these raw
//! arguments into the validated [`crate::options::Options`] the rest of hark
//! sees. Speechmatics spells some flags with one dash (`-parallel 4`,
//! `-stderr`); [`normalize_args`] accepts those spellings.
//!
//! May import: `exit` (for the help text).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Transcript formats hark can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Speechmatics json-v2 (format 2.9).
    #[value(name = "json-v2", alias = "json")]
    JsonV2,
    /// Plain text.
    Txt,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
}

fn after_help() -> String {
    format!(
        "INPUT: --input PATH (or INPUT; - is stdin), else /input.audio if it exists, else stdin.\n\
         LICENSE: LICENSE_TOKEN (wins), else --license PATH, else /license.json.\n\
         LOGS: stderr (warnings; -q errors, -v info, -vv debug, -vvv trace; RUST_LOG overrides);\n\
         \x20     also $SM_LOG_DIR/$SM_JOB_ID/hark.log (info or more) when both are set.\n\
         PROGRESS: a bar on stderr when it is a terminal (not with -q).\n\n{}",
        crate::exit::table()
    )
}

/// hark: offline batch speech transcription (Speechmatics json-v2 compatible).
#[derive(Debug, Parser)]
#[command(name = "hark", version, about, after_help = after_help(), args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Subcommands (license tooling).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Audio file to transcribe; - is stdin (default: /input.audio, else stdin).
    #[arg(short, long, value_name = "PATH")]
    pub input: Option<PathBuf>,

    /// Audio file to transcribe, as --input (give one or the other).
    #[arg(value_name = "INPUT")]
    pub input_file: Option<PathBuf>,

    /// Model directory: Whisper (scripts/fetch-model, or sherpa-onnx's
    /// layout) or sherpa-onnx NeMo CTC. Default: /opt/hark/model if present,
    /// else the built-in digits model.
    #[arg(long, value_name = "DIR", env = "HARK_MODEL")]
    pub model: Option<PathBuf>,

    /// A second model directory for the job config's `operating_point:
    /// enhanced` (e.g. Whisper base beside tiny.en). Default:
    /// /opt/hark/model-enhanced if present.
    #[arg(long, value_name = "DIR", env = "HARK_ENHANCED_MODEL")]
    pub enhanced_model: Option<PathBuf>,

    /// Beam width for models that search (Whisper); 1 is greedy decoding.
    /// CTC models always decode greedily.
    #[arg(long, value_name = "N", env = "HARK_BEAM_SIZE", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=16))]
    pub beam_size: u16,

    /// Speaker model directory for `diarization: "speaker"` (ge2e.onnx, from
    /// scripts/fetch-model speaker-ge2e). Default: speaker-ge2e/ or speaker/
    /// beside the model directory, else /opt/hark/speaker.
    #[arg(long, value_name = "DIR", env = "HARK_SPEAKER_MODEL")]
    pub speaker_model: Option<PathBuf>,

    /// Silero VAD model (silero_vad.onnx, v5) to find pauses with, instead of the
    /// built-in energy detector (~10x slower; whether it helps depends on the
    /// audio: see docs/performance.md).
    #[arg(long, value_name = "PATH", env = "HARK_VAD_MODEL")]
    pub vad_model: Option<PathBuf>,

    /// License file (default: /license.json; LICENSE_TOKEN overrides both).
    #[arg(long, value_name = "PATH")]
    pub license: Option<PathBuf>,

    /// Speechmatics job config JSON (default: /config.json if it exists).
    #[arg(long, value_name = "PATH")]
    pub job_config: Option<PathBuf>,

    /// Language code, or `auto` to identify it (overrides the job config's
    /// transcription_config.language).
    #[arg(long, value_name = "CODE")]
    pub language: Option<String>,

    /// Number of parallel workers (default 1; clamped to the available cores).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub parallel: Option<String>,

    /// Transcript format written to stdout.
    #[arg(long, value_enum, default_value = "json-v2", value_name = "FORMAT")]
    pub output_format: OutputFormat,

    /// Also write transcript.{json,txt,srt,vtt} into DIR (it must exist and be writable: checked first).
    #[arg(long, alias = "allformats", value_name = "DIR")]
    pub all_formats: Option<PathBuf>,

    /// More logging on stderr: -v info, -vv debug, -vvv trace (with ONNX Runtime's). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only log errors on stderr; no progress bar.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Accepted for Speechmatics compatibility: logs always go to stderr.
    #[arg(long, hide = true)]
    pub stderr: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// License status and vendor tooling.
    #[command(subcommand)]
    License(crate::license::LicenseCommand),
}

/// Rewrites Speechmatics' one-dash long flags (`-parallel 2`, `-parallel=2`,
/// `-stderr`, `-all-formats`) to clap's two-dash form.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    const ONE_DASH: [&str; 4] = ["parallel", "stderr", "all-formats", "allformats"];
    args.into_iter()
        .map(|a| {
            let Some(s) = a.to_str() else { return a };
            if let Some(rest) = s.strip_prefix('-').filter(|r| !r.starts_with('-')) {
                let name = rest.split('=').next().unwrap_or(rest);
                if ONE_DASH.contains(&name) {
                    return OsString::from(format!("-{s}"));
                }
            }
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dash_speechmatics_flags_are_accepted() {
        let args = normalize_args(
            [
                "hark",
                "-parallel",
                "2",
                "-stderr",
                "-parallel=3",
                "-i",
                "x",
            ]
            .map(OsString::from),
        );
        let strs: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
        assert_eq!(
            strs,
            [
                "hark",
                "--parallel",
                "2",
                "--stderr",
                "--parallel=3",
                "-i",
                "x"
            ]
        );
    }

    #[test]
    fn help_lists_every_exit_code() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for c in crate::exit::ExitCode::ALL {
            assert!(help.contains(c.meaning()), "help lacks {c}");
        }
    }

    #[test]
    fn every_visible_flag_has_its_own_help() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "--{} has no help", arg.get_id());
        }
        let help_of = |id: &str| {
            cmd.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        assert!(help_of("license").starts_with("License file"));
        assert!(help_of("vad_model").starts_with("Silero VAD"));
    }
}
