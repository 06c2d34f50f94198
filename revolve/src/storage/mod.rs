//! Checkpoint storage: the [`State`] a checkpoint holds and the [`CheckpointStore`] trait.
//!
//! Storage only stores: it knows nothing of schedules. The `Revolver` picks the store for an
//! action's [`Level`](crate::Level).

use crate::Error;

pub mod disk;
pub mod ram;

#[cfg(target_endian = "big")]
compile_error!(
    "revolve writes states to disk as raw little-endian bytes; big-endian targets are not supported"
);

/// A state the `Revolver` can checkpoint: copied in place without allocating, and viewed as raw
/// little-endian bytes for disk storage.
///
/// Implemented for `Vec<T>`, `[T; N]` and `ndarray::Array<T, D>` of plain-old-data elements
/// (`f64`, `f32`, integers, ...) and for those numbers themselves.
pub trait State: Clone + Send + 'static {
    /// Copy `src` into `self`, reusing `self`'s allocation when the sizes agree.
    fn copy_from(&mut self, src: &Self) {
        self.clone_from(src);
    }
    /// Size of the raw representation in bytes.
    fn byte_len(&self) -> usize;
    /// Write the raw bytes into `out`, which holds exactly [`State::byte_len`] bytes.
    fn write_bytes(&self, out: &mut [u8]);
    /// Read the raw bytes of `src` (exactly [`State::byte_len`] bytes) into `self`.
    fn read_bytes(&mut self, src: &[u8]);
}

impl<T: bytemuck::Pod + Send> State for Vec<T> {
    fn byte_len(&self) -> usize {
        std::mem::size_of_val(self.as_slice())
    }
    fn write_bytes(&self, out: &mut [u8]) {
        out.copy_from_slice(bytemuck::cast_slice(self));
    }
    fn read_bytes(&mut self, src: &[u8]) {
        bytemuck::cast_slice_mut::<T, u8>(self).copy_from_slice(src);
    }
}

