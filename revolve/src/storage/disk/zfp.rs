//! The zfp codec (feature `zfp`): a state read as a 1-D array of little-endian `f64`, compressed
//! by zfp 1.0 (its bundled C sources, through `zfp-sys-cc`) in fixed-accuracy mode, so every
//! value comes back within `2^minexp` in absolute terms. Every compressed state is decompressed
//! again and checked value by value before it is kept (zfp's bound can fail where the tolerance
//! is below the values' own precision; such a state is stored raw), so the bound holds for
//! every checkpoint written. The compressed stream is stored as little-endian 64-bit words, so
//! files move between machines of either byte order.
//!
//! One [`Zfp`] per thread holds zfp's stream and field, the `f64` values and the word buffer,
//! allocated at its first checkpoint and reused (grown only for a larger state) after.

use super::codec::pow2;
use std::ptr::null_mut;
use zfp_sys_cc as z;

/// zfp's stream, field and bit stream over an owned word buffer; see the [module docs](self).
pub(super) struct Zfp {
    stream: *mut z::zfp_stream,
    field: *mut z::zfp_field,
    /// The bit stream over `words` (null until the first checkpoint).
    bits: *mut z::bitstream,
    /// The buffer (pointer, bytes) `bits` was opened on.
    bound: (*const u64, usize),
    words: Vec<u64>,
    /// The state's values (compressed from, or decompressed into).
    values: Vec<f64>,
    /// The values decompressed again after compressing, to check the bound.
    check: Vec<f64>,
}

// SAFETY: the zfp objects are owned by this value alone (never shared or aliased elsewhere) and
// zfp keeps no thread-local state, so moving them to another thread is sound.
unsafe impl Send for Zfp {}
// SAFETY: every method that touches the zfp objects takes `&mut self`; a shared `&Zfp` reaches
// nothing.
unsafe impl Sync for Zfp {}

fn floats(src: &[u8], out: &mut Vec<f64>) {
    out.clear();
    out.extend(
        src.chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
    );
}

impl Zfp {
    /// A zfp stream and field for `f64` values.
    pub(super) fn new() -> std::io::Result<Zfp> {
        // SAFETY: these allocate; a null result is checked below (and freed by `drop`).
        let (stream, field) = unsafe { (z::zfp_stream_open(null_mut()), z::zfp_field_alloc()) };
        let me = Zfp {
            stream,
            field,
            bits: null_mut(),
            bound: (std::ptr::null(), 0),
            words: Vec::new(),
            values: Vec::new(),
            check: Vec::new(),
        };
        if stream.is_null() || field.is_null() {
            return Err(std::io::Error::other("zfp could not allocate its stream"));
        }
        // SAFETY: `field` is a live field allocated above.
        unsafe { z::zfp_field_set_type(field, z::zfp_type_zfp_type_double) };
        Ok(me)
    }

    /// Set accuracy `2^minexp` for `n` values, make room for the largest stream they can give
    /// and bind the bit stream to it: the largest stream's bytes.
    fn prepare(&mut self, minexp: i16, n: usize) -> Result<usize, String> {
        // SAFETY: `stream` and `field` are live (from `new`, freed in `drop`).
        let max = unsafe {
            let ok = z::zfp_stream_set_params(
                self.stream,
                z::ZFP_MIN_BITS,
                z::ZFP_MAX_BITS,
                z::ZFP_MAX_PREC,
                i32::from(minexp),
            );
            if ok == 0 {
                return Err(format!("zfp refuses the accuracy exponent {minexp}"));
            }
            z::zfp_field_set_size_1d(self.field, n);
            z::zfp_stream_maximum_size(self.stream, self.field)
        };
        // zfp's largest stream for these values, and a quarter more: a damaged stream (one
        // that passed the checksum) is decoded within the buffer too, its group tests costing
        // at most 64 more bits per 4-value block than the 270 the bound counts.
        let need = max.div_ceil(8) / 4 * 5 + 8;
        if self.words.len() < need {
            self.words.resize(need, 0);
        }
        let bound = (self.words.as_ptr(), self.words.len() * 8);
        if self.bits.is_null() || self.bound != bound {
            // SAFETY: `bits` (when not null) was opened here and is replaced below; the new bit
            // stream covers exactly `words`, which lives as long as it and only grows here,
            // where the stream is reopened.
            unsafe {
                if !self.bits.is_null() {
                    z::stream_close(self.bits);
                }
                self.bits = z::stream_open(self.words.as_mut_ptr().cast(), bound.1);
            }
            if self.bits.is_null() {
                return Err("zfp could not allocate its bit stream".into());
            }
            self.bound = bound;
            // SAFETY: both live.
            unsafe { z::zfp_stream_set_bit_stream(self.stream, self.bits) };
        }
        Ok(max)
    }

