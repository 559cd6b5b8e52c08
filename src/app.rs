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

/// Loads the model for this job: `--model` (or the installed default) as
/// the standard model, and the enhanced one (`--enhanced-model`, or
/// /opt/hark/model-enhanced) when the job config asks for `operating_point:
/// enhanced` or the standard model cannot do what the job asks (its
/// language, identification, translation).
fn load_model(opts: &Options, job: &job_config::Effective) -> Result<Box<dyn Family>, Error> {
    let enhanced_dir = opts.enhanced_model.clone().or_else(|| {
        let p = Path::new(model::INSTALLED_ENHANCED_DIR);
        p.is_dir().then(|| p.to_path_buf())
    });
    let want_enhanced = job.operating_point == Some(job_config::Model::Enhanced);
    let family = match (&enhanced_dir, want_enhanced) {
        (Some(dir), true) => {
            tracing::info!(model = %dir.display(), "operating_point enhanced: the enhanced model");
            model::load(dir)?
        }
        (enhanced, _) => {
            if want_enhanced {
                tracing::info!("operating_point enhanced: no enhanced model installed (--enhanced-model); using the one model there is");
            }
            let standard = model::load_or_default(opts.model.as_deref())?;
            match (enhanced, missing_ability(standard.info(), job)) {
                (Some(dir), Some(why)) => {
                    let e = model::load(dir)?;
                    if missing_ability(e.info(), job).is_none() {
                        tracing::info!(model = %dir.display(), "the standard model: {why}; using the enhanced model");
                        e
                    } else {
                        standard
                    }
                }
                _ => standard,
            }
        }
    };
    tracing::info!(model = %family.info().origin, family = family.info().family, "model loaded");
    Ok(family)
}

