//! States as n-d numeric arrays ([`ArrayState`]): what the Zarr outputs (transition paths,
//! ensemble output) write for a model's state.

/// The element type of an [`ArrayState`] (the Zarr `data_type` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
}

impl DType {
    /// The Zarr (and numpy) name: `float64`, `int64`, ...
    pub fn name(self) -> &'static str {
        match self {
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// Whether it is a floating-point type (padding is NaN; else 0).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

/// A number an [`ArrayState`] is made of.
pub trait Element: bytemuck::Pod + Send + Sync {
    /// Its type.
    const DTYPE: DType;
}

macro_rules! element {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
        }
    )*};
}
element!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32,
    u64 => U64, f32 => F32, f64 => F64);

/// A state written as an n-d numeric array: element type, shape, and its elements in C order
/// as bytes in the machine's byte order. Writing and reading allocate nothing.
///
/// Implemented for the numeric scalars (shape `[]`), `[T; N]` (`[N]`), `Vec<T>` (`[len]`) and
/// `ndarray::Array<T, D>` (its shape), so for every built-in model's state.
///
/// ```
/// use sampler::{ArrayState, DType};
/// let x = [1.0f64, 2.0];
/// assert_eq!((x.dtype(), x.shape()), (DType::F64, vec![2]));
/// let mut out = [0u8; 16];
/// x.write_elements(&mut out);
/// let mut y = [0.0f64; 2];
/// y.read_elements(&out);
/// assert_eq!(x, y);
/// ```
pub trait ArrayState {
    /// The element type.
    fn dtype(&self) -> DType;
    /// The array's shape (`[]` for a scalar).
    fn shape(&self) -> Vec<usize>;
    /// Number of elements (the product of the shape).
    fn elements(&self) -> usize;
    /// Write the elements in C order into `out` (exactly `elements() * dtype().size()` bytes,
    /// native byte order).
    fn write_elements(&self, out: &mut [u8]);
    /// Set the elements from `src` (as [`ArrayState::write_elements`] writes them) without
    /// changing the shape.
    fn read_elements(&mut self, src: &[u8]);
}

macro_rules! scalar_array_state {
    ($($t:ty),*) => {$(
        impl ArrayState for $t {
            fn dtype(&self) -> DType {
                <$t as Element>::DTYPE
            }
            fn shape(&self) -> Vec<usize> {
                Vec::new()
            }
            fn elements(&self) -> usize {
                1
            }
            fn write_elements(&self, out: &mut [u8]) {
                out.copy_from_slice(bytemuck::bytes_of(self));
            }
            fn read_elements(&mut self, src: &[u8]) {
                *self = bytemuck::pod_read_unaligned(src);
            }
        }
    )*};
}
scalar_array_state!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

fn write_slice<T: Element>(xs: &[T], out: &mut [u8]) {
    out.copy_from_slice(bytemuck::cast_slice(xs));
}

fn read_slice<T: Element>(xs: &mut [T], src: &[u8]) {
    bytemuck::cast_slice_mut::<T, u8>(xs).copy_from_slice(src);
}

impl<T: Element, const N: usize> ArrayState for [T; N] {
    fn dtype(&self) -> DType {
        T::DTYPE
    }
    fn shape(&self) -> Vec<usize> {
        vec![N]
    }
    fn elements(&self) -> usize {
        N
    }
    fn write_elements(&self, out: &mut [u8]) {
        write_slice(self, out);
    }
    fn read_elements(&mut self, src: &[u8]) {
        read_slice(self, src);
    }
}

impl<T: Element> ArrayState for Vec<T> {
    fn dtype(&self) -> DType {
        T::DTYPE
    }
    fn shape(&self) -> Vec<usize> {
        vec![self.len()]
    }
    fn elements(&self) -> usize {
        self.len()
    }
    fn write_elements(&self, out: &mut [u8]) {
        write_slice(self, out);
    }
    fn read_elements(&mut self, src: &[u8]) {
        read_slice(self, src);
    }
}

impl<T: Element, D: ndarray::Dimension> ArrayState for ndarray::Array<T, D> {
    fn dtype(&self) -> DType {
        T::DTYPE
    }
    fn shape(&self) -> Vec<usize> {
        ndarray::ArrayBase::shape(self).to_vec()
    }
    fn elements(&self) -> usize {
        self.len()
    }
    fn write_elements(&self, out: &mut [u8]) {
        match self.as_slice() {
            Some(s) => write_slice(s, out),
            None => {
                let w = std::mem::size_of::<T>();
                for (chunk, x) in out.chunks_exact_mut(w).zip(self.iter()) {
                    chunk.copy_from_slice(bytemuck::bytes_of(x));
                }
            }
        }
    }
    fn read_elements(&mut self, src: &[u8]) {
        let w = std::mem::size_of::<T>();
        match self.as_slice_mut() {
            Some(s) => read_slice(s, src),
            None => {
                for (x, chunk) in self.iter_mut().zip(src.chunks_exact(w)) {
                    *x = bytemuck::pod_read_unaligned(chunk);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<S: ArrayState + Clone + PartialEq + std::fmt::Debug>(x: S, blank: S) {
        let mut out = vec![0u8; x.elements() * x.dtype().size()];
        x.write_elements(&mut out);
        let mut y = blank;
        y.read_elements(&out);
        assert_eq!(x, y);
    }

    #[test]
    fn shapes_dtypes_and_round_trips() {
        assert_eq!((7i64.dtype(), 7i64.shape()), (DType::I64, vec![]));
        round_trip(-3i64, 0);
        round_trip(2.5f32, 0.0);
        round_trip([1u32, 2, 3], [0; 3]);
        round_trip(vec![1.0f64, -2.0], vec![0.0; 2]);
        let a = ndarray::Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f64);
        assert_eq!(a.shape(), vec![2, 3]);
        round_trip(a.clone(), ndarray::Array2::zeros((2, 3)));
        // A transposed (Fortran-order) array is written in C order of its logical shape.
        let t = a.t().to_owned();
        let f = a.clone().reversed_axes();
        let mut bt = vec![0u8; 48];
        let mut bf = vec![0u8; 48];
        t.write_elements(&mut bt);
        f.write_elements(&mut bf);
        assert_eq!(bt, bf);
        let first: f64 = bytemuck::pod_read_unaligned(&bf[8..16]);
        assert_eq!(first, 10.0); // element [0, 1] of the 3 x 2 transpose
        use ndarray::ShapeBuilder;
        let mut back = ndarray::Array2::<f64>::zeros((3, 2).f());
        back.read_elements(&bf);
        assert_eq!(back, t);
    }
}
