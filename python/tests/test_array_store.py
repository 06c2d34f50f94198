"""ArrayStore (behind compat.pyrevolve): lists of arrays of any dtype and layout, RAM and disk."""

import numpy as np
import pytest

from retrace._retrace import ArrayStore, CheckpointError


def arrays(seed):
    rng = np.random.default_rng(seed)
    big = rng.standard_normal((6, 8))
    return [rng.standard_normal(5), rng.integers(-9, 9, 7).astype(np.int32), big[:, ::2]]


@pytest.mark.parametrize("disk", [False, True])
def test_save_load_free(tmp_path, disk):
    a, b = arrays(1), arrays(2)
    nbytes = sum(x.nbytes for x in a)
    store = ArrayStore(nbytes, 2, str(tmp_path) if disk else None)
    assert store.level == ("disk" if disk else "ram")
    store.save(3, a)
    store.save(9, b)
    assert len(store) == 2
    with pytest.raises(ValueError):
        store.save(4, a)  # full
    out = [np.empty_like(x) for x in a]
    out[2] = np.zeros((6, 8))[:, 1::2]  # a strided target
    store.load(9, out)
    assert all(np.array_equal(x, y) for x, y in zip(out, b))
    store.load(3, out)
    assert all(np.array_equal(x, y) for x, y in zip(out, a))
    store.free(3)
    with pytest.raises((ValueError, CheckpointError)):
        store.load(3, out)
    with pytest.raises(ValueError, match="bytes"):
        store.save(5, a[:2])