macro_rules! scalar_state {
    ($($t:ty),*) => {$(
        impl State for $t {
            fn byte_len(&self) -> usize {
                std::mem::size_of::<$t>()
            }
            fn write_bytes(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn read_bytes(&mut self, src: &[u8]) {
                *self = <$t>::from_le_bytes(bytemuck::pod_read_unaligned(src));
            }
        }
    )*};
}
scalar_state!(f64, f32, i64, u64, i32, u32);

impl<T: bytemuck::Pod + Send, const N: usize> State for [T; N] {
    fn byte_len(&self) -> usize {
        std::mem::size_of::<[T; N]>()
    }
    fn write_bytes(&self, out: &mut [u8]) {
        out.copy_from_slice(bytemuck::cast_slice(self.as_slice()));
    }
    fn read_bytes(&mut self, src: &[u8]) {
        bytemuck::cast_slice_mut::<T, u8>(self.as_mut_slice()).copy_from_slice(src);
    }
}

impl<T, D> State for ndarray::Array<T, D>
where
    T: bytemuck::Pod + Send,
    D: ndarray::Dimension + 'static,
{
    fn byte_len(&self) -> usize {
        self.len() * std::mem::size_of::<T>()
    }
    fn write_bytes(&self, out: &mut [u8]) {
        match self.as_slice_memory_order() {
            Some(s) => out.copy_from_slice(bytemuck::cast_slice(s)),
            None => {
                let w = std::mem::size_of::<T>();
                for (chunk, x) in out.chunks_exact_mut(w).zip(self.iter()) {
                    chunk.copy_from_slice(bytemuck::bytes_of(x));
                }
            }
        }
    }
    fn read_bytes(&mut self, src: &[u8]) {
        let w = std::mem::size_of::<T>();
        match self.as_slice_memory_order_mut() {
            Some(s) => bytemuck::cast_slice_mut::<T, u8>(s).copy_from_slice(src),
            None => {
                for (x, chunk) in self.iter_mut().zip(src.chunks_exact(w)) {
                    *x = bytemuck::pod_read_unaligned(chunk);
                }
            }
        }
    }
}

/// Where checkpoints of one level live. Steps identify checkpoints; a store holds at most
/// [`CheckpointStore::capacity`] of them at once.
pub trait CheckpointStore<S: State> {
    /// Slots this store holds.
    fn capacity(&self) -> u64;
    /// Checkpoints held now.
    fn len(&self) -> u64;
    /// `true` when no checkpoint is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Keep a copy of `state` as the checkpoint of `step`.
    fn store(&mut self, step: u64, state: &S) -> Result<(), Error>;
    /// Copy the checkpoint of `step` into `state`; the checkpoint stays.
    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error>;
    /// Restore for the last time and release the checkpoint: a store may hand its buffer over
    /// instead of copying.
    fn take(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.restore(step, state)?;
        self.free(step)
    }
    /// Release the checkpoint of `step`.
    fn free(&mut self, step: u64) -> Result<(), Error>;
    /// A read-only view of the checkpoint of `step` without copying, where the store can give one
    /// (`Ok(None)` otherwise).
    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        let _ = step;
        Ok(None)
    }
    /// Hint that `step` will be restored next: a disk store starts reading it in the background.
    fn prefetch(&mut self, step: u64) -> Result<(), Error> {
        let _ = step;
        Ok(())
    }
    /// Wait for background work and report any deferred error.
    fn sync(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// A boxed store is a store (so a `Box<dyn CheckpointStore<S>>` can be a Revolver's disk level).
impl<S: State, T: CheckpointStore<S> + ?Sized> CheckpointStore<S> for Box<T> {
    fn capacity(&self) -> u64 {
        (**self).capacity()
    }
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn is_empty(&self) -> bool {
        (**self).is_empty()
    }
    fn store(&mut self, step: u64, state: &S) -> Result<(), Error> {
        (**self).store(step, state)
    }
    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        (**self).restore(step, state)
    }
    fn take(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        (**self).take(step, state)
    }
    fn free(&mut self, step: u64) -> Result<(), Error> {
        (**self).free(step)
    }
    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        (**self).view(step)
    }
    fn prefetch(&mut self, step: u64) -> Result<(), Error> {
        (**self).prefetch(step)
    }
    fn sync(&mut self) -> Result<(), Error> {
        (**self).sync()
    }
}

/// The disk level of a Revolver without one: no slot, so a schedule that stores on disk breaks
/// the rule [`Rule::LevelFull`](crate::Rule::LevelFull) before this store is asked anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoDisk;

impl<S: State> CheckpointStore<S> for NoDisk {
    fn capacity(&self) -> u64 {
        0
    }
    fn len(&self) -> u64 {
        0
    }
    fn store(&mut self, step: u64, _: &S) -> Result<(), Error> {
        Err(Error::StoreFull {
            level: crate::Level::Disk,
            step,
            capacity: 0,
        })
    }
    fn restore(&mut self, step: u64, _: &mut S) -> Result<(), Error> {
        Err(Error::NoCheckpoint {
            level: crate::Level::Disk,
            step,
        })
    }
    fn free(&mut self, step: u64) -> Result<(), Error> {
        Err(Error::NoCheckpoint {
            level: crate::Level::Disk,
            step,
        })
    }
}

#[cfg(test)]
mod state_bytes_tests {
    use super::State;

    fn round_trip<S: State + PartialEq + std::fmt::Debug>(x: S, mut y: S, bytes: &[u8]) {
        let mut out = vec![0u8; x.byte_len()];
        x.write_bytes(&mut out);
        assert_eq!(out, bytes);
        y.read_bytes(&out);
        assert_eq!(x, y);
    }

    #[test]
    fn scalars_and_arrays_are_little_endian_bytes() {
        round_trip(1.5f64, 0.0, &1.5f64.to_le_bytes());
        round_trip(-3i64, 0, &(-3i64).to_le_bytes());
        round_trip(7u32, 0, &7u32.to_le_bytes());
        let mut both = 0.25f64.to_le_bytes().to_vec();
        both.extend(2.0f64.to_le_bytes());
        round_trip([0.25f64, 2.0], [0.0; 2], &both);
        round_trip(vec![0.25f64, 2.0], vec![0.0; 2], &both);
    }
}
