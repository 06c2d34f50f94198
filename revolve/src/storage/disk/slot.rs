//! One preallocated, memory-mapped slot file: writing a checkpoint into it (raw or through a
//! [`Codec`]) and reading one back with every check of [`Header`].

use super::codec::{Codec, CodecBuf};
use super::header::{HEADER_LEN, Header, PAYLOAD_OFFSET, Room, Wire, file_size};
use crate::{Error, State};
use memmap2::{MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Bytes copied per chunk while checksumming, so a chunk is still in cache for the CRC.
const CHUNK: usize = 1 << 16;

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn corrupt(path: &Path, reason: String) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

/// A slot file of fixed size mapped read-write. The mutex serialises the foreground and the
/// background I/O thread; which of them may touch a slot when is decided by the store.
pub(crate) struct SlotFile {
    pub path: PathBuf,
    file: File,
    payload_len: usize,
    /// How new checkpoints are written (any codec is read).
    codec: Codec,
    map: Mutex<MmapMut>,
}

impl SlotFile {
    /// Create `path` (which must not exist), sized for `payload_len` bytes, and map it. With
    /// `preallocate`, every byte is written once so the file system has reserved the space and
    /// a full disk is an error here rather than a fault later.
    pub(super) fn create(
        path: PathBuf,
        payload_len: usize,
        preallocate: bool,
        codec: Codec,
    ) -> Result<Self, Error> {
        let total = u64::try_from(payload_len)
            .ok()
            .and_then(file_size)
            .ok_or(Error::Overflow {
                what: "checkpoint file size",
            })?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        let mut head = [0u8; PAYLOAD_OFFSET as usize];
        Header::raw(0, payload_len as u64, 0, false).encode(&mut head);
        let mut prefill = || -> std::io::Result<()> {
            file.write_all(&head)?;
            if preallocate {
                let zeros = vec![0u8; CHUNK.min(payload_len.max(1))];
                let mut left = payload_len;
                while left > 0 {
                    let n = left.min(zeros.len());
                    file.write_all(&zeros[..n])?;
                    left -= n;
                }
            }
            file.set_len(total)
        };
        let mapped = prefill().and_then(|()| {
            // SAFETY: the file was created here (`create_new`) and is only written through this
            // map. Another process could still change or truncate it: contents are checked by
            // checksum on every read, and the length before every access (see `check_len`).
            unsafe { MmapOptions::new().map_mut(&file) }
        });
        let map = match mapped {
            Ok(m) => m,
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                return Err(io_error(&path, e));
            }
        };
        Ok(SlotFile {
            path,
            file,
            payload_len,
            codec,
            map: Mutex::new(map),
        })
    }

    /// Open an existing slot file of a kept store; its length must fit `payload_len`.
    pub(super) fn open(path: PathBuf, payload_len: usize, codec: Codec) -> Result<Self, Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        let len = file.metadata().map_err(|e| io_error(&path, e))?.len();
        let want = PAYLOAD_OFFSET + payload_len as u64;
        if len != want {
            return Err(corrupt(
                &path,
                format!("file has {len} bytes, a slot for this state has {want}"),
            ));
        }
        // SAFETY: the map is sound while no one else truncates or rewrites the file: this store
        // owns its directory's slot files, every read checks the checksum and the length
        // (`check_len`), and the length was just checked.
        let map = unsafe { MmapOptions::new().map_mut(&file) }.map_err(|e| io_error(&path, e))?;
        Ok(SlotFile {
            path,
            file,
            payload_len,
            codec,
            map: Mutex::new(map),
        })
    }

    /// The step of the complete, verified checkpoint this slot holds, or `None` when it is
    /// empty (never written, freed, or its write did not finish).
    pub(super) fn inspect(&self) -> Result<Option<u64>, Error> {
        let map = self.lock();
        self.check_len()?;
        let header = Header::decode(&map[..HEADER_LEN]).map_err(|r| corrupt(&self.path, r))?;
        if !header.complete {
            return Ok(None);
        }
        drop(map);
        self.verified_step(header.step)?;
        Ok(Some(header.step))
    }

    fn verified_step(&self, step: u64) -> Result<(), Error> {
        let map = self.lock();
        let header = self.verified_header(&map, step)?;
        self.stored(&map, &header)?;
        Ok(())
    }

    /// The stored payload of a verified header, its checksum checked.
    fn stored<'m>(&self, map: &'m MmapMut, header: &Header) -> Result<&'m [u8], Error> {
        let off = PAYLOAD_OFFSET as usize;
        let src = &map[off..off + header.stored_len as usize];
        let crc = crc32fast::hash(src);
        if crc != header.payload_crc {
            return Err(self.crc_mismatch(header.payload_crc, crc));
        }
        Ok(src)
    }

    fn lock(&self) -> MutexGuard<'_, MmapMut> {
        // A panic while holding the lock (in a user's `State` impl) leaves bytes the checksum
        // will judge; the map itself stays valid.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file must still have its full length before the map is touched: reading past the end
    /// of a truncated mapped file would fault.
    fn check_len(&self) -> Result<(), Error> {
        let len = self
            .file
            .metadata()
            .map_err(|e| io_error(&self.path, e))?
            .len();
        let want = PAYLOAD_OFFSET + self.payload_len as u64;
        if len < want {
            return Err(corrupt(
                &self.path,
                format!("truncated: {len} bytes, the slot file should have {want}"),
            ));
        }
        Ok(())
    }

    fn begin(&self, map: &mut MmapMut, step: u64) {
        Header::raw(step, self.payload_len as u64, 0, false).encode(&mut map[..HEADER_LEN]);
    }

    fn finish(&self, map: &mut MmapMut, step: u64, crc: u32, flush: bool) -> Result<usize, Error> {
        self.finish_coded(map, step, crc, (Wire::RAW, self.payload_len), flush)
    }

    fn finish_coded(
        &self,
        map: &mut MmapMut,
        step: u64,
        crc: u32,
        (codec, stored): (Wire, usize),
        flush: bool,
    ) -> Result<usize, Error> {
        Header {
            codec,
            stored_len: stored as u64,
            ..Header::raw(step, self.payload_len as u64, crc, true)
        }
        .encode(&mut map[..HEADER_LEN]);
        if flush {
            map.flush().map_err(|e| io_error(&self.path, e))?;
        }
        Ok(stored)
    }

    fn payload_mut(map: &mut MmapMut, len: usize) -> &mut [u8] {
        &mut map[PAYLOAD_OFFSET as usize..PAYLOAD_OFFSET as usize + len]
    }

    /// Write the checkpoint of `step` from raw bytes (the background writer's path); returns
    /// the bytes stored.
    pub(super) fn write_bytes(
        &self,
        step: u64,
        src: &[u8],
        flush: bool,
        buf: &mut CodecBuf,
    ) -> Result<usize, Error> {
        debug_assert_eq!(src.len(), self.payload_len);
        let mut map = self.lock();
        self.check_len()?;
        self.begin(&mut map, step);
        if self.codec != Codec::None {
            return self.write_coded(&mut map, step, src, flush, buf);
        }
        let mut h = crc32fast::Hasher::new();
        let dst = Self::payload_mut(&mut map, self.payload_len);
        for (d, s) in dst.chunks_mut(CHUNK).zip(src.chunks(CHUNK)) {
            d.copy_from_slice(s);
            h.update(s);
        }
        self.finish(&mut map, step, h.finalize(), flush)
    }

    /// Encode `src` into the payload and finish the header.
    fn write_coded(
        &self,
        map: &mut MmapMut,
        step: u64,
        src: &[u8],
        flush: bool,
        buf: &mut CodecBuf,
    ) -> Result<usize, Error> {
        let dst = Self::payload_mut(map, self.payload_len);
        let (wire, n) = buf
            .encode(self.codec, src, dst)
            .map_err(|e| io_error(&self.path, e))?;
        let crc = crc32fast::hash(&dst[..n]);
        self.finish_coded(map, step, crc, (wire, n), flush)
    }

    /// Write the checkpoint of `step` straight from a state (the synchronous path); returns the
    /// bytes stored.
    pub(super) fn write_state<S: State>(
        &self,
        step: u64,
        state: &S,
        flush: bool,
        buf: &mut CodecBuf,
    ) -> Result<usize, Error> {
        let mut map = self.lock();
        self.check_len()?;
        self.begin(&mut map, step);
        if self.codec != Codec::None {
            let mut raw = std::mem::take(&mut buf.raw);
            raw.resize(self.payload_len, 0);
            state.write_bytes(&mut raw);
            let r = self.write_coded(&mut map, step, &raw, flush, buf);
            buf.raw = raw;
            return r;
        }
        let dst = Self::payload_mut(&mut map, self.payload_len);
        state.write_bytes(dst);
        let crc = crc32fast::hash(dst);
        self.finish(&mut map, step, crc, flush)
    }

    /// Mark the slot empty on disk (its checkpoint was freed).
    pub(super) fn clear(&self) -> Result<(), Error> {
        let mut map = self.lock();
        self.check_len()?;
        self.begin(&mut map, 0);
        Ok(())
    }

    fn verified_header(&self, map: &MmapMut, step: u64) -> Result<Header, Error> {
        self.check_len()?;
        let header = Header::decode(&map[..HEADER_LEN]).map_err(|r| corrupt(&self.path, r))?;
        header
            .check(
                map.len() as u64,
                Some(step),
                Some(self.payload_len as u64),
                Room::Slot,
            )
            .map_err(|r| corrupt(&self.path, r))?;
        Ok(header)
    }

    fn crc_mismatch(&self, stored: u32, computed: u32) -> Error {
        corrupt(
            &self.path,
            format!("payload checksum mismatch (stored {stored:08x}, computed {computed:08x})"),
        )
    }

    /// Decode a verified, checksummed payload into `dst`.
    fn decode(
        &self,
        h: &Header,
        src: &[u8],
        dst: &mut [u8],
        buf: &mut CodecBuf,
    ) -> Result<(), Error> {
        buf.decode(h.codec, src, dst).map_err(|e| e.at(&self.path))
    }

    /// Read and verify the checkpoint of `step` into `dst` (the prefetch path).
    pub(super) fn read_into(
        &self,
        step: u64,
        dst: &mut [u8],
        buf: &mut CodecBuf,
    ) -> Result<(), Error> {
        let map = self.lock();
        let header = self.verified_header(&map, step)?;
        if header.codec != Wire::RAW {
            let src = self.stored(&map, &header)?;
            return self.decode(&header, src, dst, buf);
        }
        let off = PAYLOAD_OFFSET as usize;
        let src = &map[off..off + self.payload_len];
        let mut h = crc32fast::Hasher::new();
        for (d, s) in dst.chunks_mut(CHUNK).zip(src.chunks(CHUNK)) {
            d.copy_from_slice(s);
            h.update(d);
        }
        let crc = h.finalize();
        if crc != header.payload_crc {
            return Err(self.crc_mismatch(header.payload_crc, crc));
        }
        Ok(())
    }

    /// Verify the checkpoint of `step` and read it into `state` (the synchronous path).
    pub(super) fn read_state<S: State>(
        &self,
        step: u64,
        state: &mut S,
        buf: &mut CodecBuf,
    ) -> Result<(), Error> {
        let map = self.lock();
        let header = self.verified_header(&map, step)?;
        let src = self.stored(&map, &header)?;
        if header.codec == Wire::RAW {
            state.read_bytes(src);
            return Ok(());
        }
        let mut raw = std::mem::take(&mut buf.raw);
        raw.resize(self.payload_len, 0);
        let r = self.decode(&header, src, &mut raw, buf);
        if r.is_ok() {
            state.read_bytes(&raw);
        }
        buf.raw = raw;
        r
    }
}
