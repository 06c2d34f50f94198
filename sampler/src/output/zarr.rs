//! The Zarr v3 groups the outputs write (a thin layer on `zarrs`): a group on the file system,
//! arrays compressed as a [`Codec`] names (byte shuffle + zstd, zstd alone, or none), chunks
//! written from raw element bytes by a reused encoder.

use crate::array_state::DType;
use crate::{Error, OutputError, Result};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zarrs::array::codec::{ShuffleCodec, ZstdCodec};
use zarrs::array::{
    Array, ArrayBuilder, ArrayBytes, ArraySubset, BytesToBytesCodecTraits, DataType, FillValue,
    data_type,
};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::GroupBuilder;

pub(crate) use revolve::storage::disk::Codec;

/// A Zarr group on the file system.
pub(crate) struct Group {
    root: PathBuf,
    store: Arc<FilesystemStore>,
}

/// An array of a [`Group`].
pub(crate) struct ZArray {
    array: Array<FilesystemStore>,
    store: Arc<FilesystemStore>,
    path: PathBuf,
    /// Bytes of one element.
    size: usize,
    codec: Codec,
}

/// The scratch of one chunk writer ([`ZArray::write_chunk_buf`]), reused from chunk to chunk:
/// once its buffers have grown, writing a chunk allocates nothing (fresh multi-MiB buffers per
/// chunk cost the kernel's page zeroing, the largest item of the writer's profile).
pub(crate) struct ChunkBuf {
    /// The chunk's elements (C order, native byte order), filled by the caller.
    pub(crate) plain: Vec<u8>,
    shuffled: Vec<u8>,
    out: Vec<u8>,
    /// The zstd context and its level.
    zstd: Option<(i32, zstd::bulk::Compressor<'static>)>,
}

impl ChunkBuf {
    /// Empty buffers (they grow to one chunk on first use).
    pub(crate) fn new() -> ChunkBuf {
        ChunkBuf {
            plain: Vec::new(),
            shuffled: Vec::new(),
            out: Vec::new(),
            zstd: None,
        }
    }
}

fn zarr_type(d: DType) -> DataType {
    match d {
        DType::I8 => data_type::int8(),
        DType::I16 => data_type::int16(),
        DType::I32 => data_type::int32(),
        DType::I64 => data_type::int64(),
        DType::U8 => data_type::uint8(),
        DType::U16 => data_type::uint16(),
        DType::U32 => data_type::uint32(),
        DType::U64 => data_type::uint64(),
        DType::F32 => data_type::float32(),
        DType::F64 => data_type::float64(),
    }
}

/// The fill value of `d` as element bytes: NaN for floats, else 0.
pub(crate) fn fill_bytes(d: DType) -> Vec<u8> {
    match d {
        DType::F64 => f64::NAN.to_ne_bytes().to_vec(),
        DType::F32 => f32::NAN.to_ne_bytes().to_vec(),
        d => vec![0; d.size()],
    }
}

/// The Zarr codecs of `codec` (after the little-endian bytes codec): byte shuffle by element
/// (unless the codec's type size is 1) then zstd without checksum; nothing for `none`.
fn codecs(dtype: DType, codec: Codec) -> Result<Vec<Arc<dyn BytesToBytesCodecTraits>>> {
    match zstd_of(codec, "compression")? {
        None => Ok(Vec::new()),
        Some((shuffle, level)) => {
            let zstd: Arc<dyn BytesToBytesCodecTraits> = Arc::new(ZstdCodec::new(level, false));
            if shuffle && dtype.size() > 1 {
                let s: Arc<dyn BytesToBytesCodecTraits> = Arc::new(ShuffleCodec::new(dtype.size()));
                Ok(vec![s, zstd])
            } else {
                Ok(vec![zstd])
            }
        }
    }
}

/// `codec` as (shuffle?, zstd level), `None` for no compression; a lossy codec is a
/// configuration error naming `key`.
fn zstd_of(codec: Codec, key: &str) -> Result<Option<(bool, i32)>> {
    match codec {
        Codec::None => Ok(None),
        Codec::ShuffleZstd { typesize, level } => Ok(Some((typesize > 1, level))),
        other => Err(Error::config(
            key,
            format!(
                "{} is lossy: Zarr outputs are lossless (`none`, `zstd`, `zstd:LEVEL`, \
                 `zstd:LEVEL:1` without the byte shuffle)",
                other.name()
            ),
        )),
    }
}

/// Check that `codec` can compress a Zarr output (lossless), naming `key` if not.
pub(crate) fn check_codec(codec: Codec, key: &str) -> Result<()> {
    zstd_of(codec, key).map(|_| ())
}

impl Group {
    /// A new group at `path`, which must not exist (an empty directory is accepted).
    pub(crate) fn create(
        path: &Path,
        attributes: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Group> {
        let empty_dir =
            path.is_dir() && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none());
        if path.exists() && !empty_dir {
            return Err(OutputError::Exists {
                path: path.to_path_buf(),
            }
            .into());
        }
        std::fs::create_dir_all(path)
            .map_err(|e| OutputError::zarr(path, "create the directory", e))?;
        let g = Group::open_store(path)?;
        let group = GroupBuilder::new()
            .attributes(attributes)
            .build(g.store.clone(), "/")
            .map_err(|e| OutputError::zarr(path, "create the group", e))?;
        group
            .store_metadata()
            .map_err(|e| OutputError::zarr(path, "write the group metadata", e))?;
        Ok(g)
    }

