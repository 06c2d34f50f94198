//! [`ArrayState`]: a checkpointable state whose memory is a numpy array.
//!
//! Every buffer the Revolver and its RAM store use (working state, slots, spare) is a numpy
//! array owned by Python, so an array handed to a callback stays valid however long Python keeps
//! it; its contents change when the Revolver reuses the buffer. Each buffer also keeps one
//! read-only view of itself, made once, for callbacks that must not write.

use numpy::npyffi::{NPY_ARRAY_WRITEABLE, NPY_ORDER, PY_ARRAY_API, PyArrayObject};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use revolve::State;

/// A C-contiguous numpy array used as a checkpoint buffer.
pub(crate) struct ArrayState {
    array: Py<PyUntypedArray>,
    readonly: Py<PyUntypedArray>,
    ptr: *mut u8,
    len: usize,
}

// SAFETY: `ptr` points into the numpy array held by `array`, which stays alive (and is never
// resized: we hold a reference, so numpy's `resize` refuses) as long as this value. The bytes are
// only touched by the thread that holds the state, as for a `Vec<u8>`.
unsafe impl Send for ArrayState {}

impl ArrayState {
    /// Wrap `array` (C-contiguous, aligned, writeable) without copying.
    pub(crate) fn wrap(array: &Bound<'_, PyUntypedArray>) -> PyResult<Self> {
        let flags = unsafe { (*array.as_array_ptr()).fields.flags };
        let need = numpy::npyffi::NPY_ARRAY_CARRAY;
        if flags & need != need {
            return Err(PyValueError::new_err(
                "the state must be a C-contiguous, aligned, writeable numpy array \
                 (numpy.ascontiguousarray gives one)",
            ));
        }
        if array.dtype().has_object() {
            return Err(PyValueError::new_err(
                "the state's dtype holds Python objects; only plain numeric data can be checkpointed",
            ));
        }
        let py = array.py();
        let view = unsafe {
            let raw = PY_ARRAY_API.PyArray_View(
                py,
                array.as_array_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            Bound::from_owned_ptr_or_err(py, raw)?
        };
        unsafe { (*(view.as_ptr() as *mut PyArrayObject)).fields.flags &= !NPY_ARRAY_WRITEABLE };
        let readonly = view.cast_into::<PyUntypedArray>()?.unbind();
        let (ptr, len) = unsafe {
            let a = &*array.as_array_ptr();
            (
                a.fields.data as *mut u8,
                array.len() * array.dtype().itemsize(),
            )
        };
        Ok(ArrayState {
            array: array.clone().unbind(),
            readonly,
            ptr,
            len,
        })
    }

    /// A new C-ordered array like `self` (contents unspecified).
    pub(crate) fn empty_like(&self, py: Python<'_>) -> PyResult<Self> {
        let raw = unsafe {
            PY_ARRAY_API.PyArray_NewLikeArray(
                py,
                self.array.as_ptr() as *mut PyArrayObject,
                NPY_ORDER::NPY_CORDER,
                std::ptr::null_mut(),
                0,
            )
        };
        let new = unsafe { Bound::from_owned_ptr_or_err(py, raw) }
            .map_err(|_| PyMemoryError::new_err("cannot allocate a checkpoint buffer"))?;
        Self::wrap(new.cast::<PyUntypedArray>()?)
    }

    /// The writeable array.
    pub(crate) fn array<'py>(&self, py: Python<'py>) -> &Bound<'py, PyUntypedArray> {
        self.array.bind(py)
    }

    /// The read-only view of the array.
    pub(crate) fn readonly<'py>(&self, py: Python<'py>) -> &Bound<'py, PyUntypedArray> {
        self.readonly.bind(py)
    }

    /// The raw bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: see `unsafe impl Send`; `len` bytes from `ptr` belong to the array.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The raw bytes, writeable.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `bytes`; `&mut self` makes this the only Rust access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Clone for ArrayState {
    /// A new buffer of the same shape and dtype with the same contents. Panics (a Python
    /// `PanicException`) only if numpy cannot allocate it.
    fn clone(&self) -> Self {
        Python::attach(|py| {
            let mut new = self
                .empty_like(py)
                .expect("numpy could not allocate a checkpoint buffer");
            new.bytes_mut().copy_from_slice(self.bytes());
            new
        })
    }
}

impl State for ArrayState {
    fn copy_from(&mut self, src: &Self) {
        if self.ptr != src.ptr {
            self.bytes_mut().copy_from_slice(src.bytes());
        }
    }
    fn byte_len(&self) -> usize {
        self.len
    }
    fn write_bytes(&self, out: &mut [u8]) {
        out.copy_from_slice(self.bytes());
    }
    fn read_bytes(&mut self, src: &[u8]) {
        self.bytes_mut().copy_from_slice(src);
    }
}
