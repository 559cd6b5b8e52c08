//! Input: find the audio the user gave and open it as a seekable file.
//!
//! `--input PATH` (`-` is stdin); else `/input.audio` when it exists; else
//! standard input. Standard input, and any input that is not a regular file
//! (a pipe, a FIFO, `/dev/fd/N`, `<(command)`, a character device), is
//! spooled into an anonymous temporary file under `$TMPDIR` (created already
//! unlinked, so nothing is left behind even if hark is killed). A terminal on
//! stdin with no other input is a usage error.
//!
//! Imports only the input size limit from `audio`.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The largest input hark accepts (4 GB, as Speechmatics): the audio stage's
/// limit, enforced here too so stdin is never spooled past it.
pub const MAX_BYTES: u64 = crate::audio::MAX_INPUT_BYTES;

/// Where the audio comes from.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// No input given and stdin is a terminal (a usage error).
    #[error("no input: pass --input PATH, mount a file at /input.audio, or pipe audio on stdin")]
    NoInput,
    /// `--input -` with a terminal on stdin (a usage error).
    #[error("--input -: standard input is a terminal: pipe audio in (cat a.wav | hark -)")]
    TerminalStdin,
    /// The file is missing or cannot be opened.
    #[error("{path}: cannot open input: {reason}")]
    Open {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The input is not a regular file.
    #[error("{0}: input is not a regular file (a directory? check the -v mount)")]
    NotAFile(PathBuf),
    /// The input has no bytes.
    #[error("{0}: input is empty (0 bytes)")]
    Empty(String),
    /// Nothing came on standard input.
    #[error(
        "stdin: input is empty (0 bytes): nothing was piped in (did you forget `docker run -i`?); \
         or pass --input PATH, or mount the audio at /input.audio"
    )]
    EmptyStdin,
    /// The input exceeds [`MAX_BYTES`].
    #[error("{0}: input is larger than the 4 GB limit")]
    TooLarge(String),
    /// Reading stdin or spooling it failed.
    #[error("{name}: cannot read input: {reason}")]
    Read {
        /// The input's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Writing the spooled copy under `$TMPDIR` failed (full, most often).
    #[error(
        "{name}: cannot copy the input to a temporary file in {dir} ($TMPDIR): {reason}; \
         input that is not a regular file is copied there in full: give it room \
         (docker run --tmpfs /tmp:size=2g), set TMPDIR to a larger directory, or pass a file with --input"
    )]
    Spool {
        /// The input's name.
        name: String,
        /// The temporary directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
}

