//! The application: runs a subcommand, or a transcription from start to end.
//!
//! Order matters and is part of the contract: options are validated and the
//! `--all-formats` directory checked (so an unwritable one fails before any
//! work), then the job config is read (it may set the language), then the
//! license is checked before any audio is read or the model loaded, then the
//! input is opened and probed (so bad input fails fast), then the model is
//! loaded and the pipeline runs, reporting progress; transcript filters apply
//! before output; stdout is written only on success.
//!
//! May import every stage; nothing imports it but `main`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::job_config;
use crate::license::{self, Entitlement, Feature};
use crate::model::silero_vad::SileroVad;
use crate::model::{self, Family};
use crate::options::{Options, DEFAULT_INPUT, DEFAULT_JOB_CONFIG, DEFAULT_LICENSE};
use crate::pipeline::{self, Plan, SpeakerPlan};
use crate::profile::Stage;
use crate::transcript::{self, Transcript};
use crate::{input, output, progress};

/// `LICENSE_TOKEN` as set, blank included: `license::locate` says when it
/// is set but empty.
fn license_token() -> Option<String> {
    std::env::var(license::LICENSE_TOKEN_ENV).ok()
}

/// Runs hark with parsed arguments.
pub fn run(cli: Cli) -> Result<(), Error> {
    if let Some(Command::License(cmd)) = &cli.command {
        let now = time::OffsetDateTime::now_utc();
        let text = license::run_command(cmd, license_token(), Path::new(DEFAULT_LICENSE), now)?;
        return output::stdout(&text);
    }
    let opts = Options::resolve(&cli)?;
    transcribe(&opts)
}

fn load_model(opts: &Options) -> Result<Box<dyn Family>, Error> {
    let family = model::load_or_default(opts.model.as_deref())?;
    tracing::info!(model = %family.info().origin, family = family.info().family, "model loaded");
    Ok(family)
}

fn transcribe(opts: &Options) -> Result<(), Error> {
    let started = std::time::Instant::now();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), job = %opts.job_id, "hark starting");
    // 0. Where the output goes, checked before any work; then the job
    // config: it may set the language the license must cover.
    if let Some(dir) = &opts.all_formats {
        output::check_dir(dir)?;
    }
    let job = job_config::load_effective(
        opts.job_config.as_deref(),
        Path::new(DEFAULT_JOB_CONFIG),
        opts.language.as_deref(),
        opts.input.as_deref(),
    )?;
    let language = job.language.clone();

    // 1. License, before anything else is read.
    let now = time::OffsetDateTime::now_utc();
    let source = license::locate(
        opts.license.as_deref(),
        license_token(),
        Path::new(DEFAULT_LICENSE),
    )?;
    let lic = license::verify(
        &source,
        now,
        &Entitlement {
            feature: Feature::Batch,
            parallel: opts.parallel_requested > 1,
            language: Some(&language),
        },
    )?;
    tracing::info!(license = %lic.id, customer = %lic.customer, days_remaining = lic.days_remaining(now), "license ok");

    // 2. Input, probed before the model loads so bad input fails fast.
    let job_created = transcript::now_rfc3339();
    let input = input::open(
        opts.input.as_deref().or(job.input_url.as_deref()),
        Path::new(DEFAULT_INPUT),
        std::io::stdin().is_terminal(),
    )?;
    let data_name = input.name.clone();
    let audio = pipeline::open_audio(input)?;
    let info = audio.info().clone();

    // 3. Model.
    let family = load_model(opts)?;
    let langs = &family.info().languages;
    if !langs.is_empty() && !langs.iter().any(|l| l == &language) {
        return Err(Error::Usage(format!(
            "language {language:?} is not supported by the model {} (it supports: {})",
            family.info().origin,
            langs.join(", ")
        )));
    }

    // Speaker diarization needs its own model, found before any work.
    let speakers = match &job.speaker {
        Some(sd) => {
            let asr_dir = opts.model.clone().or_else(|| {
                let d = Path::new(model::INSTALLED_DIR);
                d.is_dir().then(|| d.to_path_buf())
            });
            let m = model::speaker::locate(opts.speaker_model.as_deref(), asr_dir.as_deref())?;
            tracing::info!(speaker_model = %m.origin, "speaker diarization");
            Some(SpeakerPlan {
                model: Arc::new(m),
                settings: crate::diarize::Settings {
                    max_speakers: sd.max_speakers,
                    sensitivity: sd.sensitivity,
                    prefer_current: sd.prefer_current,
                },
            })
        }
        None => None,
    };

    let vad = match &opts.vad_model {
        Some(path) => {
            let vad = SileroVad::load(path)?;
            tracing::info!(path = %path.display(), "Silero VAD");
            Some(Arc::new(vad))
        }
        None => None,
    };

    // 4. Recognition.
    let plan = Plan {
        workers: opts.workers,
        intra_threads: opts.intra_threads,
        per_channel: job.per_channel(),
        channel_labels: job.channel_labels.clone(),
        vad,
        language: Some(language.clone()),
        beam_size: opts.beam_size,
        speakers,
    };
    tracing::info!(
        workers = plan.workers,
        intra_threads = plan.intra_threads,
        cores = opts.cores,
        "recognizing"
    );
    let streams = if plan.per_channel { info.channels } else { 1 };
    let bar = !opts.quiet && std::io::stderr().is_terminal();
    progress::start(info.duration, streams, bar);
    let rec = pipeline::recognize(audio, family.as_ref(), &plan);
    progress::finish();
    let rec = rec?;

    // 5. Transcript and output.
    Stage::Output.time(|| {
        let t = Transcript {
            job: transcript::Job {
                id: opts.job_id.clone(),
                data_name,
                duration: rec.duration,
                created_at: job_created,
            },
            created_at: transcript::now_rfc3339(),
            transcription_config: job.echo.clone(),
            language_pack: transcript::language_pack(&language),
            language: language.clone(),
            notes: vec![(
                "license_days_remaining".to_string(),
                serde_json::json!(lic.days_remaining(now)),
            )],
            items: transcript::filter::apply(rec.items, &job.filters, &language),
            subtitles: job.srt,
        };
        if let Some(dir) = &opts.all_formats {
            output::write_all_formats(&t, dir)?;
        }
        output::stdout(&output::render(&t, opts.output_format))
    })?;
    let wall = started.elapsed().as_secs_f64();
    tracing::info!(
        "done: {:.1} s of audio in {:.2} s ({:.1}x real time), {} chunks; {}",
        rec.duration,
        wall,
        rec.duration / wall.max(1e-9),
        rec.chunks,
        crate::profile::summary()
    );
    Ok(())
}
