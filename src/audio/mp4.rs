//! MP4 edit lists: how many leading frames of the audio track to discard.
//!
//! symphonia 0.6.1 parses but ignores the `elst` box, so AAC in MP4 keeps
//! its encoder priming (1024 frames: 64 ms at 16 kHz), which would shift
//! every timestamp hark reports. This module reads the first sound track's
//! edit list and returns its start offset (what ffmpeg and players skip).
//! Only the start is applied; like ffmpeg, trailing padding is kept.
//! Imports: std only.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// A `moov` larger than this is not read (no real audio file comes close).
const MAX_MOOV: u64 = 64 * 1024 * 1024;

/// Start of the first sound track's first non-empty edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Media time where presentation starts, in `timescale` units.
    pub media_time: u64,
    /// The track's media timescale (`mdhd`), usually the sample rate.
    pub timescale: u32,
}

impl Edit {
    /// The offset in frames at `rate` Hz.
    pub(crate) fn frames_at(&self, rate: u32) -> u64 {
        (u128::from(self.media_time) * u128::from(rate) / u128::from(self.timescale.max(1))) as u64
    }
}

/// Finds the edit of the first sound track. `Ok(None)` when the file has no
/// `moov`, no sound track, or no edit list. The file offset is restored (it
/// may be shared with a reader that symphonia is using).
pub(crate) fn audio_edit(file: &mut File) -> io::Result<Option<Edit>> {
    let saved = file.stream_position()?;
    let found = find_edit(file);
    file.seek(SeekFrom::Start(saved))?;
    found
}

fn find_edit(file: &mut File) -> io::Result<Option<Edit>> {
    let len = file.metadata()?.len();
    let mut pos = 0u64;
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 16];
        file.read_exact(&mut head[..8])?;
        let mut size = u64::from(be32(&head[0..4]));
        let mut header = 8;
        if size == 1 {
            file.read_exact(&mut head[8..16])?;
            size = be64(&head[8..16]);
            header = 16;
        } else if size == 0 {
            size = len - pos;
        }
        if size < header || pos + size > len {
            return Ok(None);
        }
        if &head[4..8] == b"moov" {
            if size - header > MAX_MOOV {
                return Ok(None);
            }
            let mut moov = vec![0u8; (size - header) as usize];
            file.read_exact(&mut moov)?;
            return Ok(moov_edit(&moov));
        }
        pos += size;
    }
    Ok(None)
}

fn moov_edit(moov: &[u8]) -> Option<Edit> {
    for trak in children(moov).filter(|(t, _)| t == b"trak").map(|(_, b)| b) {
        let Some(mdia) = child(trak, b"mdia") else {
            continue;
        };
        if child(mdia, b"hdlr").and_then(|h| h.get(8..12)) != Some(b"soun") {
            continue;
        }
        let mdhd = child(mdia, b"mdhd")?;
        let timescale = match mdhd.first()? {
            1 => be32(mdhd.get(20..24)?),
            _ => be32(mdhd.get(12..16)?),
        };
        let elst = child(trak, b"edts").and_then(|e| child(e, b"elst"))?;
        return first_media_time(elst).map(|media_time| Edit {
            media_time,
            timescale,
        });
    }
    None
}

/// The media time of the first edit that is not an empty (-1) edit.
fn first_media_time(elst: &[u8]) -> Option<u64> {
    let version = *elst.first()?;
    let count = be32(elst.get(4..8)?) as usize;
    let entry = if version == 1 { 20 } else { 12 };
    (0..count.min(1024)).find_map(|i| {
        let e = elst.get(8 + i * entry..8 + (i + 1) * entry)?;
        let t = if version == 1 {
            be64(&e[8..16]) as i64
        } else {
            i64::from(be32(&e[4..8]) as i32)
        };
        u64::try_from(t).ok()
    })
}

/// Iterates `(type, payload)` of the boxes directly inside `data`.
fn children(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let head = data.get(pos..pos + 8)?;
        let mut size = be32(&head[0..4]) as usize;
        let mut header = 8;
        if size == 1 {
            size = usize::try_from(be64(data.get(pos + 8..pos + 16)?)).ok()?;
            header = 16;
        } else if size == 0 {
            size = data.len() - pos;
        }
        if size < header {
            return None;
        }
        let body = data.get(pos + header..pos.checked_add(size)?)?;
        let kind = [head[4], head[5], head[6], head[7]];
        pos += size;
        Some((kind, body))
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data).find(|(t, _)| t == kind).map(|(_, b)| b)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn trak(handler: &[u8; 4], edits: &[(u32, i32)]) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 12]);
        let mut mdhd = vec![0u8; 12];
        mdhd.extend_from_slice(&48_000u32.to_be_bytes());
        mdhd.extend_from_slice(&[0u8; 8]);
        let mdia = [boxed(b"mdhd", &mdhd), boxed(b"hdlr", &hdlr)].concat();
        let mut elst = vec![0u8; 4];
        elst.extend_from_slice(&(edits.len() as u32).to_be_bytes());
        for (dur, t) in edits {
            elst.extend_from_slice(&dur.to_be_bytes());
            elst.extend_from_slice(&t.to_be_bytes());
            elst.extend_from_slice(&0x0001_0000u32.to_be_bytes());
        }
        let edts = boxed(b"edts", &boxed(b"elst", &elst));
        boxed(b"trak", &[edts, boxed(b"mdia", &mdia)].concat())
    }

    #[test]
    fn finds_the_sound_track_edit_skipping_empty_edits() {
        let moov = [
            trak(b"vide", &[(10, 5)]),
            trak(b"soun", &[(100, -1), (4000, 1024)]),
        ]
        .concat();
        let edit = moov_edit(&moov);
        assert_eq!(
            edit,
            Some(Edit {
                media_time: 1024,
                timescale: 48_000
            })
        );
        assert_eq!(edit.map(|e| e.frames_at(16_000)), Some(341));
    }

    #[test]
    fn tolerates_garbage() {
        assert_eq!(moov_edit(&[]), None);
        assert_eq!(moov_edit(&[0, 0, 0, 1, b't', b'r', b'a', b'k']), None);
        assert_eq!(moov_edit(&[0xff; 64]), None);
        let mut cut = trak(b"soun", &[(1, 2)]);
        cut.truncate(30);
        assert_eq!(moov_edit(&cut), None);
    }
}