/// An opened input.
#[derive(Debug)]
pub struct Input {
    /// A seekable file positioned at the start.
    pub file: File,
    /// The name shown to the user and written as `data_name` (`stdin` for stdin).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Opens the input: `flag`, else `default_path` if it exists, else stdin.
pub fn open(
    flag: Option<&Path>,
    default_path: &Path,
    stdin_is_terminal: bool,
) -> Result<Input, InputError> {
    if let Some(path) = flag {
        if path == Path::new("-") {
            if stdin_is_terminal {
                return Err(InputError::TerminalStdin);
            }
            return spool(io::stdin().lock(), "stdin");
        }
        return open_path(path);
    }
    if default_path.exists() {
        return open_path(default_path);
    }
    if stdin_is_terminal {
        return Err(InputError::NoInput);
    }
    spool(io::stdin().lock(), "stdin")
}

fn open_path(path: &Path) -> Result<Input, InputError> {
    let file = File::open(path).map_err(|e| InputError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let meta = file.metadata().map_err(|e| InputError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    if meta.is_dir() {
        return Err(InputError::NotAFile(path.to_path_buf()));
    }
    if !meta.is_file() {
        // A pipe, FIFO or device: read it as stdin is read.
        return spool(file, &path.display().to_string());
    }
    if meta.len() == 0 {
        return Err(InputError::Empty(name));
    }
    if meta.len() > MAX_BYTES {
        return Err(InputError::TooLarge(name));
    }
    Ok(Input {
        file,
        name,
        size: meta.len(),
    })
}

/// Copies `reader` into an anonymous temporary file under `$TMPDIR`.
pub fn spool(reader: impl Read, name: &str) -> Result<Input, InputError> {
    let dir = std::env::temp_dir();
    let mut file = tempfile::tempfile_in(&dir).map_err(|e| InputError::Read {
        name: name.to_string(),
        reason: format!(
            "cannot create a temporary file in {} ({e}); set TMPDIR to a writable directory",
            dir.display()
        ),
    })?;
    let size = copy(reader, &mut file, name, &dir)?;
    file.rewind().map_err(|e| InputError::Read {
        name: name.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Input {
        file,
        name: name.to_string(),
        size,
    })
}

/// Copies `reader` to `spool` (a temporary file in `dir`), up to
/// [`MAX_BYTES`]; read and write failures are told apart.
fn copy(
    mut reader: impl Read,
    spool: &mut impl Write,
    name: &str,
    dir: &Path,
) -> Result<u64, InputError> {
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(InputError::Read {
                    name: name.to_string(),
                    reason: e.to_string(),
                })
            }
        };
        size += n as u64;
        if size > MAX_BYTES {
            return Err(InputError::TooLarge(name.to_string()));
        }
        spool.write_all(&buf[..n]).map_err(|e| InputError::Spool {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    spool.flush().map_err(|e| InputError::Spool {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    match size {
        0 if name == "stdin" => Err(InputError::EmptyStdin),
        0 => Err(InputError::Empty(name.to_string())),
        _ => Ok(size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_and_missing_file_names_the_path() {
        let e = open(
            Some(Path::new("/no/such.wav")),
            Path::new("/input.audio"),
            false,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("/no/such.wav: cannot open input"),
            "{e}"
        );
    }

    #[test]
    fn terminal_stdin_without_input_is_a_usage_error() {
        let e = open(None, Path::new("/definitely/not/here"), true).unwrap_err();
        assert!(matches!(e, InputError::NoInput));
    }

    #[test]
    fn directory_and_empty_inputs_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            open_path(dir.path()),
            Err(InputError::NotAFile(_))
        ));
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(open_path(&empty), Err(InputError::Empty(_))));
    }

    #[test]
    fn spooled_stdin_is_rewound_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("TMPDIR", dir.path());
        let mut input = spool(&b"RIFFdata"[..], "stdin").unwrap();
        std::env::remove_var("TMPDIR");
        let mut s = String::new();
        input.file.read_to_string(&mut s).unwrap();
        assert_eq!(s, "RIFFdata");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let e = spool(&b""[..], "stdin").unwrap_err();
        assert!(e.to_string().contains("docker run -i"), "{e}");
        assert!(matches!(
            spool(&b""[..], "/dev/fd/63"),
            Err(InputError::Empty(_))
        ));
    }

    #[test]
    fn a_full_tmpdir_is_reported_as_a_failed_write_there() {
        // /dev/full fails every write with ENOSPC, as a full tmpfs does.
        let mut full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let e = copy(&[1u8; 4096][..], &mut full, "stdin", Path::new("/tmp")).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, InputError::Spool { .. }), "{msg}");
        assert!(
            msg.starts_with("stdin: cannot copy the input to a temporary file in /tmp ($TMPDIR): "),
            "{msg}"
        );
        assert!(msg.contains("No space left on device"), "{msg}");
        assert!(msg.contains("--tmpfs /tmp:size="), "{msg}");
    }

    #[test]
    fn a_fifo_is_spooled_like_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, b"RIFF....WAVE").unwrap())
        };
        let mut input = open(Some(&fifo), Path::new("/definitely/not/here"), true).unwrap();
        writer.join().unwrap();
        let mut s = String::new();
        input.file.read_to_string(&mut s).unwrap();
        assert_eq!(s, "RIFF....WAVE");
        assert_eq!(input.name, fifo.display().to_string());
    }
}
