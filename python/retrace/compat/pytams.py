"""Run a model class written for pyTAMS 1.0 with retrace's TAMS, with pyTAMS's TOML input.

    from retrace.compat.pytams import TAMS          # was: from pytams.tams import TAMS
    p = TAMS(MyModel, a_args=["-i", "input.toml"]).compute_probability()
    report = retrace.compat.pytams.run(MyModel, "input.toml")      # the full report

`MyModel` subclasses pyTAMS's `ForwardModelBaseClass` (or the one here, with the same
interface, when pyTAMS is not installed) and implements `_init_model(m_id, params)`,
`_advance(step, time, dt, noise, need_end_state)`, `get_current_state()`,
`set_current_state(state)`, `score()` and `make_noise()`. The state must convert to a float64
numpy array (or a float).

Differences from pyTAMS:

- The noise has the shape of `make_noise()` but is drawn from retrace's counter-based standard
  normal streams (that is what makes runs reproducible for any worker count and restartable);
  `make_noise()` itself is only called once, for the shape. A model whose noise is not standard
  normal must map it inside `_advance` (e.g. scale it there).
- Each worker thread has its own model instance (`ModelClass(worker, params)`); `params` is the
  whole TOML input as a dict, as in pyTAMS. Instances are reused across trajectories: the
  state is set with `set_current_state` before every `_advance` and `score`.
- `_advance` must advance by exactly `dt` (the returned dt is checked); `check_convergence`
  overrides and the branching/restore hooks are not called (the target is `score >=
  targetscore`).
- pyTAMS keys retrace has no use for are ignored with a warning (`loglevel`, `logfile`,
  `diagnostics`, `init_ensemble_only`, `deterministic`, `sparse_freq`, `sparse_start`,
  `chkfile_dump_all`, `[runner] type`, `[database] format`, `archive_discarded`, `[dask]`);
  `[runner] nworker_init`/`nworker_iter` give the thread count; `[database] path`/`restart`
  record the run in retrace's run database (a directory) and continue it. Any other key is
  checked by retrace, and an error names it.
"""

import argparse
import math
import threading
import warnings

import numpy as np

from .. import _retrace

__all__ = ["ForwardModelBaseClass", "TAMS", "config_from_pytams", "run"]

# pyTAMS keys retrace has no use for (ignored with a warning) ...
_IGNORED = {
    "tams": {"loglevel", "logfile", "diagnostics", "init_ensemble_only", "deterministic"},
    "trajectory": {"sparse_freq", "sparse_start", "chkfile_dump_all"},
    "runner": {"type"},
    "database": {"format", "archive_discarded"},
}
# ... and those it translates (threads, run database).
_TRANSLATED = {"runner": {"nworker_init", "nworker_iter"}, "database": {"path", "restart"}}
_IGNORED_TABLES = {"dask", "model"}


class ForwardModelBaseClass:
    """pyTAMS 1.0's model base class interface, for model classes when pyTAMS is not installed.

    The constructor, as pyTAMS's, records id and params, calls `_init_model(a_id, params)`
    and a first `make_noise()`.
    """

    def __init__(self, a_id, params, workdir=None):
        self._id = a_id
        self._step = 0
        self._time = 0.0
        self._workdir = workdir
        model = params.setdefault("model", {})
        model["deterministic"] = params.get("tams", {}).get("deterministic", False)
        self._init_model(a_id, params)
        self._noise = self.make_noise()

    def _init_model(self, m_id, params):
        raise NotImplementedError

    def _advance(self, step, time, dt, noise, need_end_state):
        raise NotImplementedError

    def get_current_state(self):
        raise NotImplementedError

    def set_current_state(self, state):
        raise NotImplementedError

    def score(self):
        raise NotImplementedError

    def make_noise(self):
        raise NotImplementedError

    @classmethod
    def name(cls):
        return cls.__name__


