"""pyrevolve's ``compression``: codecs for :class:`~.storage.BytesStorage`.

A compressor is ``f(params, array) -> CompressedObject``, a decompressor
``g(params, CompressedObject) -> array``; ``init_compression({"scheme": ...})`` binds the
parameters. Offered, all lossless: ``None`` (raw bytes), ``"zlib"`` (``level``, default 6) and
``"lzma"`` (``preset``, default 1) from Python's standard library, and ``"custom"`` (your own
``compressor``/``decompressor`` in the parameters). pyrevolve's ``"blosc"`` and ``"zfp"`` are
not offered.
"""

import lzma
import pickle
import zlib

import numpy as np

__all__ = [
    "CompressedObject",
    "DEFAULTS",
    "compressors",
    "compressors_available",
    "compressors_known",
    "decompressors",
    "init_compression",
]


class CompressedObject:
    """Compressed bytes with the ``shape`` and ``dtype`` to rebuild the array."""

    def __init__(self, data, shape=None, dtype=None, metadata=None):
        if metadata is not None:
            if shape is not None or dtype is not None:
                raise ValueError("give either metadata or shape and dtype, not both")
            if "shape" not in metadata or "dtype" not in metadata:
                raise ValueError("metadata must hold 'shape' and 'dtype'")
            shape, dtype = metadata["shape"], metadata["dtype"]
        else:
            metadata = {"shape": shape, "dtype": dtype}
        self.shape = shape
        self.dtype = dtype
        self.data = data
        self.metadata = metadata
        self.pickled_metadata = pickle.dumps(metadata)


def _raw(array):
    return np.ascontiguousarray(array).tobytes()


def _rebuild(raw, obj):
    return np.frombuffer(raw, dtype=obj.dtype).reshape(obj.shape)


def no_compression_in(params, indata):
    """The array's bytes as they are."""
    return CompressedObject(memoryview(_raw(indata)), shape=indata.shape, dtype=indata.dtype)


def no_compression_out(params, indata):
    """The array back from its bytes."""
    return _rebuild(indata.data, indata)


def zlib_compress(params, indata):
    """zlib (deflate) at ``params["level"]``."""
    data = zlib.compress(_raw(indata), params.get("level", 6))
    return CompressedObject(data, shape=indata.shape, dtype=indata.dtype)


def zlib_decompress(params, indata):
    """The array back from zlib."""
    return _rebuild(zlib.decompress(indata.data), indata)


def lzma_compress(params, indata):
    """LZMA (xz) at ``params["preset"]``."""
    data = lzma.compress(_raw(indata), preset=params.get("preset", 1))
    return CompressedObject(data, shape=indata.shape, dtype=indata.dtype)


def lzma_decompress(params, indata):
    """The array back from LZMA."""
    return _rebuild(lzma.decompress(bytes(indata.data)), indata)


compressors_available = [None, "zlib", "lzma"]
DEFAULTS = {None: {}, "zlib": {"level": 6}, "lzma": {"preset": 1}}
# Codecs pyrevolve knows that are not offered here, with the package pyrevolve would use.
compressors_known = {"blosc": "blosc2", "zfp": "pyzfp"}
compressors = {None: no_compression_in, "zlib": zlib_compress, "lzma": lzma_compress}
decompressors = {None: no_compression_out, "zlib": zlib_decompress, "lzma": lzma_decompress}


def init_compression(params):
    """``(compressor, decompressor)`` for ``params["scheme"]`` with the other entries (and the
    scheme's defaults) bound as their ``params``."""
    params = dict(params)
    scheme = params.pop("scheme", None)
    if scheme == "custom":
        compressor = params.pop("compressor", None)
        decompressor = params.pop("decompressor", None)
        if not callable(compressor) or not callable(decompressor):
            raise ValueError("the 'custom' scheme needs callable 'compressor' and 'decompressor'")
    elif scheme in compressors:
        compressor, decompressor = compressors[scheme], decompressors[scheme]
        for k, v in DEFAULTS[scheme].items():
            params.setdefault(k, v)
    else:
        raise ValueError(
            f"compression scheme {scheme!r} is not offered by retrace.compat.pyrevolve "
            f"(offered: {compressors_available + ['custom']}; None disables compression)"
        )

    def compress(data):
        return compressor(params, data)

    def decompress(data):
        return decompressor(params, data)

    return compress, decompress
