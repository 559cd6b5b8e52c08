//! Byte sniffing: spot formats the built-in decoders must not be given.
//!
//! symphonia's probe scans up to 1 MB for any sync word, so some containers
//! it does not understand are "decoded" as noise without an error (MPEG-PS
//! `.mpg` is the known case). This module looks at the first bytes of the
//! input and routes such formats to the ffmpeg fallback instead.
//! Imports: std only.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// How many leading bytes are examined.
const SNIFF_LEN: usize = 64 * 1024;

/// Where an input should be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Let symphonia probe it (it may still turn out unsupported or garbage).
    Native,
    /// A format for the ffmpeg fallback; the text names it for messages.
    Fallback(&'static str),
}

/// Reads the head of `file`, classifies it, and rewinds to the start. Also
/// names the container its signature shows, if any ([`container`]).
pub(crate) fn sniff(file: &mut File) -> io::Result<(Kind, Option<&'static str>)> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.by_ref()
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok((classify(&head), container(&head)))
}

/// The container a file's first bytes announce (for messages: a file that
/// starts like an Ogg or MP4 file but cannot be probed is a cut or broken
/// one, not "not audio"). MP3 and ADTS, found by sync words, are not named.
pub(crate) fn container(head: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| head.get(i..i + sig.len()) == Some(sig);
    if at(0, b"OggS") {
        Some("an Ogg")
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("a Matroska/WebM")
    } else if at(4, b"ftyp") {
        Some("an MP4")
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some("a WAV")
    } else if at(0, b"fLaC") {
        Some("a FLAC")
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Some("an AIFF")
    } else if at(0, b"caff") {
        Some("a CAF")
    } else {
        None
    }
}

/// Classifies the leading bytes of a file.
pub(crate) fn classify(head: &[u8]) -> Kind {
    if head.starts_with(&[0x00, 0x00, 0x01, 0xBA]) {
        return Kind::Fallback("an MPEG program stream (.mpg/.vob)");
    }
    if is_transport_stream(head, 188, 0) || is_transport_stream(head, 192, 4) {
        return Kind::Fallback("an MPEG transport stream (.ts)");
    }
    if head.starts_with(b"#!AMR") {
        return Kind::Fallback("AMR audio");
    }
    if head.starts_with(b"RF64") || head.starts_with(b"BW64") {
        return Kind::Fallback("RF64/BW64 (large WAV)");
    }
    const ASF_GUID: [u8; 8] = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11];
    if head.starts_with(&ASF_GUID) {
        return Kind::Fallback("ASF/WMA audio");
    }
    if is_3gpp(head) && (contains(head, b"samr") || contains(head, b"sawb")) {
        return Kind::Fallback("AMR audio in 3GP");
    }
    Kind::Native
}

/// MPEG-TS: a 0x47 sync byte at the start of every packet. Requires at
/// least three packets (all the ones present, up to eight) to agree.
fn is_transport_stream(head: &[u8], packet: usize, offset: usize) -> bool {
    let positions: Vec<usize> = (0..8)
        .map(|i| offset + i * packet)
        .take_while(|&p| p < head.len())
        .collect();
    positions.len() >= 3 && positions.iter().all(|&p| head[p] == 0x47)
}

/// An ISO-BMFF `ftyp` box whose major brand is a 3GPP/3GPP2 one.
fn is_3gpp(head: &[u8]) -> bool {
    head.len() >= 12 && &head[4..8] == b"ftyp" && (head[8..11] == *b"3gp" || head[8..11] == *b"3g2")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_fallback_signatures() {
        assert!(matches!(
            classify(&[0, 0, 1, 0xBA, 0x44]),
            Kind::Fallback(_)
        ));
        assert!(matches!(
            classify(b"#!AMR\n\x3c"),
            Kind::Fallback("AMR audio")
        ));
        assert!(matches!(
            classify(b"#!AMR-WB\n"),
            Kind::Fallback("AMR audio")
        ));
        assert!(matches!(
            classify(b"RF64\xff\xff\xff\xffWAVE"),
            Kind::Fallback(_)
        ));
        let asf = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9];
        assert!(matches!(classify(&asf), Kind::Fallback("ASF/WMA audio")));
        let mut ts = vec![0u8; 188 * 4];
        for i in 0..4 {
            ts[i * 188] = 0x47;
        }
        assert!(matches!(classify(&ts), Kind::Fallback(_)));
        let mut m2ts = vec![0u8; 192 * 4];
        for i in 0..4 {
            m2ts[4 + i * 192] = 0x47;
        }
        assert!(matches!(classify(&m2ts), Kind::Fallback(_)));
        let mut gp = b"\0\0\0\x18ftyp3gp4\0\0\0\0".to_vec();
        gp.extend_from_slice(b"....moov....samr");
        assert!(matches!(classify(&gp), Kind::Fallback("AMR audio in 3GP")));
    }

    #[test]
    fn names_containers_by_signature() {
        assert_eq!(container(b"OggS\0\x02"), Some("an Ogg"));
        assert_eq!(container(b"\0\0\0\x18ftypM4A "), Some("an MP4"));
        assert_eq!(container(b"RIFF\0\0\0\0WAVEfmt "), Some("a WAV"));
        assert_eq!(container(b"RIFF\0\0\0\0AVI "), None);
        assert_eq!(container(b"\xff\xfb\x50\xc4"), None);
        assert_eq!(container(b""), None);
    }

    #[test]
    fn leaves_everything_else_to_symphonia() {
        assert_eq!(classify(b""), Kind::Native);
        assert_eq!(classify(b"RIFF\0\0\0\0WAVEfmt "), Kind::Native);
        assert_eq!(classify(b"fLaC"), Kind::Native);
        assert_eq!(classify(b"\0\0\0\x18ftypM4A \0\0\0\0mp4a"), Kind::Native);
        // A single 0x47 byte (e.g. text starting with 'G') is not a TS.
        assert_eq!(
            classify(b"G is for garbage, not for transport streams"),
            Kind::Native
        );
        // 3GP with AAC stays native.
        assert_eq!(classify(b"\0\0\0\x18ftyp3gp4\0\0\0\0mp4a"), Kind::Native);
    }
}