    /// Compress `values` into the bit stream (rewound first): the bytes written (0: failed).
    fn compress(&mut self) -> usize {
        // SAFETY: `prepare` sized the field for `values` (which is not touched while zfp reads
        // it) and bound a bit stream with room for zfp's largest stream of this field.
        unsafe {
            z::zfp_field_set_pointer(self.field, self.values.as_mut_ptr().cast());
            z::zfp_stream_rewind(self.stream);
            z::zfp_compress(self.stream, self.field)
        }
    }

    /// Decompress the bit stream (rewound first) into `values` (`into_check`: into `check`),
    /// sized by `prepare`'s count: the bytes read.
    fn decompress(&mut self, into_check: bool) -> usize {
        let out = if into_check {
            &mut self.check
        } else {
            &mut self.values
        };
        // SAFETY: `prepare` sized the field for `out`'s length and bound a bit stream spanning
        // all of `words` (zfp's largest stream for this field and a quarter more), so even
        // damaged input reads no byte outside it and writes only the field's values.
        unsafe {
            z::zfp_field_set_pointer(self.field, out.as_mut_ptr().cast());
            z::zfp_stream_rewind(self.stream);
            z::zfp_decompress(self.stream, self.field)
        }
    }

    /// Compress `src` (little-endian `f64` values) with accuracy `2^minexp` into `dst`: the
    /// bytes written, or `None` when it must be stored raw: not whole values, a value that is
    /// not finite, no gain, or a value zfp does not restore within `2^minexp` (every value is
    /// decompressed again and checked; zfp's bound can fail for a tolerance below the values'
    /// own precision).
    pub(super) fn encode(
        &mut self,
        minexp: i16,
        src: &[u8],
        dst: &mut [u8],
    ) -> std::io::Result<Option<usize>> {
        if src.is_empty() || !src.len().is_multiple_of(8) {
            return Ok(None);
        }
        floats(src, &mut self.values);
        if !self.values.iter().all(|v| v.is_finite()) {
            return Ok(None);
        }
        let n = self.values.len();
        self.prepare(minexp, n).map_err(std::io::Error::other)?;
        let size = self.compress();
        if size == 0 {
            return Err(std::io::Error::other("zfp compression failed"));
        }
        if size >= src.len() || size > dst.len() {
            return Ok(None);
        }
        self.check.resize(n, 0.0);
        let tol = pow2(minexp);
        if self.decompress(true) != size
            || self
                .check
                .iter()
                .zip(&self.values)
                .any(|(c, v)| (c - v).abs() > tol)
        {
            return Ok(None);
        }
        for (d, w) in dst[..size].chunks_mut(8).zip(&self.words) {
            d.copy_from_slice(&w.to_le_bytes()[..d.len()]);
        }
        Ok(Some(size))
    }

    /// Decode `src` (written by [`encode`](Self::encode) with `minexp`) into `dst` (little-endian
    /// `f64` values), which must come out exactly full.
    pub(super) fn decode(&mut self, minexp: i16, src: &[u8], dst: &mut [u8]) -> Result<(), String> {
        if !dst.len().is_multiple_of(8) || !src.len().is_multiple_of(8) {
            return Err(format!(
                "zfp payload of {} bytes for a state of {} bytes: not whole 8-byte words and \
                 values",
                src.len(),
                dst.len()
            ));
        }
        let n = dst.len() / 8;
        self.values.clear();
        self.values.resize(n, 0.0);
        let max = self.prepare(minexp, n)?;
        if src.len() > max {
            return Err(format!(
                "zfp payload of {} bytes, at most {max} for this state",
                src.len()
            ));
        }
        for (w, s) in self.words.iter_mut().zip(src.chunks_exact(8)) {
            *w = u64::from_le_bytes(s.try_into().expect("8 bytes"));
        }
        let used = self.decompress(false);
        if used != src.len() {
            return Err(format!(
                "zfp payload decodes from {used} bytes, {} were stored",
                src.len()
            ));
        }
        for (d, v) in dst.chunks_exact_mut(8).zip(&self.values) {
            d.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

impl Drop for Zfp {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or was allocated by zfp in `new`/`prepare` and is freed
        // exactly once, here.
        unsafe {
            if !self.bits.is_null() {
                z::stream_close(self.bits);
            }
            if !self.stream.is_null() {
                z::zfp_stream_close(self.stream);
            }
            if !self.field.is_null() {
                z::zfp_field_free(self.field);
            }
        }
    }
}
