//! Output: the only module that writes to stdout, and the `--all-formats` files.
//!
//! stdout is written once, after a successful run. `--all-formats DIR` files
//! are written to a temporary name in DIR and renamed into place, so a reader
//! never sees a partial transcript; a temporary file is removed if hark is
//! stopped by a signal.
//!
//! May import: `cli`, `transcript`, `signals`, `error`.

use std::io::Write;
use std::path::Path;

use crate::cli::OutputFormat;
use crate::error::Error;
use crate::transcript::{self, Transcript};

/// File names written by `--all-formats`, with their formats.
pub const ALL_FORMATS: [(&str, OutputFormat); 4] = [
    ("transcript.json", OutputFormat::JsonV2),
    ("transcript.txt", OutputFormat::Txt),
    ("transcript.srt", OutputFormat::Srt),
    ("transcript.vtt", OutputFormat::Vtt),
];

/// Renders `t` in `format`.
pub fn render(t: &Transcript, format: OutputFormat) -> String {
    match format {
        OutputFormat::JsonV2 => transcript::json_v2::render(t),
        OutputFormat::Txt => transcript::txt::render(t),
        OutputFormat::Srt => transcript::subtitles::render_srt(t),
        OutputFormat::Vtt => transcript::subtitles::render_vtt(t),
    }
}

/// Writes `text` to stdout.
pub fn stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::Output(format!("cannot write to stdout: {e}")))
}

/// Writes every format into `dir` atomically (write, then rename).
pub fn write_all_formats(t: &Transcript, dir: &Path) -> Result<(), Error> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--all-formats: {} is not a directory (create it, or mount one)",
            dir.display()
        )));
    }
    for (name, format) in ALL_FORMATS {
        let text = render(t, format);
        let dest = dir.join(name);
        let fail = |e: std::io::Error| {
            Error::Output(format!(
                "--all-formats: cannot write {}: {e}",
                dest.display()
            ))
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(dir)
            .map_err(fail)?;
        crate::signals::remove_on_signal(tmp.path().to_path_buf());
        let tmp_path = tmp.path().to_path_buf();
        let written = tmp
            .write_all(text.as_bytes())
            .and_then(|()| tmp.as_file().sync_all());
        if let Err(e) = written {
            crate::signals::forget(&tmp_path);
            return Err(fail(e));
        }
        let persisted = tmp.persist(&dest).map_err(|e| fail(e.error));
        crate::signals::forget(&tmp_path);
        persisted?;
    }
    Ok(())
}
