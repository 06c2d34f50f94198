"""A pyTAMS model class as a retrace.tams Python model.

Initial states: each trajectory's own instance, `ModelClass(m_id, params, workdir)`, built while
`numpy.random.default_rng()` (no seed) and numpy's global random state are seeded from the
trajectory's stream, so a random start in `_init_model` differs per trajectory and is the same
on replay and restart. Steps and scores: one instance per worker thread, its state set with
`set_current_state` before each `_advance` and `score` (as pyTAMS restores a trajectory).
"""

import math
import threading
import warnings

import numpy as np

from ..._state_codec import StateCodec
from .fmodel import ForwardModelBaseClass

# Builds of trajectory instances patch numpy's default_rng: one at a time.
_BUILD_LOCK = threading.Lock()


def copy_params(params):
    """A deep copy of a (nested) params dict (lists copied too)."""
    if isinstance(params, dict):
        return {k: copy_params(v) for k, v in params.items()}
    if isinstance(params, list):
        return [copy_params(v) for v in params]
    return params


class _SeededNumpy:
    """While active: `np.random.default_rng()` without a seed, and numpy's global random state,
    draw from `seed` (a sequence of ints)."""

    def __init__(self, seed):
        self._seq = np.random.SeedSequence(seed)

    def __enter__(self):
        self._original = np.random.default_rng
        self._saved = np.random.get_state()
        children = iter(self._seq.spawn(1 << 10))
        original = self._original
        owner = threading.get_ident()

        def default_rng(seed=None):
            # Only the building thread's unseeded calls are seeded (workers may be stepping).
            if seed is None and threading.get_ident() == owner:
                return original(next(children))
            return original(seed)

        np.random.default_rng = default_rng
        np.random.seed(self._seq.generate_state(1)[0])
        return self

    def __exit__(self, *exc):
        np.random.default_rng = self._original
        np.random.set_state(self._saved)


class Adapter:
    """The retrace.tams model for `model_class` with pyTAMS `params` (see the module docs).

    `base`: the directory relative state paths are taken from (the database directory, else
    the current one); `workroot`: where the instances' working directories go (None: the
    model's default, the current directory).
    """

    def __init__(self, model_class, params, base, workroot=None):
        self._class = model_class
        self._params = params
        self._workroot = workroot
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self._next_worker = 0
        self._name = model_class.__qualname__
        if "check_convergence" in _own_methods(model_class):
            warnings.warn(
                f"{self._name}.check_convergence is not used: retrace's target is "
                "score >= targetscore",
                stacklevel=3,
            )
        first = self._build(0, "worker0000")
        self._local.model = first
        self._noise_shape = np.shape(first.make_noise())
        self.noise_size = max(1, math.prod(self._noise_shape))
        state = first.get_current_state()
        self.codec = StateCodec(state, base, getattr(model_class, "retrace_state_bytes", None))
        self._first = self.codec.canonical(state)
        self._parameters = {
            k: v
            for k, v in params.get("model", {}).items()
            if isinstance(v, (bool, int, float, str))
        }

    def parameters(self):
        """The model's identity, for restarts: its class and [model] parameters."""
        return dict(self._parameters, pytams_class=self._name)

    def _build(self, m_id, dirname):
        workdir = None
        if self._workroot is not None:
            self._workroot.mkdir(parents=True, exist_ok=True)
            workdir = self._workroot / dirname
        return self._class(m_id, copy_params(self._params), workdir)

    def _instance(self):
        inst = getattr(self._local, "model", None)
        if inst is None:
            with self._count_lock:
                self._next_worker += 1
                n = self._next_worker
            with _BUILD_LOCK:  # not while a trajectory's instance draws from numpy
                inst = self._build(n, f"worker{n:04d}")
            self._local.model = inst
        return inst

    def initial_state(self, rng=None):
        """The trajectory's initial state: from its own instance, built with numpy seeded from
        `rng` (the trajectory's Generator); without one, the first instance's state."""
        if rng is None:
            return self.codec.encode(self._first)
        words = [int(w) for w in rng.integers(0, 2**32, size=4, dtype=np.uint64)]
        m_id = words[0] % (2**31)
        with _BUILD_LOCK, _SeededNumpy(words):
            inst = self._build(m_id, "init")
            return self.codec.encode(inst.get_current_state())

    def step(self, x, t, dt, noise):
        """One `_advance` of `dt` from the state `x` (in place)."""
        inst = self._instance()
        inst.set_current_state(self.codec.decode(x))
        if self._noise_shape == ():
            noise = float(noise[0])
        else:
            noise = noise.reshape(self._noise_shape)
        step = round(t / dt)
        inst._step, inst._time, inst._noise = step, t, noise
        actual = inst._advance(step, t, dt, noise, True)
        if actual is not None and actual != dt:
            raise ValueError(
                f"{self._name}._advance advanced by {actual} instead of dt = {dt}: retrace "
                "runs fixed steps"
            )
        inst._step, inst._time = step + 1, t + dt
        self.codec.encode_into(inst.get_current_state(), x)

    def score(self, x, t):
        """The model's score of the state `x`."""
        inst = self._instance()
        inst.set_current_state(self.codec.decode(x))
        return float(inst.score())


def _own_methods(cls):
    """Names defined by `cls` and its bases other than the pyTAMS base classes."""
    names = set()
    for c in cls.__mro__:
        if c.__name__ == "ForwardModelBaseClass" or c is object:
            continue
        names.update(c.__dict__)
    return names
