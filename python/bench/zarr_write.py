"""Write the arrays of a Zarr v3 group again with zarr-python, with the same chunks and codecs
(byte shuffle + zstd level 3), chunk by chunk, and print the seconds it took (for
sampler/benches/zarr_out.rs, which runs it: `python zarr_write.py IN.zarr OUT.zarr ARRAY`)."""

import sys
import time

import numpy as np
import zarr
from numcodecs.zarr3 import Shuffle
from zarr.codecs import BytesCodec, ZstdCodec


def main():
    src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
    a = zarr.open_array(src, path=name, mode="r")
    data = a[:]  # not timed
    chunks = a.chunks
    start = time.perf_counter()
    out = zarr.create_array(
        store=dst,
        shape=data.shape,
        chunks=chunks,
        dtype=data.dtype,
        fill_value=np.nan,
        serializer=BytesCodec(endian="little"),
        compressors=[Shuffle(elementsize=data.dtype.itemsize), ZstdCodec(level=3)],
        overwrite=True,
    )
    step = chunks[-1]
    for m in range(0, data.shape[-1], step):
        out[..., m : m + step] = data[..., m : m + step]
    print(f"{time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
