//! Agglomerative clustering of unit vectors by cosine similarity, centroid
//! linkage: the similarity of two clusters is the cosine between their mean
//! vectors; clusters merge while the best pair's is at least a threshold,
//! then (if asked) until at most `max_clusters` remain. (Centroid rather
//! than average linkage: a speaker's windows vary more among themselves
//! than their means do, and on the benchmark files the means of different
//! speakers stayed below 0.65 while one speaker's parts merged above 0.77.)
//!
//! Large inputs are clustered on an evenly spaced subset of at most
//! [`MAX_POINTS`] (memory and time stay bounded: the similarity matrix is
//! `MAX_POINTS²` floats); every point then joins the nearest centroid.
//!
//! Imports nothing from the rest of hark.

/// At most this many points are clustered directly (1,500 windows are
/// about 19 minutes of speech at a 0.75 s hop).
pub const MAX_POINTS: usize = 1500;

/// The result: a cluster index per point (0..k, in no particular order) and
/// each cluster's L2-normed centroid.
#[derive(Clone, Debug, PartialEq)]
pub struct Clusters {
    /// Cluster of each input point.
    pub assignment: Vec<usize>,
    /// Unit-length mean of each cluster's points.
    pub centroids: Vec<Vec<f32>>,
    /// The similarity at which the last merge happened and the best one
    /// left unmerged (for logs: how close the decision was).
    pub last_merge: Option<f32>,
    /// The best similarity between two clusters that were kept apart.
    pub next_merge: Option<f32>,
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// Clusters `points` (unit vectors of one length); see the module docs.
pub fn cluster(points: &[Vec<f32>], threshold: f32, max_clusters: Option<usize>) -> Clusters {
    let n = points.len();
    if n == 0 {
        return Clusters {
            assignment: Vec::new(),
            centroids: Vec::new(),
            last_merge: None,
            next_merge: None,
        };
    }
    let step = n.div_ceil(MAX_POINTS);
    let subset: Vec<usize> = (0..n).step_by(step).collect();
    let (groups, last_merge, next_merge) = agglomerate(points, &subset, threshold, max_clusters);
    let centroid = |members: &[usize]| {
        let dim = points[members[0]].len();
        let mut c = vec![0f32; dim];
        for &m in members {
            for (s, x) in c.iter_mut().zip(&points[m]) {
                *s += x;
            }
        }
        normalised(c)
    };
    let mut centroids: Vec<Vec<f32>> = groups.iter().map(|g| centroid(g)).collect();
    let mut assignment = vec![0usize; n];
    if step == 1 {
        for (k, g) in groups.iter().enumerate() {
            for &m in g {
                assignment[m] = k;
            }
        }
    } else {
        for (i, p) in points.iter().enumerate() {
            assignment[i] = nearest(p, &centroids);
        }
        // Centroids of what was assigned.
        for (k, c) in centroids.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| assignment[i] == k).collect();
            if !members.is_empty() {
                *c = centroid(&members);
            }
        }
    }
    Clusters {
        assignment,
        centroids,
        last_merge,
        next_merge,
    }
}

