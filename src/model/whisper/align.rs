//! Word times from cross-attention, as openai-whisper's `timing.py`
//! (`find_alignment`) and faster-whisper compute them: the model's
//! alignment heads' attention over the audio frames, normalised per frame
//! across tokens, median-filtered along time, averaged over heads; dynamic
//! time warping then assigns every token a start frame.
//!
//! Imports nothing outside this module.

/// Encoder frames per second (Whisper's 20 ms per encoder frame).
pub const FRAMES_PER_SEC: f64 = 50.0;
/// Width of the median filter along time.
pub const MEDFILT: usize = 7;

/// The time (seconds) at which each row's token starts.
///
/// `rows[i]` is the attention `[heads, total_frames]` of the step that
/// predicted token `i` (the text tokens, then the end token); only the
/// first `audio_frames` frames hold audio. Returns one time per row.
pub fn jump_times(
    rows: &[Vec<f32>],
    heads: usize,
    total_frames: usize,
    audio_frames: usize,
) -> Vec<f64> {
    let n = rows.len();
    let m = audio_frames.clamp(1, total_frames.max(1));
    if n == 0 || heads == 0 || rows.iter().any(|r| r.len() < heads * total_frames) {
        return vec![0.0; n];
    }
    let mut matrix = vec![0.0f32; n * m];
    let mut w = vec![0.0f32; n * m];
    for h in 0..heads {
        // Renormalise each row over the audio frames: the softmax over the
        // first `m` frames, as openai-whisper takes it.
        for (i, row) in rows.iter().enumerate() {
            let src = &row[h * total_frames..h * total_frames + m];
            let sum: f32 = src.iter().sum::<f32>().max(1e-20);
            for (dst, &x) in w[i * m..(i + 1) * m].iter_mut().zip(src) {
                *dst = x / sum;
            }
        }
        // Standardise each frame across tokens.
        for j in 0..m {
            let mean = (0..n).map(|i| w[i * m + j]).sum::<f32>() / n as f32;
            let var = (0..n).map(|i| (w[i * m + j] - mean).powi(2)).sum::<f32>() / n as f32;
            let std = var.sqrt().max(1e-10);
            for i in 0..n {
                w[i * m + j] = (w[i * m + j] - mean) / std;
            }
        }
        for i in 0..n {
            let filtered = median_filter(&w[i * m..(i + 1) * m], MEDFILT);
            for (acc, x) in matrix[i * m..(i + 1) * m].iter_mut().zip(filtered) {
                *acc += x / heads as f32;
            }
        }
    }
    let cost: Vec<f32> = matrix.iter().map(|x| -x).collect();
    let path = dtw(&cost, n, m);
    let mut times = vec![0.0; n];
    let mut last: Option<usize> = None;
    for (i, j) in path {
        if last != Some(i) {
            times[i] = j as f64 / FRAMES_PER_SEC;
            last = Some(i);
        }
    }
    times
}

/// Median filter with reflect padding (`width` odd), as openai-whisper's.
pub fn median_filter(x: &[f32], width: usize) -> Vec<f32> {
    let pad = width / 2;
    if pad == 0 || x.len() <= pad {
        return x.to_vec();
    }
    let at = |k: isize| -> f32 {
        let len = x.len() as isize;
        let r = if k < 0 {
            -k
        } else if k >= len {
            2 * (len - 1) - k
        } else {
            k
        };
        x[r.clamp(0, len - 1) as usize]
    };
    let mut win = vec![0.0f32; width];
    (0..x.len() as isize)
        .map(|c| {
            for (o, slot) in win.iter_mut().enumerate() {
                *slot = at(c + o as isize - pad as isize);
            }
            win.sort_by(f32::total_cmp);
            win[pad]
        })
        .collect()
}

/// Dynamic time warping over an `n × m` cost matrix (row-major): the
/// monotonic path from (0, 0) to (n-1, m-1) of least total cost, as
/// openai-whisper's `dtw_cpu` + `backtrace` (ties go left, then up).
pub fn dtw(cost: &[f32], n: usize, m: usize) -> Vec<(usize, usize)> {
    if n == 0 || m == 0 || cost.len() < n * m {
        return Vec::new();
    }
    let w = m + 1;
    let mut acc = vec![f32::INFINITY; (n + 1) * w];
    let mut trace = vec![0u8; (n + 1) * w];
    acc[0] = 0.0;
    for j in 1..=m {
        for i in 1..=n {
            let c0 = acc[(i - 1) * w + j - 1];
            let c1 = acc[(i - 1) * w + j];
            let c2 = acc[i * w + j - 1];
            let (c, t) = if c0 < c1 && c0 < c2 {
                (c0, 0)
            } else if c1 < c0 && c1 < c2 {
                (c1, 1)
            } else {
                (c2, 2)
            };
            acc[i * w + j] = cost[(i - 1) * m + j - 1] + c;
            trace[i * w + j] = t;
        }
    }
    let (mut i, mut j) = (n, m);
    let mut path = Vec::with_capacity(n + m);
    while i > 0 || j > 0 {
        path.push((i.saturating_sub(1), j.saturating_sub(1)));
        let t = if i == 0 {
            2
        } else if j == 0 {
            1
        } else {
            trace[i * w + j]
        };
        match t {
            0 => {
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_filter_reflects_at_the_edges() {
        let x = [5.0, 1.0, 2.0, 9.0, 3.0];
        assert_eq!(median_filter(&x, 3), [1.0, 2.0, 2.0, 3.0, 9.0]);
        assert_eq!(median_filter(&x, 1), x);
    }

    #[test]
    fn dtw_follows_the_cheap_diagonal() {
        // 3 tokens over 6 frames: token i is cheap on frames 2i, 2i+1.
        let (n, m) = (3, 6);
        let cost: Vec<f32> = (0..n * m)
            .map(|k| if (k % m) / 2 == k / m { 0.0 } else { 1.0 })
            .collect();
        let path = dtw(&cost, n, m);
        assert_eq!(path.first(), Some(&(0, 0)));
        assert_eq!(path.last(), Some(&(2, 5)));
        let starts: Vec<usize> = (0..n)
            .map(|i| path.iter().find(|p| p.0 == i).map_or(99, |p| p.1))
            .collect();
        assert_eq!(starts, [0, 2, 4]);
    }

    #[test]
    fn attention_peaks_give_token_times() {
        // Two heads, 4 rows, 100 frames of audio; row i attends to frames 20i..20i+20.
        let (heads, total) = (2, 120);
        let rows: Vec<Vec<f32>> = (0..4)
            .map(|i| {
                let mut r = vec![0.001f32; heads * total];
                for h in 0..heads {
                    for f in 0..20 {
                        r[h * total + 20 * i + f] = 1.0;
                    }
                }
                r
            })
            .collect();
        let t = jump_times(&rows, heads, total, 100);
        assert_eq!(t.len(), 4);
        for (i, &s) in t.iter().enumerate() {
            assert!((s - 0.4 * i as f64).abs() <= 0.06, "row {i}: {s}");
        }
    }
}
