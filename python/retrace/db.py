"""Read a TAMS run database (the directory `retrace tams --db DIR` writes) as numpy arrays.

    run = retrace.db.open("runs/dw2d-001")
    run.summary                      # dict: config, sessions, estimate, status
    run.iterations["level"]          # numpy arrays, one per column
    run.trajectories["max_score"]    # numpy arrays, one per column (all trajectories ever made)
    run.scores(7)                    # scores of trajectory 7 at every step (float64, CRC-checked)
    run.ensemble_scores()            # {id: scores} of the live ensemble
    run.paths(model, "paths.zarr")   # transition paths as a Zarr v3 group (states by replay)

The run is read by retrace's own reader (the one `retrace db` and `--restart` use, through the
extension): the format version is checked (only version 3 is read), every config, iteration and
trajectory row read is checked against its checksum and every score against its CRC-32 (a
mismatch raises DatabaseError naming the file, the table and the row). Nothing in the run
directory is created, written or deleted: a killed run (a WAL left behind) is read from a private
copy. Readers may open a run while it is being written; each property is one snapshot.
"""

import os

from . import _retrace

__all__ = ["DatabaseError", "Run", "open"]

SCHEMA_VERSION = "3"
FORMAT = "retrace-tams-run"


class DatabaseError(Exception):
    """The run directory or its database is missing, damaged or of another format."""


def open(path):  # noqa: A001 - the module's entry point, as in the issue
    """Open the run directory `path` (or its `run.sqlite`) read-only."""
    return Run(path)


def _read(f, *args):
    """`f(*args)`, a run database error raised as DatabaseError (same message)."""
    try:
        return f(*args)
    except _retrace.RunDatabaseError as e:
        raise DatabaseError(str(e)) from e


class Run:
    """A run database opened read-only; see the module docs."""

    def __init__(self, path):
        path = os.fspath(path)
        if path.endswith(".sqlite"):
            self.path = path
            directory, name = os.path.split(path)
            if name != "run.sqlite":
                raise DatabaseError(f"{path}: a run database is a run directory's run.sqlite")
            directory = directory or "."
        else:
            self.path = os.path.join(path, "run.sqlite")
            directory = path
        if not os.path.isfile(self.path):
            raise DatabaseError(f"{self.path}: no run database there")
        self._db = _read(_retrace.RunDatabase, directory)
        self.meta = _read(self._db.meta)

    def close(self):
        """Release the database (a private copy of a killed run's database is removed)."""
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def summary(self):
        """Config, sessions, the last iteration and the estimate so far."""
        return _read(self._db.summary)

    @property
    def iterations(self):
        """One numpy array per column of `iterations` (weight exact from its bits, level NaN
        for iteration 0), and `killed`, `parents`, `children` as lists of int64 arrays."""
        return _read(self._db.iterations)

    @property
    def trajectories(self):
        """One numpy array per column of `trajectories`, ordered by id; -1 for NULL (`parent`,
        `branch_step` of initial trajectories, `died` of live ones)."""
        return _read(self._db.trajectories)

    def scores(self, trajectory):
        """Trajectory `trajectory`'s score at every step (float64), checked against its CRC."""
        scores = _read(self._db.scores, int(trajectory))
        if scores is None:
            raise KeyError(f"no trajectory {trajectory} in {self.path}")
        return scores

    def ensemble_scores(self):
        """`{id: scores}` for the live ensemble, in slot order."""
        return dict(_read(self._db.ensemble_scores))

    def paths(self, model, out, stride=1, select="reached", threads=None, compression="zstd"):
        """Write the transition paths to the new Zarr v3 group `out` and return a summary dict
        (`paths`, `times`, `states`, `replayed_steps`).

        The states of the trajectories `select` chooses ("reached": the final ensemble's
        trajectories that reached the target; "alive"; "all"; or a list of ids) are regenerated
        at steps 0, stride, 2 stride, ... by replaying their recorded noise with `model` (the
        run's model: a Python model whose `initial_state()` is a float64 numpy array, or None
        for the recorded built-in one); every regenerated state's score is checked bit for bit
        against the recorded one. The group holds `states (paths, times, *state_shape)`,
        `scores`, `time`, `step`, `ids`, `weights`, `lengths`, `last_step`, `reached`, and the
        run's config and model in its attributes; open it with `zarr.open` or
        `xarray.open_zarr`. `compression`: "zstd" (byte shuffle + zstd level 1, the default),
        "zstd:LEVEL", "zstd:LEVEL:1" (zstd alone, no numcodecs codec) or "none".
        """
        if model is not None:
            _check_float64_state(model)
        if not isinstance(select, str):
            select = ",".join(str(int(i)) for i in select)
        directory = os.path.dirname(self.path) or "."
        return _read(
            _retrace.export_paths,
            directory,
            model,
            os.fspath(out),
            int(stride),
            select,
            threads,
            compression,
        )


def _check_float64_state(model):
    """Refuse a Python model whose state is not a float64 numpy array (TypeError)."""
    import numpy as np

    x0 = model.initial_state()
    if not isinstance(x0, np.ndarray) or x0.dtype != np.float64:
        kind = f"a {x0.dtype} array" if isinstance(x0, np.ndarray) else type(x0).__name__
        raise TypeError(
            f"paths: a Python model's state must be a float64 numpy array to be written to "
            f"Zarr; initial_state() returned {kind}"
        )

