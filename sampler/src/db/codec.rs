//! Exact binary encodings of the BLOB columns (little-endian) and integer conversions.

use crate::trajectory::Segment;
use crate::{Error, Result};

/// Scores as little-endian f64 bytes (bit-exact).
pub(crate) fn encode_scores(scores: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(scores.len() * 8);
    for s in scores {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Inverse of [`encode_scores`]; `None` if the length is not a multiple of 8.
pub(crate) fn decode_scores(bytes: &[u8]) -> Option<Vec<f64>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect(),
    )
}

/// Lineage as pairs (start_step, stream) of little-endian u64.
pub(crate) fn encode_lineage(lineage: &[Segment]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lineage.len() * 16);
    for s in lineage {
        out.extend_from_slice(&s.start_step.to_le_bytes());
        out.extend_from_slice(&s.stream.to_le_bytes());
    }
    out
}

/// Inverse of [`encode_lineage`]; `None` if malformed.
pub(crate) fn decode_lineage(bytes: &[u8]) -> Option<Vec<Segment>> {
    if !bytes.len().is_multiple_of(16) || bytes.is_empty() {
        return None;
    }
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
    Some(
        bytes
            .chunks_exact(16)
            .map(|c| Segment {
                start_step: word(&c[..8]),
                stream: word(&c[8..]),
            })
            .collect(),
    )
}

/// A list for a message: all of it when short, else its length and first and last few
/// (`1000 (0, 1, 2, 3, 4, ..., 997, 998, 999)`).
pub(crate) fn summarise<T: std::fmt::Display>(items: &[T]) -> String {
    const FIRST: usize = 5;
    const LAST: usize = 3;
    let join = |v: &[T]| v.iter().map(T::to_string).collect::<Vec<_>>().join(", ");
    if items.len() <= FIRST + LAST {
        return join(items);
    }
    format!(
        "{} ({}, ..., {})",
        items.len(),
        join(&items[..FIRST]),
        join(&items[items.len() - LAST..])
    )
}

/// A count as an SQLite integer.
pub(super) fn int(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Overflow("count beyond 2^63 in the run database"))
}

/// Comma-separated list in brackets (a JSON array of integers).
pub(super) fn id_list(ids: impl Iterator<Item = u64>) -> String {
    let mut s = String::from("[");
    for (i, id) in ids.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s.push(']');
    s
}

/// Inverse of [`id_list`]; `None` if malformed.
pub(super) fn parse_id_list(text: &str) -> Option<Vec<u64>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|s| s.parse().ok()).collect()
}

/// Seconds since the Unix epoch.
pub(super) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_are_exact() {
        let s = [0.1, -0.0, f64::MIN_POSITIVE, 1e300, f64::INFINITY];
        let back = decode_scores(&encode_scores(&s)).unwrap();
        assert!(s.iter().zip(&back).all(|(a, b)| a.to_bits() == b.to_bits()));
        let l = [
            Segment {
                start_step: 0,
                stream: 3,
            },
            Segment {
                start_step: 17,
                stream: u64::MAX,
            },
        ];
        assert_eq!(decode_lineage(&encode_lineage(&l)).unwrap(), l);
        assert!(decode_scores(&[0; 7]).is_none());
        assert!(decode_lineage(&[]).is_none());
        assert_eq!(id_list([1u64, 20, 3].into_iter()), "[1,20,3]");
        assert_eq!(parse_id_list("[1,20,3]"), Some(vec![1, 20, 3]));
        assert_eq!(parse_id_list("[]"), Some(vec![]));
        assert_eq!(parse_id_list("[1,,3]"), None);
    }
}
