//! [`RamStore`]: checkpoints in preallocated buffers in main memory.

use crate::{CheckpointStore, Error, Level, State};

/// Checkpoints held in main memory, in `capacity` buffers allocated once at construction.
///
/// Storing copies into a free buffer (no allocation); [`CheckpointStore::take`] swaps the
/// checkpoint's buffer with the caller's (a hand-over, no copy); [`CheckpointStore::view`] lends
/// the checkpoint read-only.
///
/// ```
/// use revolve::{CheckpointStore, storage::ram::RamStore};
/// let mut store = RamStore::new(2, &vec![0.0f64; 4]);
/// let mut u = vec![1.0, 2.0, 3.0, 4.0];
/// store.store(0, &u).unwrap();
/// u[0] = 9.0;
/// assert_eq!(store.view(0).unwrap().unwrap()[0], 1.0);
/// store.take(0, &mut u).unwrap(); // hand-over: u now holds the checkpoint's buffer
/// assert_eq!(u, [1.0, 2.0, 3.0, 4.0]);
/// assert!(store.is_empty());
/// ```
#[derive(Debug)]
pub struct RamStore<S> {
    /// The buffers, one per slot.
    slots: Vec<S>,
    /// Held checkpoints as `(step, slot)`, sorted by step.
    index: Vec<(u64, usize)>,
    /// Free slot numbers (a stack).
    free: Vec<usize>,
    /// Bytes per state.
    byte_len: usize,
}

impl<S: State> RamStore<S> {
    /// A store of `capacity` slots, each a clone of `prototype` (which fixes the state size).
    pub fn new(capacity: usize, prototype: &S) -> Self {
        RamStore {
            slots: (0..capacity).map(|_| prototype.clone()).collect(),
            index: Vec::with_capacity(capacity),
            free: (0..capacity).rev().collect(),
            byte_len: prototype.byte_len(),
        }
    }

    /// A new buffer of the stored states' shape (a clone of a slot's buffer, contents
    /// unspecified), `None` for a store without slots.
    pub fn spare_buffer(&self) -> Option<S> {
        self.slots.first().cloned()
    }

    /// Bytes per state this store holds.
    pub fn state_bytes(&self) -> usize {
        self.byte_len
    }

    /// Steps held now, in increasing order.
    pub fn steps(&self) -> impl Iterator<Item = u64> + '_ {
        self.index.iter().map(|&(step, _)| step)
    }

    /// Keep `state` as the checkpoint of `step` by swapping buffers with a free slot instead of
    /// copying: afterwards `state` holds that slot's old buffer (same size, contents unspecified).
    /// For callers that rewrite `state` next anyway (an out-of-place forward step).
    pub fn store_swap(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        let (at, slot) = self.claim(step, state)?;
        std::mem::swap(&mut self.slots[slot], state);
        self.index.insert(at, (step, slot));
        Ok(())
    }

    /// Check `state` and `step` for a store; pick the free slot and the index position.
    fn claim(&mut self, step: u64, state: &S) -> Result<(usize, usize), Error> {
        self.check_size(state)?;
        let at = match self.index.binary_search_by_key(&step, |&(s, _)| s) {
            Ok(_) => {
                return Err(Error::DuplicateCheckpoint {
                    level: Level::Ram,
                    step,
                });
            }
            Err(at) => at,
        };
        let slot = self.free.pop().ok_or(Error::StoreFull {
            level: Level::Ram,
            step,
            capacity: self.slots.len() as u64,
        })?;
        Ok((at, slot))
    }

    fn check_size(&self, state: &S) -> Result<(), Error> {
        let found = state.byte_len();
        if found == self.byte_len {
            Ok(())
        } else {
            Err(Error::StateSize {
                expected: self.byte_len as u64,
                found: found as u64,
            })
        }
    }

    fn find(&self, step: u64) -> Result<usize, Error> {
        self.index
            .binary_search_by_key(&step, |&(s, _)| s)
            .map_err(|_| Error::NoCheckpoint {
                level: Level::Ram,
                step,
            })
    }
}

impl<S: State> CheckpointStore<S> for RamStore<S> {
    fn capacity(&self) -> u64 {
        self.slots.len() as u64
    }

    fn len(&self) -> u64 {
        self.index.len() as u64
    }