    /// The existing group at `path` (its attributes, `None` where there is none).
    pub(crate) fn open(
        path: &Path,
    ) -> Result<Option<(Group, serde_json::Map<String, serde_json::Value>)>> {
        if !path.join("zarr.json").is_file() {
            return Ok(None);
        }
        let g = Group::open_store(path)?;
        let group = zarrs::group::Group::open(g.store.clone(), "/")
            .map_err(|e| OutputError::zarr(path, "open the group", e))?;
        let attrs = group.attributes().clone();
        Ok(Some((g, attrs)))
    }

    fn open_store(path: &Path) -> Result<Group> {
        let store =
            FilesystemStore::new(path).map_err(|e| OutputError::zarr(path, "open the store", e))?;
        Ok(Group {
            root: path.to_path_buf(),
            store: Arc::new(store),
        })
    }

    fn wrap(
        &self,
        array: Array<FilesystemStore>,
        path: PathBuf,
        dtype: DType,
        codec: Codec,
    ) -> ZArray {
        ZArray {
            array,
            store: self.store.clone(),
            path,
            size: dtype.size(),
            codec,
        }
    }

    /// The group's directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// A new array `name` of `shape` in chunks of `chunk`, elements `dtype` (missing ones NaN
    /// or 0), axes named `dims`, compressed by `codec`.
    pub(crate) fn array(
        &self,
        name: &str,
        shape: &[u64],
        chunk: &[u64],
        dtype: DType,
        dims: &[String],
        codec: Codec,
    ) -> Result<ZArray> {
        let path = self.root.join(name);
        let array = ArrayBuilder::new(
            shape.to_vec(),
            chunk.to_vec(),
            zarr_type(dtype),
            FillValue::from(fill_bytes(dtype)),
        )
        .bytes_to_bytes_codecs(codecs(dtype, codec)?)
        .dimension_names(Some(dims.iter().map(String::as_str)))
        .build(self.store.clone(), &format!("/{name}"))
        .map_err(|e| OutputError::zarr(&path, "create the array", e))?;
        array
            .store_metadata()
            .map_err(|e| OutputError::zarr(&path, "write the array metadata", e))?;
        Ok(self.wrap(array, path, dtype, codec))
    }

    /// The existing array `name`, written by `codec` (as recorded in the group's attributes).
    pub(crate) fn open_array(&self, name: &str, dtype: DType, codec: Codec) -> Result<ZArray> {
        let path = self.root.join(name);
        let array = Array::open(self.store.clone(), &format!("/{name}"))
            .map_err(|e| OutputError::zarr(&path, "open the array", e))?;
        if array.data_type() != &zarr_type(dtype) {
            return Err(OutputError::Corrupt {
                path,
                reason: format!("not an array of {}", dtype.name()),
            }
            .into());
        }
        Ok(self.wrap(array, path, dtype, codec))
    }
}

impl ZArray {
    /// Write chunk `at` from its elements' bytes (C order, native byte order; a chunk at the
    /// array's end still holds the whole chunk shape).
    pub(crate) fn write_chunk(&self, at: &[u64], bytes: &[u8]) -> Result<()> {
        self.array
            .store_chunk(at, ArrayBytes::new_flen(Cow::Borrowed(bytes)))
            .map_err(|e| OutputError::zarr(&self.path, format!("write chunk {at:?}"), e).into())
    }