/// The index of the centroid most similar to `p`.
pub fn nearest(p: &[f32], centroids: &[Vec<f32>]) -> usize {
    centroids
        .iter()
        .enumerate()
        .map(|(k, c)| (k, cosine(p, c)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(k, _)| k)
}

type Agglomerated = (Vec<Vec<usize>>, Option<f32>, Option<f32>);

/// Centroid-linkage agglomeration of `points[subset]` on a dense
/// similarity matrix (a merged cluster's row is recomputed from its summed
/// vector). Returns the groups (as point indices), ordered by their first
/// member.
fn agglomerate(
    points: &[Vec<f32>],
    subset: &[usize],
    threshold: f32,
    max_clusters: Option<usize>,
) -> Agglomerated {
    let m = subset.len();
    let mut sim = vec![0f32; m * m];
    for i in 0..m {
        for j in i + 1..m {
            let s = cosine(&points[subset[i]], &points[subset[j]]);
            sim[i * m + j] = s;
            sim[j * m + i] = s;
        }
    }
    let mut alive = vec![true; m];
    let mut sums: Vec<Vec<f32>> = subset.iter().map(|&p| points[p].clone()).collect();
    let mut norms: Vec<f32> = vec![1.0; m];
    let mut members: Vec<Vec<usize>> = subset.iter().map(|&p| vec![p]).collect();
    let best_of = |sim: &[f32], alive: &[bool], i: usize| -> Option<(usize, f32)> {
        (0..m)
            .filter(|&j| j != i && alive[j])
            .map(|j| (j, sim[i * m + j]))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    };
    let mut best: Vec<Option<(usize, f32)>> = (0..m).map(|i| best_of(&sim, &alive, i)).collect();
    let mut count = m;
    let mut last_merge = None;
    let limit = max_clusters.unwrap_or(usize::MAX).max(1);
    loop {
        if count <= 1 {
            break;
        }
        let pick = (0..m)
            .filter(|&i| alive[i])
            .filter_map(|i| best[i].map(|(j, s)| (i, j, s)))
            .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)));
        let Some((i, j, s)) = pick else { break };
        if s < threshold && count <= limit {
            break;
        }
        let (a, b) = (i.min(j), i.max(j));
        // Merge b into a.
        let moved_sum = std::mem::take(&mut sums[b]);
        for (x, y) in sums[a].iter_mut().zip(&moved_sum) {
            *x += y;
        }
        norms[a] = sums[a].iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        alive[b] = false;
        for k in 0..m {
            if alive[k] && k != a {
                let v = cosine(&sums[a], &sums[k]) / (norms[a] * norms[k]);
                sim[a * m + k] = v;
                sim[k * m + a] = v;
            }
        }
        let moved = std::mem::take(&mut members[b]);
        members[a].extend(moved);
        count -= 1;
        last_merge = Some(s);
        for k in 0..m {
            if !alive[k] {
                best[k] = None;
                continue;
            }
            let stale = k == a || matches!(best[k], Some((t, _)) if t == a || t == b);
            if stale {
                best[k] = best_of(&sim, &alive, k);
            } else if let Some((_, bs)) = best[k] {
                let v = sim[k * m + a];
                if v > bs {
                    best[k] = Some((a, v));
                }
            }
        }
    }
    let next_merge = (0..m)
        .filter(|&i| alive[i])
        .filter_map(|i| best[i].map(|(_, s)| s))
        .max_by(f32::total_cmp);
    let mut groups: Vec<Vec<usize>> = (0..m)
        .filter(|&i| alive[i])
        .map(|i| {
            let mut g = std::mem::take(&mut members[i]);
            g.sort_unstable();
            g
        })
        .collect();
    groups.sort_by_key(|g| g[0]);
    (groups, last_merge, next_merge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        normalised(v.to_vec())
    }

    fn blobs() -> Vec<Vec<f32>> {
        // Two tight groups around (1, 0, 0) and (0, 1, 0), interleaved.
        (0..20)
            .map(|i| {
                let e = 0.05 * (i % 5) as f32;
                if i % 2 == 0 {
                    unit(&[1.0, e, 0.1])
                } else {
                    unit(&[e, 1.0, 0.1])
                }
            })
            .collect()
    }

    #[test]
    fn two_groups_at_a_middling_threshold() {
        let c = cluster(&blobs(), 0.5, None);
        assert_eq!(c.centroids.len(), 2);
        for (i, k) in c.assignment.iter().enumerate() {
            assert_eq!(*k, i % 2, "point {i}");
        }
        assert!(c.last_merge.is_some_and(|s| s > 0.9));
        assert!(c.next_merge.is_some_and(|s| s < 0.3));
    }

    #[test]
    fn thresholds_and_caps() {
        assert_eq!(cluster(&blobs(), -1.0, None).centroids.len(), 1);
        assert_eq!(cluster(&blobs(), 0.999_99, Some(2)).centroids.len(), 2);
        assert_eq!(cluster(&blobs(), 0.5, Some(1)).centroids.len(), 1);
        assert!(cluster(&[], 0.5, None).assignment.is_empty());
    }

    #[test]
    fn large_inputs_use_a_subset_then_nearest_centroid() {
        let mut pts = Vec::new();
        for _ in 0..(MAX_POINTS / 10 + 1) {
            pts.extend(blobs());
        }
        let c = cluster(&pts, 0.5, None);
        assert_eq!(c.centroids.len(), 2);
        for (i, k) in c.assignment.iter().enumerate() {
            assert_eq!(*k, i % 2);
        }
    }
}
