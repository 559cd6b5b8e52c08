//! The speaker encoder for `diarization: "speaker"`: Resemblyzer's GE2E
//! model (`scripts/fetch-model speaker-ge2e` → `ge2e.onnx`; model card in
//! that directory), 40-band mel power frames in ([`mel`]), one L2-normed
//! 256-d embedding per window out.
//!
//! Where the model is: `--speaker-model DIR` (or `HARK_SPEAKER_MODEL`), else
//! next to the ASR model (`speaker-ge2e/` or `speaker/` beside its
//! directory: `models/speaker-ge2e` beside `models/whisper-tiny.en`), else
//! [`INSTALLED_DIR`] (the container's). See [`locate`].
//!
//! Each worker builds its own [`SpeakerEmbedder`] (its own ONNX session),
//! as it does its recognizer.
//!
//! Imports: `model::runtime`, `model::ModelError`.

pub mod mel;

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;

use super::runtime::{self, Source};
use super::ModelError;
pub use mel::{Frame, SpeakerMel, N_MELS};

/// The model file in a speaker-model directory.
pub const FILE: &str = "ge2e.onnx";
/// Where the container installs the speaker model.
pub const INSTALLED_DIR: &str = "/opt/hark/speaker";
/// Sibling directory names looked for next to the ASR model's directory.
pub const SIBLINGS: [&str; 2] = ["speaker-ge2e", "speaker"];
/// Embedding size.
pub const DIM: usize = 256;

/// Where to look for the speaker model, in order: the flag, then beside the
/// ASR model directory (if any), then [`INSTALLED_DIR`].
pub fn candidates(flag: Option<&Path>, asr_model: Option<&Path>) -> Vec<PathBuf> {
    if let Some(dir) = flag {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Some(parent) = asr_model.and_then(Path::parent) {
        for s in SIBLINGS {
            out.push(parent.join(s));
        }
    }
    out.push(PathBuf::from(INSTALLED_DIR));
    out
}

/// Finds and loads the speaker model (see [`candidates`]); a clear
/// [`ModelError::Missing`] naming every place looked in when there is none.
pub fn locate(flag: Option<&Path>, asr_model: Option<&Path>) -> Result<SpeakerModel, ModelError> {
    let looked = candidates(flag, asr_model);
    if let Some(dir) = flag {
        return SpeakerModel::load(dir);
    }
    match looked.iter().find(|d| d.join(FILE).is_file()) {
        Some(dir) => SpeakerModel::load(dir),
        None => Err(ModelError::Missing(format!(
            "diarization \"speaker\" needs a speaker model and none is installed (looked for {FILE} in: {}); \
             run scripts/fetch-model speaker-ge2e, or give --speaker-model DIR (HARK_SPEAKER_MODEL)",
            looked
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A validated speaker-model directory.
#[derive(Clone, Debug)]
pub struct SpeakerModel {
    path: PathBuf,
    /// Where it came from, for logs.
    pub origin: String,
}

impl SpeakerModel {
    /// Opens `dir/ge2e.onnx` and checks it embeds one silent window.
    pub fn load(dir: &Path) -> Result<SpeakerModel, ModelError> {
        let path = dir.join(FILE);
        if !path.is_file() {
            return Err(ModelError::Missing(format!(
                "speaker model {}: no {FILE} (run scripts/fetch-model speaker-ge2e {})",
                dir.display(),
                dir.display()
            )));
        }
        let model = SpeakerModel {
            path,
            origin: dir.display().to_string(),
        };
        let mut e = model.embedder(1)?;
        let silent = vec![[0f32; N_MELS]; 10];
        e.embed(&[&silent]).map_err(|err| {
            ModelError::Invalid(format!(
                "speaker model {}: {FILE} does not run as a GE2E encoder: {err}",
                model.origin
            ))
        })?;
        Ok(model)
    }

    /// A session for one worker.
    pub fn embedder(&self, intra_threads: usize) -> Result<SpeakerEmbedder, ModelError> {
        let env = runtime::environment()?;
        let session = runtime::session(env, &Source::File(self.path.clone()), intra_threads)
            .map_err(|e| {
                ModelError::Invalid(format!(
                    "speaker model {}: not a loadable ONNX model: {e}",
                    self.path.display()
                ))
            })?;
        let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if inputs != ["mels"] {
            return Err(ModelError::Invalid(format!(
                "speaker model {}: inputs are [{}], want [mels]",
                self.path.display(),
                inputs.join(", ")
            )));
        }
        Ok(SpeakerEmbedder {
            session,
            mel: SpeakerMel::new(),
        })
    }
}

/// One worker's speaker encoder: front end plus session.
pub struct SpeakerEmbedder {
    session: Session,
    mel: SpeakerMel,
}

impl SpeakerEmbedder {
    /// Mel power frames of 16 kHz samples (100 per second).
    pub fn frames(&self, samples: &[f32]) -> Vec<Frame> {
        self.mel.frames(samples)
    }

    /// Embeds windows of frames, all of the same length, in one batch; one
    /// L2-normed [`DIM`]-vector per window.
    pub fn embed(&mut self, windows: &[&[Frame]]) -> Result<Vec<Vec<f32>>, ModelError> {
        let err = |e: &dyn std::fmt::Display| ModelError::Inference(format!("speaker model: {e}"));
        let Some(first) = windows.first() else {
            return Ok(Vec::new());
        };
        let frames = first.len();
        if frames == 0 || windows.iter().any(|w| w.len() != frames) {
            return Err(err(&"windows of unequal or zero length"));
        }
        let mut data = Vec::with_capacity(windows.len() * frames * N_MELS);
        for w in windows {
            for f in *w {
                data.extend_from_slice(f);
            }
        }
        let shape = vec![windows.len() as i64, frames as i64, N_MELS as i64];
        let input = Tensor::from_array((shape, data)).map_err(|e| err(&e))?;
        let outputs = self
            .session
            .run(ort::inputs!["mels" => input])
            .map_err(|e| err(&e))?;
        let (_, out) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| err(&e))?;
        if out.len() != windows.len() * DIM {
            return Err(err(&format!(
                "{} values for {} windows, want {DIM} each",
                out.len(),
                windows.len()
            )));
        }
        Ok(out.chunks(DIM).map(<[f32]>::to_vec).collect())
    }
}