    /// Write chunk `at` from `buf.plain` (the whole chunk shape, as [`ZArray::write_chunk`]):
    /// encoded as the array's codecs would (byte shuffle, zstd without checksum), in `buf`'s
    /// reused buffers.
    pub(crate) fn write_chunk_buf(&self, at: &[u64], buf: &mut ChunkBuf) -> Result<()> {
        if cfg!(target_endian = "big") {
            // The chunk's bytes are little-endian: let zarrs swap them.
            return self.write_chunk(at, &buf.plain);
        }
        let err = |action: &str, e: std::io::Error| {
            Error::from(OutputError::zarr(
                &self.path,
                format!("{action} chunk {at:?}"),
                e,
            ))
        };
        let Some((shuffle, level)) = zstd_of(self.codec, "compression")? else {
            return self.store_file(at, &buf.plain);
        };
        let src = if shuffle && self.size > 1 {
            buf.shuffled.resize(buf.plain.len(), 0);
            revolve::storage::disk::shuffle(&buf.plain, &mut buf.shuffled, self.size);
            &buf.shuffled
        } else {
            &buf.plain
        };
        let zstd = match &mut buf.zstd {
            Some((l, z)) if *l == level => z,
            slot => {
                let z = zstd::bulk::Compressor::new(level).map_err(|e| err("start zstd for", e))?;
                &mut slot.insert((level, z)).1
            }
        };
        buf.out.clear();
        buf.out.reserve(zstd::zstd_safe::compress_bound(src.len()));
        zstd.compress_to_buffer(src, &mut buf.out)
            .map_err(|e| err("compress", e))?;
        self.store_file(at, &buf.out)
    }

    /// Write the encoded bytes of chunk `at` to its file.
    fn store_file(&self, at: &[u64], bytes: &[u8]) -> Result<()> {
        let err = |action: &str, e: std::io::Error| {
            Error::from(OutputError::zarr(
                &self.path,
                format!("{action} chunk {at:?}"),
                e,
            ))
        };
        let file = self.store.key_to_fspath(&self.array.chunk_key(at));
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err("make the directory of", e))?;
        }
        std::fs::write(&file, bytes).map_err(|e| err("write", e))
    }

    /// The chunk shape (the array's regular grid).
    pub(crate) fn chunk_shape(&self) -> Result<Vec<u64>> {
        let zeros = vec![0; self.array.dimensionality()];
        let shape = self.array.chunk_shape(&zeros).map_err(|e| {
            Error::from(OutputError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            })
        })?;
        Ok(shape.iter().map(|x| x.get()).collect())
    }

    /// The elements' bytes of the region `ranges` (fill value where nothing was written).
    pub(crate) fn read(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<u8>> {
        let subset = ArraySubset::new_with_ranges(ranges);
        let bytes: ArrayBytes<'static> = self
            .array
            .retrieve_array_subset(&subset)
            .map_err(|e| OutputError::zarr(&self.path, format!("read {ranges:?}"), e))?;
        let fixed = bytes.into_fixed().map_err(|e| OutputError::Corrupt {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        Ok(fixed.into_owned())
    }

    /// The shape.
    pub(crate) fn shape(&self) -> &[u64] {
        self.array.shape()
    }
}

/// The elements `xs` as bytes (native byte order).
pub(crate) fn bytes_of<T: bytemuck::Pod>(xs: &[T]) -> &[u8] {
    bytemuck::cast_slice(xs)
}

/// Write the 1-d array `name` of `values` in one chunk, compressed by `codec`.
pub(crate) fn write_vector<T: crate::Element>(
    g: &Group,
    name: &str,
    values: &[T],
    dim: &str,
    codec: Codec,
) -> Result<()> {
    let n = (values.len() as u64).max(1);
    let a = g.array(
        name,
        &[values.len() as u64],
        &[n],
        T::DTYPE,
        &[dim.to_owned()],
        codec,
    )?;
    if !values.is_empty() {
        a.write_chunk(&[0], bytes_of(values))?;
    }
    Ok(())
}
