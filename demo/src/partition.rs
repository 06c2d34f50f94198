//! Contiguous blocks of a 1D periodic grid, one per rank: the first `points % parts` blocks hold
//! one point more than the others.

/// One rank's block `[lo, hi)` of the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// First grid point of the block.
    pub lo: usize,
    /// One past its last grid point.
    pub hi: usize,
}

impl Block {
    /// Grid points in the block.
    pub fn len(&self) -> usize {
        self.hi - self.lo
    }

    /// `true` if the block holds no point.
    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }
}

/// A grid of `points` split into `parts` blocks of at least one point each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    points: usize,
    parts: usize,
}

/// The grid has fewer points than there are parts, or there are no parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot split {points} grid points into {parts} blocks of at least one point")]
pub struct PartitionError {
    /// Grid points.
    pub points: usize,
    /// Blocks asked for.
    pub parts: usize,
}

impl Partition {
    /// Split `points` into `parts` blocks; needs `1 <= parts <= points`.
    pub fn new(points: usize, parts: usize) -> Result<Self, PartitionError> {
        if parts == 0 || parts > points {
            return Err(PartitionError { points, parts });
        }
        Ok(Partition { points, parts })
    }

    /// Grid points.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Number of blocks.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Block `part` (`part < parts`; later indices are clamped to the last block).
    pub fn block(&self, part: usize) -> Block {
        let part = part.min(self.parts - 1);
        let (base, extra) = (self.points / self.parts, self.points % self.parts);
        let lo = part * base + part.min(extra);
        Block {
            lo,
            hi: lo + base + usize::from(part < extra),
        }
    }

    /// All blocks, in grid order.
    pub fn blocks(&self) -> impl Iterator<Item = Block> + '_ {
        (0..self.parts).map(|p| self.block(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::burgers::Burgers;

    #[test]
    fn blocks_tile_the_grid() {
        for points in 1..40 {
            for parts in 1..=points {
                let p = Partition::new(points, parts).unwrap();
                let blocks: Vec<Block> = p.blocks().collect();
                assert_eq!(blocks[0].lo, 0);
                assert_eq!(blocks[parts - 1].hi, points);
                for w in blocks.windows(2) {
                    assert_eq!(w[0].hi, w[1].lo);
                }
                let (min, max) = blocks.iter().fold((usize::MAX, 0), |(a, b), x| {
                    (a.min(x.len()), b.max(x.len()))
                });
                assert!(min >= 1 && max - min <= 1);
            }
        }
        assert!(Partition::new(3, 4).is_err());
        assert!(Partition::new(3, 0).is_err());
    }

    /// Stepping block by block with halos equals the serial step bit for bit, forward and
    /// adjoint, for every split including blocks of one point.
    #[test]
    fn blockwise_steps_match_the_serial_step_bitwise() {
        let model = Burgers::with_stable_dt(13, 0.05, 2.0, 0.9).unwrap();
        let u = model.initial_condition();
        let lam_next: Vec<f64> = u.iter().map(|x| 0.3 * x - 0.1).collect();
        let mut serial = vec![0.0; 13];
        model.step(&u, &mut serial, 0).unwrap();
        let mut serial_adj = vec![0.0; 13];
        model.adjoint_step(&u, &lam_next, &mut serial_adj).unwrap();
        for parts in 1..=13 {
            let p = Partition::new(13, parts).unwrap();
            let (mut out, mut adj) = (vec![0.0; 13], vec![0.0; 13]);
            let mut sum = 0.0;
            for b in p.blocks() {
                let left = (b.lo + 12) % 13;
                let right = b.hi % 13;
                model.step_block(u[left], &u[b.lo..b.hi], u[right], &mut out[b.lo..b.hi]);
                model.adjoint_block(
                    &u[b.lo..b.hi],
                    lam_next[left],
                    &lam_next[b.lo..b.hi],
                    lam_next[right],
                    &mut adj[b.lo..b.hi],
                );
                sum = Burgers::sum_squares(sum, &u[b.lo..b.hi]);
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&out), bits(&serial), "{parts} blocks");
            assert_eq!(bits(&adj), bits(&serial_adj), "{parts} blocks");
            assert_eq!(
                (0.5 * sum).to_bits(),
                Burgers::objective(&u).to_bits(),
                "{parts} blocks"
            );
        }
    }
}
