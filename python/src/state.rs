//! [`ArrayState`]: a checkpointable state whose memory is a numpy array that only Rust holds.
//!
//! Every buffer the Revolver and its stores use (working state, slots, spare) owns its bytes in
//! a private numpy array, never handed to Python. Python gets two views of it, made once: a
//! writeable one for the callbacks that write the state, and a read-only one for those that must
//! not (checkpoints). Neither view owns its data, so numpy refuses to resize it, and both have as
//! `base` a [`Memory`] object that exposes no buffer, so numpy refuses to make either writeable
//! again (`flags.writeable = True`, `setflags(write=True)`, views of views). The views stay valid
//! however long Python keeps them; their contents change when the Revolver reuses the buffer.
//!
//! [`read_array`] and [`write_array`] copy the bytes of the user's own arrays.

use numpy::npyffi::{
    NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_CARRAY, NPY_ARRAY_CARRAY_RO, NPY_ORDER, NpyTypes,
    PY_ARRAY_API, PyArrayObject, get_type_object, npy_intp,
};
use numpy::{PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use revolve::State;
use std::os::raw::c_int;

/// The `base` of every view of a buffer: it keeps the buffer's owning array alive and exposes
/// neither that array nor a buffer, so no view of it can be made writeable or resized.
#[pyclass(module = "retrace._retrace", name = "CheckpointMemory", frozen)]
pub(crate) struct Memory {
    /// The numpy array that owns the bytes (C-contiguous, aligned); only Rust holds it.
    owner: Py<PyUntypedArray>,
}

/// A C-contiguous buffer used as a checkpoint or working state.
pub(crate) struct ArrayState {
    /// Keeps the owning array alive, whatever Python does with the views.
    memory: Py<Memory>,
    /// The writeable view given to callbacks that write the state.
    array: Py<PyUntypedArray>,
    /// The read-only view given to callbacks that read a checkpoint.
    readonly: Py<PyUntypedArray>,
    ptr: *mut u8,
    len: usize,
}

// SAFETY: `ptr` and `len` are the data of `memory.owner`, a numpy array that owns its bytes, is
// created here and is never handed to Python: Python holds only views that do not own their
// data (numpy's `resize` refuses them; `__setstate__` on a view repoints that view, not the
// owner) and whose `base`, a `Memory`, exposes neither the owner nor a buffer. So the bytes
// stay allocated, in place and of this size while `memory` lives, which is at least as long
// as this value, on whatever thread it is. Rust touches them only through `&self`/`&mut self`,
// as a `Vec<u8>`; Python writes them only through the views while a callback runs, and the
// Revolver (holding the GIL) runs no Rust access meanwhile. A Python thread writing a view it
// kept while a run goes on gives torn values, as with any numpy array shared between threads.
unsafe impl Send for ArrayState {}

/// Check that `array` can be a state: C-contiguous, aligned, writeable, plain data.
pub(crate) fn check_state_array(array: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
    if !has_flags(array, NPY_ARRAY_CARRAY) {
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
    Ok(())
}

/// Whether `array` has all of `flags`.
fn has_flags(array: &Bound<'_, PyUntypedArray>, flags: c_int) -> bool {
    // SAFETY: `as_array_ptr` points to a live array (borrowed for this call); reading its flags
    // field is what numpy's `PyArray_FLAGS` does.
    let have = unsafe { (*array.as_array_ptr()).fields.flags };
    have & flags == flags
}

/// The bytes `array` holds.
pub(crate) fn nbytes(array: &Bound<'_, PyUntypedArray>) -> usize {
    array.len() * array.dtype().itemsize()
}

/// Where the bytes of `array` are, if it is C-contiguous and aligned (and writeable if `write`).
fn contiguous(array: &Bound<'_, PyUntypedArray>, write: bool) -> Option<*mut u8> {
    let need = if write {
        NPY_ARRAY_CARRAY
    } else {
        NPY_ARRAY_CARRAY_RO
    };
    if !has_flags(array, need) {
        return None;
    }
    // SAFETY: as in `has_flags`, reading the data field of a live array.
    Some(unsafe { (*array.as_array_ptr()).fields.data } as *mut u8)
}

/// Copy the bytes of a user's C-contiguous, aligned array to `out` (exactly its size); `false`
/// (nothing copied) for other arrays.
pub(crate) fn read_array(array: &Bound<'_, PyUntypedArray>, out: &mut [u8]) -> bool {
    let Some(ptr) = contiguous(array, false) else {
        return false;
    };
    // SAFETY: a C-contiguous array's `nbytes` bytes from its data pointer belong to it, and it is
    // alive while borrowed; the GIL is held and no Python code runs during the copy; `out` is
    // our own buffer, so the two do not overlap (our buffers' views cannot be resized onto it).
    out.copy_from_slice(unsafe { std::slice::from_raw_parts(ptr, nbytes(array)) });
    true
}

/// Copy `src` (exactly its size) into a user's C-contiguous, aligned, writeable array; `false`
/// (nothing copied) for other arrays.
pub(crate) fn write_array(array: &Bound<'_, PyUntypedArray>, src: &[u8]) -> bool {
    let Some(ptr) = contiguous(array, true) else {
        return false;
    };
    // SAFETY: as in `read_array`; the array is writeable (its flags say so, and numpy never
    // lets a view of read-only memory such as our `Memory` become writeable).
    unsafe { std::slice::from_raw_parts_mut(ptr, nbytes(array)) }.copy_from_slice(src);
    true
}

impl ArrayState {
    /// A new buffer with the shape and dtype of the user's `array` (contents unspecified).
    /// `array` must be C-contiguous, aligned, writeable and hold no Python objects.
    pub(crate) fn new_like(array: &Bound<'_, PyUntypedArray>) -> PyResult<Self> {
        check_state_array(array)?;
        Self::alloc_like(array)
    }

    /// A new buffer of `nbytes` bytes (zeroed).
    pub(crate) fn zeros(py: Python<'_>, nbytes: usize) -> PyResult<Self> {
        let proto = numpy::PyArray1::<u8>::zeros(py, nbytes, false);
        Self::alloc_like(proto.as_untyped())
    }

    /// A new buffer like `self` (contents unspecified).
    pub(crate) fn empty_like(&self, py: Python<'_>) -> PyResult<Self> {
        Self::alloc_like(self.memory.get().owner.bind(py))
    }

    /// A new owning array like the C-contiguous `proto`, and its views.
    fn alloc_like(proto: &Bound<'_, PyUntypedArray>) -> PyResult<Self> {
        let py = proto.py();
        // SAFETY: `proto` is a live array; NewLikeArray borrows it and returns a new reference
        // (or null with an exception set, which `from_owned_ptr_or_err` turns into an error).
        let owner = unsafe {
            let raw = PY_ARRAY_API.PyArray_NewLikeArray(
                py,
                proto.as_array_ptr(),
                NPY_ORDER::NPY_CORDER,
                std::ptr::null_mut(),
                0,
            );
            Bound::from_owned_ptr_or_err(py, raw)
        }
        .map_err(|_| PyMemoryError::new_err("cannot allocate a checkpoint buffer"))?;
        let owner = owner.cast_into::<PyUntypedArray>()?;
        let Some(ptr) = contiguous(&owner, true) else {
            return Err(PyValueError::new_err("numpy gave a non-contiguous buffer"));
        };
        let len = nbytes(&owner);
        let memory = Bound::new(
            py,
            Memory {
                owner: owner.clone().unbind(),
            },
        )?;
        let array = view(&owner, &memory, true)?.unbind();
        let readonly = view(&owner, &memory, false)?.unbind();
        Ok(ArrayState {
            memory: memory.unbind(),
            array,
            readonly,
            ptr,
            len,
        })
    }

    /// The writeable view, checked to show this buffer still (see [`ArrayState::check_views`]).
    pub(crate) fn array<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyUntypedArray>> {
        self.intact(self.array.bind(py))
    }

    /// The read-only view, checked to show this buffer still.
    pub(crate) fn readonly<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyUntypedArray>> {
        self.intact(self.readonly.bind(py))
    }

    /// Check that Python code left both views showing this buffer as made: numpy lets Python
    /// repoint a view (`ndarray.__setstate__`) or change its shape, dtype or strides in place,
    /// and a callback given the view again would then read or write the wrong thing.
    pub(crate) fn check_views(&self, py: Python<'_>) -> PyResult<()> {
        self.intact(self.array.bind(py))?;
        self.intact(self.readonly.bind(py))?;
        Ok(())
    }

    fn intact<'a, 'py>(
        &self,
        view: &'a Bound<'py, PyUntypedArray>,
    ) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
        let py = view.py();
        let owner = self.memory.get().owner.bind(py);
        // SAFETY: both are live arrays (held by `self`); reading their fields is what numpy's
        // `PyArray_DATA`, `PyArray_BASE`, `PyArray_DESCR` and `PyArray_FLAGS` do.
        let (v, o) = unsafe {
            (
                &(*view.as_array_ptr()).fields,
                &(*owner.as_array_ptr()).fields,
            )
        };
        let same = v.data == o.data
            && v.base == self.memory.as_ptr()
            && v.descr == o.descr
            && v.flags & NPY_ARRAY_C_CONTIGUOUS != 0
            && view.shape() == owner.shape();
        if !same {
            return Err(PyValueError::new_err(
                "a callback changed an array the Revolver gave it in place (its data, shape, \
                 dtype or strides: ndarray.__setstate__, .shape = ..., .dtype = ...); \
                 reshape or view a copy instead",
            ));
        }
        Ok(view)
    }

    /// The raw bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes from `ptr` belong to the owner, kept alive and in place by
        // `memory` (see `unsafe impl Send`); no Python code runs while Rust borrows them.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The raw bytes, writeable.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `bytes`; `&mut self` makes this the only Rust access, and each buffer has
        // its own owner, so no other `ArrayState` aliases these bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// A view of the whole of `owner` (C-contiguous) with `memory` as its `base`: writeable or not,
/// never owning its data.
fn view<'py>(
    owner: &Bound<'py, PyUntypedArray>,
    memory: &Bound<'py, Memory>,
    writeable: bool,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = owner.py();
    let mut dims: Vec<npy_intp> = owner.shape().iter().map(|&d| d as npy_intp).collect();
    let nd = c_int::try_from(dims.len()).map_err(|_| PyValueError::new_err("too many axes"))?;
    let flags = if writeable {
        NPY_ARRAY_CARRAY
    } else {
        NPY_ARRAY_CARRAY_RO
    };
    // SAFETY: NewFromDescr steals the new descr reference `into_ptr` gives, even on failure;
    // `dims` holds `nd` extents and null strides mean C order, which is the owner's layout, so
    // the view covers exactly the owner's bytes at its data pointer. With a data pointer given
    // the array does not own the data (no OWNDATA flag).
    let view = unsafe {
        let raw = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            get_type_object(py, NpyTypes::PyArray_Type),
            owner.dtype().into_ptr().cast(),
            nd,
            dims.as_mut_ptr(),
            std::ptr::null_mut(),
            (*owner.as_array_ptr()).fields.data.cast(),
            flags,
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, raw)?
    };
    // SAFETY: `view` is the array just made, with no base yet; SetBaseObject steals the new
    // reference to `memory` (also on failure), so the view keeps the owner alive.
    let r = unsafe {
        PY_ARRAY_API.PyArray_SetBaseObject(
            py,
            view.as_ptr().cast::<PyArrayObject>(),
            memory.clone().into_ptr(),
        )
    };
    if r != 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(view.cast_into::<PyUntypedArray>()?)
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
