"""Write an array of a Zarr v3 group again with zarr-python, with the same chunks and codecs
(read from the source array's metadata), chunk by chunk along the last axis, and print the
best of REPEATS timings in seconds (for sampler/benches/zarr_out.rs, which runs it:
`python zarr_write.py IN.zarr OUT.zarr ARRAY [REPEATS]`)."""

import shutil
import sys
import time
import warnings

import zarr


def main():
    src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    warnings.simplefilter("ignore")  # numcodecs.shuffle is not a core Zarr v3 codec
    a = zarr.open_array(src, path=name, mode="r")
    data = a[:]  # not timed
    chunks = a.chunks
    best = float("inf")
    for _ in range(repeats):
        shutil.rmtree(dst, ignore_errors=True)
        start = time.perf_counter()
        out = zarr.create_array(
            store=dst,
            shape=data.shape,
            chunks=chunks,
            dtype=data.dtype,
            fill_value=a.fill_value,
            serializer=a.serializer,
            compressors=a.compressors,
            filters=a.filters,
        )
        step = chunks[-1]
        for m in range(0, data.shape[-1], step):
            out[..., m : m + step] = data[..., m : m + step]
        best = min(best, time.perf_counter() - start)
    print(f"{best:.6f}")


if __name__ == "__main__":
    main()
