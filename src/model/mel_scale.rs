//! librosa's Slaney mel scale (`hz_to_mel` / `mel_to_hz`, `htk=False`):
//! linear below 1 kHz, logarithmic above. Shared by every front end that
//! builds Slaney mel filters (NeMo's fbank, Whisper's, the speaker encoder's).
//!
//! Imports nothing.

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hertz to Slaney mels.
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / logstep()
    } else {
        hz / F_SP
    }
}

/// Slaney mels to hertz (the inverse of [`hz_to_mel`]).
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (logstep() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_librosa() {
        // librosa.hz_to_mel(1000) = 15, (4000) = 35.16376...
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(4000.0) - 35.16376).abs() < 1e-4);
        for hz in [0.0, 440.0, 999.0, 1000.0, 3000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }
}
