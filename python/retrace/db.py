"""Read a TAMS run database (the directory `retrace tams --db DIR` writes) as numpy arrays.

    run = retrace.db.open("runs/dw2d-001")
    run.summary                      # dict: config, sessions, estimate, status
    run.iterations["level"]          # numpy arrays, one per column
    run.trajectories["max_score"]    # numpy arrays, one per column (all trajectories ever made)
    run.scores(7)                    # scores of trajectory 7 at every step (float64, CRC-checked)
    run.ensemble_scores()            # {id: scores} of the live ensemble

The file is read with Python's sqlite3 in read-only mode, following the schema documented in
docs/run-database.md (format version 3); any other version is refused. Every config, iteration
and trajectory row read is checked against its checksum (a mismatch raises DatabaseError naming the
file and the row). Readers may open a run while it is being written.
"""

import json
import os
import sqlite3
import struct
import zlib

import numpy as np

from . import _checksum

__all__ = ["DatabaseError", "Run", "open"]

SCHEMA_VERSION = "3"
FORMAT = "retrace-tams-run"

_ITERATION_COLUMNS = [
    ("iteration", np.int64), ("level", np.float64), ("k", np.int64),
    ("weight", np.float64), ("reached", np.int64), ("next_id", np.int64),
    ("branches", np.int64), ("model_steps", np.int64), ("replay_steps", np.int64),
    ("held", np.int64), ("peak_held", np.int64), ("committed_at", np.float64),
]
_TRAJECTORY_COLUMNS = [
    ("id", np.int64), ("slot", np.int64), ("parent", np.int64), ("branch_step", np.int64),
    ("born", np.int64), ("died", np.int64), ("last_step", np.int64),
    ("max_score", np.float64), ("reached", np.bool_),
]


class DatabaseError(Exception):
    """The run directory or its database is missing, damaged or of another format."""


def open(path):  # noqa: A001 - the module's entry point, as in the issue
    """Open the run directory `path` (or its `run.sqlite`) read-only."""
    return Run(path)