/// What the job asks that the model cannot do, as an error message.
fn missing_ability(info: &model::ModelInfo, job: &job_config::Effective) -> Option<String> {
    let langs = &info.languages;
    let speaks = |l: &str| langs.is_empty() || langs.iter().any(|x| x == l);
    let listed = if langs.is_empty() {
        "unknown".to_string()
    } else {
        langs.join(", ")
    };
    if let Some(id) = &job.identify {
        if !info.can.detect_language {
            return Some(format!(
                "cannot identify the language (language \"auto\"): the model {} speaks only {listed}; use a multilingual model such as whisper-base",
                info.origin
            ));
        }
        let unknown: Vec<&String> = id
            .expected
            .iter()
            .chain(id.default_language.iter())
            .filter(|l| !speaks(l))
            .collect();
        if !unknown.is_empty() {
            let unknown: Vec<String> = unknown.iter().map(|l| format!("{l:?}")).collect();
            return Some(format!(
                "cannot transcribe {} (language_identification_config): the model {} supports: {listed}",
                unknown.join(", "),
                info.origin
            ));
        }
    } else if !speaks(&job.language) {
        return Some(format!(
            "language {:?} is not supported by the model {} (it supports: {listed})",
            job.language, info.origin
        ));
    }
    let needs_translation =
        !job.translate_to.is_empty() && (job.identify.is_some() || job.language != "en");
    if needs_translation && !info.can.translate {
        return Some(format!(
            "cannot translate {:?} into English: the model {} does not translate",
            job.language, info.origin
        ));
    }
    if !job.vocabulary.is_empty() && !info.can.vocabulary {
        return Some(format!(
            "cannot take transcription_config.additional_vocab: the model {} ({}) decodes greedily and cannot be biased",
            info.origin, info.family
        ));
    }
    None
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
    let auto = job.identify.is_some();

    // 1. License, before anything else is read. Under identification the
    // candidates are kept to licensed languages (below).
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
            language: (!auto).then_some(language.as_str()),
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

    // 3. Model: one that can do what the job asks, or a usage error.
    let family = load_model(opts, &job)?;
    if let Some(why) = missing_ability(family.info(), &job) {
        return Err(Error::Usage(why));
    }
    let detect = match &job.identify {
        Some(id) => Some(candidates(id, family.info(), &lic)?),
        None => None,
    };

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
        language: (!auto).then(|| language.clone()),
        beam_size: opts.beam_size,
        detect,
        translate: !job.translate_to.is_empty(),
        vocabulary: job.vocabulary.iter().map(|v| v.content.clone()).collect(),
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

    // 5. The file's language, then the transcript and output.
    let (language, identification) = match &job.identify {
        Some(id) => {
            let o = crate::language::summarize(&rec.identified, id, job_config::DEFAULT_LANGUAGE);
            tracing::info!(
                language = %o.language,
                confidence = o.confidence,
                error = o.result.error.unwrap_or("none"),
                chunks = rec.identified.len(),
                "language identified"
            );
            if let Some(why) = o.rejected {
                return Err(Error::LanguageRejected(format!(
                    "{why} (low_confidence_action: reject)"
                )));
            }
            (o.language, Some(o.result))
        }
        None => (language, None),
    };
    let mut echo = job.echo.clone();
    echo["language"] = serde_json::json!(language);
    let translations = job
        .translate_to
        .iter()
        .map(|target| {
            let sentences = rec
                .translation
                .iter()
                .map(|t| transcript::TranslationSentence {
                    start: t.start,
                    end: t.end,
                    content: t.text.clone(),
                    speaker: transcript::speaker_between(&rec.items, t.start, t.end),
                    channel: t.channel.clone(),
                })
                .collect();
            (target.clone(), sentences)
        })
        .collect();
    let mut filters = job.filters.clone();
    filters.vocabulary = job
        .vocabulary
        .iter()
        .filter(|v| !v.sounds_like.is_empty())
        .map(|v| (v.content.clone(), v.sounds_like.clone()))
        .collect();
    Stage::Output.time(|| {
        let t = Transcript {
            job: transcript::Job {
                id: opts.job_id.clone(),
                data_name,
                duration: rec.duration,
                created_at: job_created,
            },
            created_at: transcript::now_rfc3339(),
            transcription_config: echo,
            language_pack: transcript::language_pack(&language),
            language: language.clone(),
            notes: vec![(
                "license_days_remaining".to_string(),
                serde_json::json!(lic.days_remaining(now)),
            )],
            items: transcript::filter::apply(rec.items, &filters, &language),
            subtitles: job.srt,
            language_identification: identification,
            translations,
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

/// The languages identification may choose from: `expected_languages` (or
/// every language the model knows) that the license covers.
fn candidates(
    id: &job_config::Identify,
    info: &model::ModelInfo,
    lic: &license::License,
) -> Result<model::Detect, Error> {
    let licensed = |l: &str| {
        lic.languages
            .iter()
            .any(|x| x == license::ANY_LANGUAGE || x.eq_ignore_ascii_case(l))
    };
    let wanted: Vec<String> = if id.expected.is_empty() {
        info.languages.clone()
    } else {
        id.expected.clone()
    };
    let candidates: Vec<String> = wanted.iter().filter(|l| licensed(l)).cloned().collect();
    let refused: Vec<&String> = wanted.iter().filter(|l| !licensed(l)).collect();
    if candidates.is_empty() || (!id.expected.is_empty() && !refused.is_empty()) {
        let first = refused.first().map_or("auto", |l| l.as_str());
        return Err(Error::License(license::LicenseError::LanguageNotLicensed {
            language: first.to_string(),
            licensed: lic.languages.clone(),
        }));
    }
    if let Some(d) = id.default_language.as_deref().filter(|d| !licensed(d)) {
        return Err(Error::License(license::LicenseError::LanguageNotLicensed {
            language: d.to_string(),
            licensed: lic.languages.clone(),
        }));
    }
    Ok(model::Detect {
        // Every language the model knows and the license covers, when
        // none were listed; the model's full list is the same as none.
        candidates: if id.expected.is_empty() && refused.is_empty() {
            Vec::new()
        } else {
            candidates
        },
        min_confidence: crate::language::MIN_CONFIDENCE,
        fallback: match id.action {
            job_config::LowConfidenceAction::UseDefaultLanguage => id.default_language.clone(),
            _ => None,
        },
    })
}