    fn store(&mut self, step: u64, state: &S) -> Result<(), Error> {
        let (at, slot) = self.claim(step, state)?;
        self.slots[slot].copy_from(state);
        // Capacity was reserved up front: this insert never allocates.
        self.index.insert(at, (step, slot));
        Ok(())
    }

    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.check_size(state)?;
        let i = self.find(step)?;
        state.copy_from(&self.slots[self.index[i].1]);
        Ok(())
    }

    fn take(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.check_size(state)?;
        let i = self.find(step)?;
        let (_, slot) = self.index.remove(i);
        // The caller's buffer (same size) becomes the free slot's buffer.
        std::mem::swap(&mut self.slots[slot], state);
        self.free.push(slot);
        Ok(())
    }

    fn free(&mut self, step: u64) -> Result<(), Error> {
        let i = self.find(step)?;
        let (_, slot) = self.index.remove(i);
        self.free.push(slot);
        Ok(())
    }

    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        let i = self.find(step)?;
        Ok(Some(&self.slots[self.index[i].1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_restore_free_round_trip() {
        let mut st = RamStore::new(3, &vec![0u32; 5]);
        assert_eq!((st.capacity(), st.len(), st.state_bytes()), (3, 0, 20));
        for k in [4u64, 1, 9] {
            st.store(k, &vec![k as u32; 5]).unwrap();
        }
        assert_eq!(st.steps().collect::<Vec<_>>(), [1, 4, 9]);
        let mut out = vec![0u32; 5];
        st.restore(4, &mut out).unwrap();
        assert_eq!(out, [4; 5]);
        assert_eq!(st.len(), 3);
        st.free(4).unwrap();
        assert_eq!(st.len(), 2);
        st.store(7, &vec![7; 5]).unwrap();
        st.restore(9, &mut out).unwrap();
        assert_eq!(out, [9; 5]);
        st.restore(7, &mut out).unwrap();
        assert_eq!(out, [7; 5]);
    }

    #[test]
    fn errors_instead_of_panics() {
        let mut st = RamStore::new(1, &vec![0.0f64; 2]);
        assert!(matches!(
            st.store(0, &vec![1.0; 3]),
            Err(Error::StateSize {
                expected: 16,
                found: 24
            })
        ));
        st.store(0, &vec![1.0; 2]).unwrap();
        assert!(matches!(
            st.store(0, &vec![1.0; 2]),
            Err(Error::DuplicateCheckpoint { step: 0, .. })
        ));
        assert!(matches!(
            st.store(1, &vec![1.0; 2]),
            Err(Error::StoreFull {
                step: 1,
                capacity: 1,
                ..
            })
        ));
        let mut out = vec![0.0; 2];
        assert!(matches!(
            st.restore(5, &mut out),
            Err(Error::NoCheckpoint { step: 5, .. })
        ));
        assert!(matches!(
            st.take(5, &mut out),
            Err(Error::NoCheckpoint { .. })
        ));
        assert!(matches!(st.free(5), Err(Error::NoCheckpoint { .. })));
        assert!(matches!(st.view(5), Err(Error::NoCheckpoint { .. })));
        let mut short = vec![0.0; 1];
        assert!(matches!(
            st.restore(0, &mut short),
            Err(Error::StateSize { .. })
        ));
        assert!(matches!(
            st.take(0, &mut short),
            Err(Error::StateSize { .. })
        ));
        // Failed calls left the checkpoint intact.
        assert_eq!(st.len(), 1);
        assert_eq!(st.view(0).unwrap().unwrap(), &vec![1.0; 2]);
        let mut empty = RamStore::new(0, &vec![0u8; 1]);
        assert!(matches!(
            empty.store(0, &vec![0]),
            Err(Error::StoreFull { capacity: 0, .. })
        ));
    }

    #[test]
    fn take_hands_the_buffer_over() {
        let mut st = RamStore::new(2, &vec![0.0f64; 1000]);
        st.store(3, &vec![3.0; 1000]).unwrap();
        let slot_ptr = st.view(3).unwrap().unwrap().as_ptr();
        let mut mine = vec![-1.0; 1000];
        let my_ptr = mine.as_ptr();
        st.take(3, &mut mine).unwrap();
        assert_eq!(mine.as_ptr(), slot_ptr, "take must swap buffers, not copy");
        assert_eq!(mine, vec![3.0; 1000]);
        assert!(st.is_empty());
        // The caller's old buffer is now the free slot's buffer.
        st.store(5, &vec![5.0; 1000]).unwrap();
        let p = st.view(5).unwrap().unwrap().as_ptr();
        assert!(
            p != slot_ptr,
            "the handed-over buffer is in use by the caller"
        );
        assert_eq!(p, my_ptr, "the caller's old buffer became the slot's");
    }

    #[test]
    fn store_swap_hands_the_callers_buffer_in() {
        let mut st = RamStore::new(2, &vec![0.0f64; 8]);
        let mut u = vec![2.0; 8];
        let p = u.as_ptr();
        st.store_swap(2, &mut u).unwrap();
        assert_eq!(st.view(2).unwrap().unwrap().as_ptr(), p);
        assert_eq!(st.view(2).unwrap().unwrap(), &vec![2.0; 8]);
        assert_ne!(u.as_ptr(), p);
        assert_eq!(u.len(), 8);
        assert!(matches!(
            st.store_swap(2, &mut u),
            Err(Error::DuplicateCheckpoint { .. })
        ));
        st.store_swap(3, &mut u).unwrap();
        assert!(matches!(
            st.store_swap(4, &mut u),
            Err(Error::StoreFull { .. })
        ));
        assert!(matches!(
            st.store_swap(4, &mut vec![0.0; 2]),
            Err(Error::StateSize { .. })
        ));
    }

    #[test]
    fn store_reuses_preallocated_buffers() {
        let mut st = RamStore::new(2, &vec![0.0f64; 64]);
        let mut ptrs = Vec::new();
        for k in 0..10u64 {
            st.store(k, &vec![k as f64; 64]).unwrap();
            ptrs.push(st.view(k).unwrap().unwrap().as_ptr() as usize);
            st.free(k).unwrap();
        }
        ptrs.sort_unstable();
        ptrs.dedup();
        assert_eq!(ptrs.len(), 1, "one slot reused: stores must not allocate");
    }

    #[test]
    fn ndarray_states() {
        let proto = ndarray::Array2::<f64>::zeros((3, 4));
        let mut st = RamStore::new(2, &proto);
        let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        st.store(2, &a).unwrap();
        let mut b = proto.clone();
        st.restore(2, &mut b).unwrap();
        assert_eq!(a, b);
        let mut c = proto.clone();
        st.take(2, &mut c).unwrap();
        assert_eq!(a, c);
        assert!(matches!(
            st.store(0, &ndarray::Array2::<f64>::zeros((2, 2))),
            Err(Error::StateSize { .. })
        ));
    }
}
