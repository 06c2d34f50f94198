//! Single checkpoint files in the format of [`DiskStore`](super::DiskStore)'s slot files: a
//! header (magic, version, step, length, codec, CRC-32 of header and stored payload) and the
//! state's raw little-endian bytes, or those compressed by a [`Codec`]
//! ([`write_checkpoint_coded`]; readers need no option). For spilling checkpoints that outlive a
//! store (the sampler's trajectories); every read checks everything and names the file when a
//! check fails.
//!
//! ```
//! use revolve::storage::disk::checkpoint_file::{read_checkpoint, verify_checkpoint, write_checkpoint};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("traj-3.ckpt");
//! write_checkpoint(&path, 120, &vec![1.5f64, 2.5])?;
//! assert_eq!(verify_checkpoint(&path)?.step, 120);
//! let mut x = vec![0.0f64; 2];
//! assert_eq!(read_checkpoint(&path, &mut x)?, 120);
//! assert_eq!(x, [1.5, 2.5]);
//! # Ok::<(), revolve::Error>(())
//! ```

use super::codec::{Codec, CodecBuf};
use super::header::{HEADER_LEN, Header, PAYLOAD_OFFSET, Room, Wire};
use super::slot::{corrupt, io_error};
use crate::{Error, State};
use memmap2::Mmap;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a verified checkpoint file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// The step of the checkpoint.
    pub step: u64,
    /// Bytes of the state.
    pub payload_len: u64,
    /// Bytes stored in the file after the header (`payload_len` unless compressed).
    pub stored_len: u64,
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Write `state` as the checkpoint of `step` to `path`, replacing it atomically (the bytes go
/// to `path.partial` first, renamed when complete; the partial file is removed on failure).
/// Allocates one state-sized buffer; see [`write_checkpoint_with`] to reuse one.
pub fn write_checkpoint<S: State>(path: &Path, step: u64, state: &S) -> Result<(), Error> {
    write_checkpoint_with(path, step, state, &mut Vec::new())
}

/// [`write_checkpoint`] staging the bytes in `scratch`, which is resized as needed and can be
/// reused so repeated writes allocate nothing.
pub fn write_checkpoint_with<S: State>(
    path: &Path,
    step: u64,
    state: &S,
    scratch: &mut Vec<u8>,
) -> Result<(), Error> {
    let len = state.byte_len();
    scratch.clear();
    scratch.resize(len, 0);
    state.write_bytes(scratch);
    let header = Header::raw(step, len as u64, crc32fast::hash(scratch), true);
    write_file(path, &header, scratch)
}

/// [`write_checkpoint`] through `codec` (the codec is recorded in the header; readers need no
/// option). Allocates the codec's scratch (about two states) per call. `Error::Usage` for a
/// codec [`Codec::check`] refuses, or a zfp codec and a state whose byte length is not a
/// multiple of 8 ([`Codec::check_state_len`]).
///
/// ```
/// use revolve::storage::disk::Codec;
/// use revolve::storage::disk::checkpoint_file::{read_checkpoint, verify_checkpoint, write_checkpoint_coded};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("smooth.ckpt");
/// let x: Vec<f64> = (0..10_000).map(|i| (i as f64 * 1e-3).sin()).collect();
/// write_checkpoint_coded(&path, 5, &x, Codec::zstd())?;
/// let info = verify_checkpoint(&path)?;
/// assert!(info.stored_len < info.payload_len);
/// let mut y = vec![0.0; x.len()];
/// read_checkpoint(&path, &mut y)?;
/// assert_eq!(x, y); // lossless
/// # Ok::<(), revolve::Error>(())
/// ```
pub fn write_checkpoint_coded<S: State>(
    path: &Path,
    step: u64,
    state: &S,
    codec: Codec,
) -> Result<(), Error> {
    codec.check()?;
    let len = state.byte_len();
    codec.check_state_len(len)?;
    let mut buf = CodecBuf::default();
    let mut raw = vec![0u8; len];
    state.write_bytes(&mut raw);
    let mut stored = vec![0u8; len];
    let (wire, n) = buf
        .encode(codec, &raw, &mut stored)
        .map_err(|e| io_error(path, e))?;
    let header = Header {
        codec: wire,
        stored_len: n as u64,
        ..Header::raw(step, len as u64, crc32fast::hash(&stored[..n]), true)
    };
    write_file(path, &header, &stored[..n])
}

/// Write `header` and `payload` to `path` atomically (through `path.partial`).
fn write_file(path: &Path, header: &Header, payload: &[u8]) -> Result<(), Error> {
    let mut head = [0u8; PAYLOAD_OFFSET as usize];
    header.encode(&mut head);
    let tmp = partial_path(path);
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(&head)?;
        f.write_all(payload)?;
        f.flush()
    });
    let done = written
        .map_err(|e| io_error(&tmp, e))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| io_error(path, e)));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Map `path` read-only after checking its header and length against the file; `f` gets the
/// decoded header and the payload bytes.
fn with_payload<T>(
    path: &Path,
    expected_len: Option<u64>,
    f: impl FnOnce(&Header, &[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let file_len = file.metadata().map_err(|e| io_error(path, e))?.len();
    if file_len < HEADER_LEN as u64 {
        return Err(corrupt(
            path,
            format!("truncated: {file_len} bytes, shorter than the {HEADER_LEN}-byte header"),
        ));
    }
    // SAFETY: mapped read-only; the length was checked against the header below before any
    // payload byte is read. A file truncated by another process while mapped could still fault.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| io_error(path, e))?;
    let header = Header::decode(&map[..HEADER_LEN]).map_err(|r| corrupt(path, r))?;
    header
        .check(map.len() as u64, None, expected_len, Room::Exact)
        .map_err(|r| corrupt(path, r))?;
    let payload = &map[PAYLOAD_OFFSET as usize..];
    let crc = crc32fast::hash(payload);
    if crc != header.payload_crc {
        return Err(corrupt(
            path,
            format!(
                "payload checksum mismatch (stored {:08x}, computed {crc:08x})",
                header.payload_crc
            ),
        ));
    }
    f(&header, payload)
}

/// Read the checkpoint in `path` into `state` (whose size must match) and return its step; a
/// compressed one is decoded (allocating the codec's scratch). A zfp checkpoint read by a build
/// without the `zfp` feature is an [`Error::MissingFeature`] naming the file.
pub fn read_checkpoint<S: State>(path: &Path, state: &mut S) -> Result<u64, Error> {
    with_payload(path, Some(state.byte_len() as u64), |h, payload| {
        if h.codec == Wire::RAW {
            state.read_bytes(payload);
        } else {
            let mut raw = vec![0u8; h.payload_len as usize];
            CodecBuf::default()
                .decode(h.codec, payload, &mut raw)
                .map_err(|e| e.at(path))?;
            state.read_bytes(&raw);
        }
        Ok(h.step)
    })
}

/// Check the checkpoint in `path` completely (header, length, payload checksum) without a
/// state to read it into.
pub fn verify_checkpoint(path: &Path) -> Result<CheckpointInfo, Error> {
    with_payload(path, None, |h, _| {
        Ok(CheckpointInfo {
            step: h.step,
            payload_len: h.payload_len,
            stored_len: h.stored_len,
        })
    })
}
