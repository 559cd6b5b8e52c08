//! Audio: decode any common container/codec and produce 16 kHz f32 PCM.