def config_from_pytams(params):
    """retrace's config (dict), threads, database directory and restart flag from a pyTAMS input
    dict; warns about the keys it ignores."""
    cfg, ignored = {}, []
    for table, value in params.items():
        if table in _IGNORED_TABLES:
            if table != "model":
                ignored.append(f"[{table}]")
            continue
        if not isinstance(value, dict):
            cfg[table] = value
            continue
        kept = {}
        for key, v in value.items():
            if key in _IGNORED.get(table, ()):
                ignored.append(f"{table}.{key}")
            elif key not in _TRANSLATED.get(table, ()):
                kept[key] = v
        if kept or table not in _TRANSLATED:
            cfg[table] = kept
    cfg.setdefault("trajectory", {}).setdefault("targetscore", 0.95)  # pyTAMS's default
    runner = params.get("runner", {})
    workers = [runner[k] for k in ("nworker_init", "nworker_iter") if k in runner]
    threads = max(workers) if workers else None
    database = params.get("database", {})
    if ignored:
        warnings.warn(
            "retrace.compat.pytams ignores these pyTAMS keys: " + ", ".join(sorted(ignored)),
            stacklevel=3,
        )
    return cfg, threads, database.get("path"), bool(database.get("restart", False))


class _Adapter:
    """A pyTAMS model class as a retrace.tams model: one instance per worker thread."""

    def __init__(self, model_class, params):
        self._class = model_class
        self._params = params
        self._local = threading.local()
        self._lock = threading.Lock()
        self._next_id = 0
        first = self._instance()
        self._noise_shape = np.shape(first.make_noise())
        self.noise_size = max(1, math.prod(self._noise_shape))
        state = first.get_current_state()
        self._scalar = np.ndim(state) == 0 and not isinstance(state, np.ndarray)
        self._initial = np.array(state, dtype=np.float64)
        # The model's identity, for restarts: its class and [model] parameters.
        self._parameters = {k: v for k, v in params.get("model", {}).items()
                            if isinstance(v, (bool, int, float, str))}
        self._name = model_class.__qualname__

    def parameters(self):
        return dict(self._parameters, pytams_class=self._name)

    def _instance(self):
        inst = getattr(self._local, "model", None)
        if inst is None:
            with self._lock:
                m_id = self._next_id
                self._next_id += 1
            inst = self._class(m_id, _copy(self._params))
            self._local.model = inst
        return inst

    def _set(self, inst, x):
        inst.set_current_state(x.item() if self._scalar else x)

    def initial_state(self):
        return self._initial

    def step(self, x, t, dt, noise):
        inst = self._instance()
        self._set(inst, x)
        noise = float(noise[0]) if self._noise_shape == () else noise.reshape(self._noise_shape)
        step = round(t / dt)
        inst._noise = noise
        actual = inst._advance(step, t, dt, noise, True)
        if actual is not None and actual != dt:
            raise ValueError(
                f"{self._name}._advance advanced by {actual} instead of dt = {dt}: retrace "
                "runs fixed steps"
            )
        inst._step, inst._time = step + 1, t + dt
        x[...] = np.asarray(inst.get_current_state(), dtype=np.float64).reshape(x.shape)

    def score(self, x, t):
        inst = self._instance()
        self._set(inst, x)
        return inst.score()


def _copy(params):
    return {k: (_copy(v) if isinstance(v, dict) else v) for k, v in params.items()}


def run(model_class, input_file="input.toml", threads=None):
    """Run TAMS on `model_class` (a pyTAMS 1.0 model class) with the pyTAMS TOML input
    `input_file`; returns retrace's report (dict; `report["estimate"]` is the probability)."""
    params = _retrace.load_toml(str(input_file))
    cfg, workers, db, restart = config_from_pytams(params)
    model = _Adapter(model_class, params)
    kwargs = {}
    if db is not None:
        kwargs["restart" if restart else "db"] = db
    return _retrace.tams(model, cfg, threads=threads or workers, **kwargs)


class TAMS:
    """pyTAMS's `TAMS(fmodel_t, a_args)` driver on retrace: `compute_probability()`."""

    def __init__(self, fmodel_t, a_args=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("-i", "--input", default="input.toml")
        args = parser.parse_args() if a_args is None else parser.parse_args(a_args)
        self._fmodel_t = fmodel_t
        self._input = args.input
        self.report = None

    def compute_probability(self):
        """The transition probability (the full report is then in `self.report`)."""
        self.report = run(self._fmodel_t, self._input)
        return self.report["estimate"]
