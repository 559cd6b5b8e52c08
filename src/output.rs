//! Output: the only module that writes to stdout, and the `--all-formats` files.
//!
//! stdout is written once, after a successful run. `--all-formats DIR` is
//! checked before any work ([`check_dir`]: it exists, is a directory and
//! takes a new file). Its files are written to a temporary name in DIR and
//! renamed into place, so a reader never sees a partial transcript; they get
//! the mode `>` would give them (0666 less the umask), and a temporary file
//! is removed if hark is stopped by a signal.
//!
//! May import: `cli`, `transcript`, `signals`, `error`.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
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

/// Checks, before any work, that `--all-formats DIR` can take the files:
/// it exists, is a directory, and a file can be created in it (tried with an
/// anonymous file, so nothing is left behind). Fails with a usage error
/// naming the directory and saying how to fix it.
pub fn check_dir(dir: &Path) -> Result<(), Error> {
    let shown = dir.display();
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Usage(format!(
                "--all-formats: {shown} does not exist (create it, or mount one with -v)"
            )))
        }
        Err(e) => return Err(Error::Usage(format!("--all-formats: {shown}: {e}"))),
    };
    if !meta.is_dir() {
        return Err(Error::Usage(format!(
            "--all-formats: {shown} is not a directory (create it, or mount one with -v)"
        )));
    }
    if let Err(e) = tempfile::tempfile_in(dir) {
        let owner = format!("{}:{}", meta.uid(), meta.gid());
        let me = process_ids();
        let fix = if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem {
            "it is on a read-only file system (mount it read-write, without :ro)".to_string()
        } else if me.as_deref() == Some(owner.as_str()) {
            format!(
                "hark's user {owner} owns it but cannot write there: check its mode \
                 (chmod u+w {shown}) and that it is not mounted read-only"
            )
        } else {
            let me = me.unwrap_or_else(|| "hark's UID:GID".to_string());
            format!(
                "it is owned by {owner} and hark runs as {me}: make it writable by hark's user \
                 (chown {me} {shown}), or run hark as its owner (docker run --user {owner})"
            )
        };
        return Err(Error::Usage(format!(
            "--all-formats: cannot create files in {shown} ({e}); {fix}"
        )));
    }
    Ok(())
}

/// `UID:GID` of this process: `/proc/self` is owned by its effective ids.
fn process_ids() -> Option<String> {
    std::fs::metadata("/proc/self")
        .ok()
        .map(|m| format!("{}:{}", m.uid(), m.gid()))
}

/// Writes every format into `dir` atomically (write, then rename), each file
/// with mode 0666 less the umask, as a shell's `>` would create it.
pub fn write_all_formats(t: &Transcript, dir: &Path) -> Result<(), Error> {
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
            .permissions(std::fs::Permissions::from_mode(0o666))
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
