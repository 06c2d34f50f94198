"""pyTAMS 1.0's `Database` (`pytams.database`), reading a run made by `retrace.compat.pytams`.

    tdb = Database.load(Path("dw2dim.tdb"))
    for t in tdb.traj_list():                 # the final ensemble, in slot order
        plt.plot(t.get_time_array(), t.get_score_array())
    tdb.archived_traj_list()                  # the discarded trajectories (archive_discarded)
    tdb.get_transition_probability()

Read through retrace's run-database reader (`retrace.db`: checksums checked, nothing
written). Trajectories carry their recorded times and scores; the database does not record
states (`get_state_list()` raises NotImplementedError saying so). It is read-only: pyTAMS's
writing methods (`append_traj`, `lock_trajectory`, ...) are not offered.
"""

import json
import math
from pathlib import Path

import numpy as np

from ... import db as _db
from .tams import STORED_INPUT
from .trajectory import Trajectory

__all__ = ["Database"]


class Database:
    """A run's trajectories and splitting data (see the module documentation).

    `Database(fmodel_t, params)` opens the run at `params["database"]["path"]`, as pyTAMS's
    does for an existing database; `Database.load(path)` opens it from its path alone.
    """

    def __init__(self, fmodel_t, params, ntraj=-1, nsplititer=-1, read_only=True):
        path = params.get("database", {}).get("path")
        if not path:
            raise ValueError("Database: a run is read from [database] path (none given)")
        self._fmodel_t = fmodel_t
        self._path = Path(path).absolute()
        self._run = _db.open(self._path)
        stored = self._path / STORED_INPUT
        self._parameters = json.loads(stored.read_text()) if stored.is_file() else params
        summary = self._run.summary
        config = summary["config"]
        self._summary = summary
        self._ntraj = int(config["ntrajectories"])
        self._nsplititer = int(self._parameters.get("tams", {}).get("nsplititer", -1))
        self._store_archive = self._parameters.get("database", {}).get(
            "archive_discarded", True
        )
        self._active = None
        self._archived = None

    @classmethod
    def load(cls, a_path, read_only=True):
        """The run database at `a_path` (FileNotFoundError if there is none)."""
        a_path = Path(a_path)
        if not (a_path / "run.sqlite").is_file():
            raise FileNotFoundError(f"Database {a_path} does not exist !")
        return cls(None, {"database": {"path": str(a_path)}}, read_only=read_only)

    def _trajectory(self, row, scores):
        target = float(self._parameters.get("trajectory", {}).get("targetscore", 0.95))
        converged = bool(row["reached"])
        t = Trajectory._recorded_run(
            int(row["id"]),
            1.0 / self._ntraj,
            self._parameters,
            scores,
            ended=True,
            converged=converged or (len(scores) > 0 and np.max(scores) >= target),
            nbranching=0 if row["parent"] < 0 else 1,
        )
        return t

    def _rows(self):
        cols = self._run.trajectories
        return [
            {k: cols[k][i] for k in cols} for i in range(len(cols["id"]))
        ]

    def load_data(self, load_archived_trajectories=False):
        """Read the trajectories (done on first use; kept for pyTAMS's scripts)."""
        self._active = None
        self.traj_list()
        if load_archived_trajectories:
            self.archived_traj_list()

    def traj_list(self):
        """The final (or current) ensemble, in slot order."""
        if self._active is None:
            rows = {int(r["id"]): r for r in self._rows()}
            self._active = [
                self._trajectory(rows[int(i)], s) for i, s in self._run.ensemble_scores().items()
            ]
        return self._active

    def archived_traj_list(self):
        """The trajectories discarded by splitting, by id (empty if `archive_discarded` is
        false, as in pyTAMS)."""
        if not self._store_archive:
            return []
        if self._archived is None:
            self._archived = [
                self._trajectory(r, self._run.scores(int(r["id"])))
                for r in self._rows()
                if r["died"] >= 0
            ]
        return self._archived

    def get_traj(self, idx):
        """Trajectory `idx` of the ensemble (ValueError if out of range)."""
        if not 0 <= idx < self.traj_list_len():
            raise ValueError(
                f"Trying to access a non existing trajectory {idx} in a database "
                f"of {self.traj_list_len()} trajectories"
            )
        return self.traj_list()[idx]

    def traj_list_len(self):
        """Length of the ensemble."""
        return len(self.traj_list())

    def archived_traj_list_len(self):
        """Number of discarded trajectories."""
        return len(self.archived_traj_list())

    def n_traj(self):
        """The number of trajectories of the run."""
        return self._ntraj

    def n_split_iter(self):
        """The splitting budget (pyTAMS's count: branched trajectories)."""
        return self._nsplititer

    def name(self):
        """The database's path, as given."""
        return self._parameters.get("database", {}).get("path", str(self._path))

    def path(self):
        """The database's absolute path."""
        return self._path.as_posix()

    def k_split(self):
        """Trajectories branched so far (pyTAMS's splitting counter)."""
        its = self._run.iterations
        return int(its["branches"][-1]) if len(its["branches"]) else 0

    def weights(self):
        """The ensemble weight after each splitting iteration (1 before any)."""
        return np.asarray(self._run.iterations["weight"], dtype=np.float64)

    def init_ensemble_done(self):
        """Whether the initial ensemble is complete."""
        return len(self._run.iterations["iteration"]) > 0

    def done_with_splitting(self):
        """Whether the splitting budget is spent."""
        return self.k_split() >= self._nsplititer

    def count_ended_traj(self):
        """Ensemble members that ended (all, in a committed run)."""
        return sum(t.has_ended() for t in self.traj_list())

    def count_converged_traj(self):
        """Ensemble members that reached the target."""
        return sum(t.is_converged() for t in self.traj_list())

    def count_computed_steps(self):
        """Model steps computed (replays excluded)."""
        steps = self._run.iterations["model_steps"]
        return int(steps[-1]) if len(steps) else 0

    def get_transition_probability(self):
        """The run's estimate (0.0 before the initial ensemble is complete)."""
        estimate = self._run.summary["estimate"]
        return 0.0 if estimate is None or math.isnan(estimate) else float(estimate)

    def info(self):
        """Print a summary."""
        s = self._run.summary
        print(  # noqa: T201
            f"Database {self.name()}: {self._ntraj} trajectories, {s['iterations']} splitting "
            f"iterations, {self.count_converged_traj()} converged, estimate {s['estimate']}"
        )

    def plot_score_functions(self, fname=None, plot_archived=False):
        """Plot every ensemble score against time (matplotlib) into `fname`."""
        import matplotlib.pyplot as plt

        plt.figure(figsize=(10, 6))
        trajs = self.traj_list() + (self.archived_traj_list() if plot_archived else [])
        for t in trajs:
            plt.plot(t.get_time_array(), t.get_score_array(), linewidth=0.8)
        plt.xlabel("Time")
        plt.ylabel("Score [-]")
        plt.grid(linestyle="dotted")
        plt.savefig(fname or f"{Path(self.name()).name}_scores.png", dpi=300)
        plt.clf()
        plt.close()

    def close(self):
        """Release the run database."""
        self._run.close()
