"""How a state that is not a numeric array is held in retrace's stores: the one encoding that
`retrace.tams` (`retrace._object_state`) and `retrace.compat.pytams` share.

Numeric states (a float, an int, a numeric numpy array) are held as float64 arrays, as
retrace's Python models are. Any other state (a string, a dict, any picklable object) is
pickled and its bytes are held in a float64 array of fixed length, 6 bytes per element (each
element an exact integer below 2**48, so no bit pattern is a NaN): the same stores, memory
budgets and run database as numeric states. The length is fixed by the first state (four times
its pickle, at least 4 KiB) or by the model's own attribute (`state_bytes` for `retrace.tams`,
`retrace_state_bytes` for pyTAMS classes); a larger state is an error naming both sizes.

With a `base` directory (pyTAMS only), a state that is a path (`str` or `os.PathLike`) to an existing file is a file-backed state: the
model wrote the file and reads it back in `set_current_state`. After each step the file is moved
to a name made of its content's hash (`trajectories/states/ab/abcd...<suffix>` under the base
directory), so two trajectories (or a replay) writing the same file name never overwrite each
other's states, and the name retrace stores depends only on the content: replay and restart
give the same bytes for any worker count.
"""

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np

_WORD = 6  # bytes per float64 element (exact integers < 2**48)
_MIN_CAPACITY = 4096


def is_numeric(state):
    """Whether `state` is held as a float64 array."""
    if isinstance(state, (bool, int, float, np.number)):
        return not isinstance(state, (np.complexfloating, complex))
    if isinstance(state, np.ndarray):
        return state.dtype.kind in "biuf"
    return False


class StateCodec:
    """Encodes a model's states (see the module documentation) for one run."""

    def __init__(self, first, base=None, capacity=None, pickled=False,
                 capacity_attr="retrace_state_bytes"):
        """`first`: the first state (it fixes the encoding); `base`: the directory of
        file-backed states (None: paths are stored as they are); `capacity`: the bytes reserved
        per pickle; `pickled`: pickle even a numeric state; `capacity_attr`: the attribute the
        error for a too large state names."""
        self.numeric = not pickled and is_numeric(first)
        self.scalar = self.numeric and not isinstance(first, np.ndarray)
        self.base = None if base is None else Path(base)
        self.capacity_attr = capacity_attr
        self.files = (
            not self.numeric and self.base is not None and self._file_of(first) is not None
        )
        if self.numeric:
            self.capacity = None
            return
        size = len(pickle.dumps(first, protocol=4)) + 128  # + a content name's length
        self.capacity = int(capacity) if capacity else max(_MIN_CAPACITY, 4 * size)
        self.words = 1 + -(-self.capacity // _WORD)

    def _file_of(self, state):
        """The file a path-like state names (relative paths: under `base`), or None."""
        if not isinstance(state, (str, os.PathLike)):
            return None
        p = Path(state)
        p = p if p.is_absolute() else self.base / p
        return p if p.is_file() else None

    def canonical(self, state):
        """A file-backed state with its file moved to its content name; others unchanged."""
        if not self.files:
            return state
        src = self._file_of(state)
        if src is None:
            raise ValueError(
                f"state {state!r}: the model's first state was a file, this one names no "
                f"existing file (relative paths are taken from {self.base})"
            )
        digest = hashlib.blake2b(src.read_bytes(), digest_size=16).hexdigest()
        rel = Path("trajectories", "states", digest[:2], digest + "".join(src.suffixes))
        dest = self.base / rel
        if src != dest:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
        new = dest if Path(state).is_absolute() else rel
        return new.as_posix() if isinstance(state, str) else type(state)(new)

    def encode(self, state):
        """`state` as a float64 array (a fresh one)."""
        if self.numeric:
            return np.array(state, dtype=np.float64)
        out = np.zeros(self.words)
        self.encode_into(state, out)
        return out

    def encode_into(self, state, out):
        """Write `state` into `out` (the array retrace holds)."""
        if self.numeric:
            out[...] = np.asarray(state, dtype=np.float64).reshape(out.shape)
            return
        data = pickle.dumps(self.canonical(state), protocol=4)
        if len(data) > self.capacity:
            raise ValueError(
                f"state of {len(data)} bytes (pickled) does not fit the {self.capacity} bytes "
                f"reserved from the first state: set the model class attribute "
                f"{self.capacity_attr} to the largest state's size"
            )
        # Each group of 6 bytes as the low bytes of a little-endian uint64.
        count = -(-len(data) // _WORD)
        groups = np.zeros((count, 8), dtype=np.uint8)
        padded = data + bytes(count * _WORD - len(data))
        groups[:, :_WORD] = np.frombuffer(padded, dtype=np.uint8).reshape(count, _WORD)
        values = groups.view("<u8")[:, 0]
        out[0] = len(data)
        out[1 : 1 + len(values)] = values.astype(np.float64)
        out[1 + len(values) :] = 0.0

    def decode(self, x):
        """The model's state from the array retrace holds."""
        if self.numeric:
            return x.item() if self.scalar else x
        n = int(x[0])
        count = -(-n // _WORD)
        groups = x[1 : 1 + count].astype("<u8").view(np.uint8).reshape(count, 8)
        data = groups[:, :_WORD].tobytes()[:n]
        return pickle.loads(data)