class Run:
    """A run database opened read-only; see the module docs."""

    def __init__(self, path):
        path = os.fspath(path)
        self.path = path if path.endswith(".sqlite") else os.path.join(path, "run.sqlite")
        if not os.path.isfile(self.path):
            raise DatabaseError(f"{self.path}: no run database there")
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"{self.path}: {e}") from e
        if meta.get("format") != FORMAT:
            raise DatabaseError(f"{self.path}: not a retrace run database")
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path}: schema version {meta.get('schema_version')}, "
                f"this reader knows version {SCHEMA_VERSION}"
            )
        self.meta = meta

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _rows(self, sql, *args):
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"{self.path}: {e}") from e

    def _verify(self, what, sql, columns, checksum, name):
        """Rows of `SELECT columns FROM what sql`, each checked against its `checksum` column;
        `name(row)` names a row in the error."""
        rows = self._rows(f"SELECT {columns}, checksum FROM {what} {sql}")
        for r in rows:
            if checksum(r[:-1]) != r[-1]:
                raise DatabaseError(
                    f"{self.path} is damaged: table {what}{name(r)} fails its checksum "
                    "(a recorded value was changed)"
                )
        return [r[:-1] for r in rows]

    @property
    def summary(self):
        """Config, sessions, the last iteration and the estimate so far."""
        (cfg,) = self._verify(
            "config", "WHERE id = 1", _checksum.CONFIG_COLUMNS, _checksum.config, lambda r: ""
        ) or [None]
        if cfg is None:
            raise DatabaseError(f"{self.path}: no config row")
        keys = ["toml", "model", "ntrajectories", "l", "seed", "nsplititer", "walltime"]
        config = dict(zip(keys, cfg))
        sessions = [
            dict(zip(["id", "kind", "started_at", "start_iteration", "stopped_at", "stop",
                      "iterations", "retrace_version"], r))
            for r in self._rows(
                "SELECT id, kind, started_at, start_iteration, stopped_at, stop, iterations, "
                "retrace_version FROM sessions ORDER BY id"
            )
        ]
        last = [
            (r[0], r[7], r[8])
            for r in self._verify(
                "iterations", "ORDER BY iteration DESC LIMIT 1", _checksum.ITERATION_COLUMNS,
                _checksum.iteration, lambda r: f", iteration {r[0]}",
            )
        ]
        out = {"meta": dict(self.meta), "config": config, "sessions": sessions,
               "iterations": 0, "weight": None, "reached": None, "estimate": None,
               "status": sessions[-1]["stop"] if sessions else None}
        if last:
            q, bits, reached = last[0]
            weight = _from_bits(bits)
            out.update(iterations=q, weight=weight, reached=reached,
                       estimate=weight * reached / config["ntrajectories"])
        return out

    @property
    def iterations(self):
        """One numpy array per column of `iterations` (weight exact from its bits, level NaN
        for iteration 0), and `killed`, `parents`, `children` as lists of int64 arrays."""
        names = [c for c, _ in _ITERATION_COLUMNS]
        cols = ", ".join("weight_bits" if c == "weight" else c for c in names)
        self._verify("iterations", "", _checksum.ITERATION_COLUMNS, _checksum.iteration,
                     lambda r: f", iteration {r[0]}")
        rows = self._rows(
            f"SELECT {cols}, killed, parents, children FROM iterations ORDER BY iteration"
        )
        out = {}
        for i, (name, dtype) in enumerate(_ITERATION_COLUMNS):
            vals = [r[i] for r in rows]
            if name == "weight":
                vals = [_from_bits(v) for v in vals]
            elif dtype == np.float64:
                vals = [np.nan if v is None else v for v in vals]
            out[name] = np.array(vals, dtype=dtype)
        n = len(_ITERATION_COLUMNS)
        for j, name in enumerate(["killed", "parents", "children"]):
            out[name] = [np.array(json.loads(r[n + j]), dtype=np.int64) for r in rows]
        return out

    @property
    def trajectories(self):
        """One numpy array per column of `trajectories`, ordered by id; -1 for NULL (`parent`,
        `branch_step` of initial trajectories, `died` of live ones)."""
        names = [c for c, _ in _TRAJECTORY_COLUMNS]
        self._verify("trajectories", "", _checksum.TRAJECTORY_COLUMNS, _checksum.trajectory,
                     lambda r: f", trajectory {r[0]}")
        rows = self._rows(f"SELECT {', '.join(names)} FROM trajectories ORDER BY id")
        return {
            name: np.array([-1 if r[i] is None else r[i] for r in rows], dtype=dtype)
            for i, (name, dtype) in enumerate(_TRAJECTORY_COLUMNS)
        }

    def scores(self, trajectory):
        """Trajectory `trajectory`'s score at every step (float64), checked against its CRC."""
        rows = self._rows(
            "SELECT scores, scores_crc, last_step FROM trajectories WHERE id = ?", int(trajectory)
        )
        if not rows:
            raise KeyError(f"no trajectory {trajectory} in {self.path}")
        return self._decode(trajectory, *rows[0])

    def ensemble_scores(self):
        """`{id: scores}` for the live ensemble, in slot order."""
        rows = self._rows(
            "SELECT id, scores, scores_crc, last_step FROM trajectories "
            "WHERE died IS NULL ORDER BY slot"
        )
        return {tid: self._decode(tid, *r) for tid, *r in rows}

    def _decode(self, tid, blob, crc, last_step):
        if zlib.crc32(blob) != crc:
            raise DatabaseError(f"{self.path}: trajectory {tid}: scores fail their CRC-32")
        if len(blob) != 8 * (last_step + 1):
            raise DatabaseError(
                f"{self.path}: trajectory {tid}: {len(blob)} score bytes for {last_step + 1} steps"
            )
        return np.frombuffer(blob, dtype="<f8").astype(np.float64)


def _from_bits(bits):
    return struct.unpack("<d", struct.pack("<q", bits))[0]
