"""pyTAMS 1.0's `TAMS` driver (`pytams.tams`) on retrace.

    tams = TAMS(fmodel_t=MyModel, a_args=["-i", "input.toml"])
    p = tams.compute_probability()

`[database] path` as in pyTAMS: a new run directory is created there if none exists; an
existing one is continued (its stored parameters are used, except `[tams]`, whose
`nsplititer` may grow); `restart = true` moves an existing one aside (`PATH_NNNNNN`) and starts
afresh. `init_ensemble_only = true` stops after the initial ensemble (returns -1.0, as pyTAMS),
and running the same input without it continues. A run stopped by `walltime` returns -1.0 and
is continued by running it again; a stalled run raises RuntimeError ("Splitting is stalling").
"""

import argparse
import json
import logging
import shutil
from pathlib import Path

import numpy as np

from ... import _retrace
from ._adapter import Adapter, copy_params
from ._config import translate, with_seed

__all__ = ["TAMS", "parse_cl_args", "run"]

_logger = logging.getLogger("retrace.compat.pytams")

STORED_INPUT = "pytams_input.json"


def parse_cl_args(a_args=None):
    """pyTAMS's command line: `-i/--input FILE` (default input.toml)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-i", "--input", help="pyTAMS input .toml file", default="input.toml")
    return parser.parse_args() if a_args is None else parser.parse_args(a_args)


def _move_aside(path):
    """Move `path` to a free `PATH_NNNNNN` beside it (pyTAMS's naming); the new path."""
    rng = np.random.default_rng(12345)
    while True:
        dest = path.with_name(f"{path.name}_{int(rng.integers(0, 999999)):06d}")
        if not dest.exists():
            break
    _logger.warning("Database %s already present. It will be copied to %s", path, dest.name)
    shutil.move(str(path), str(dest))
    return dest


def _prepare_database(params):
    """Apply pyTAMS's `[database]` semantics: (params to run with, run directory or None,
    whether it continues an existing run)."""
    db = params.get("database", {})
    if not db.get("path"):
        return with_seed(params), None, False
    path = Path(db["path"]).absolute()
    stored_file = path / STORED_INPUT
    if path.exists() and db.get("restart", False):
        _move_aside(path)
    elif (path / "run.sqlite").exists():
        if not stored_file.is_file():
            raise FileNotFoundError(
                f"{stored_file}: missing; {path} is a retrace run not made by "
                "retrace.compat.pytams (continue it with retrace.tams(restart=...))"
            )
        stored = json.loads(stored_file.read_text())
        # pyTAMS: the database's parameters hold, except [tams], which the input updates.
        tams = {k: v for k, v in stored.get("tams", {}).items() if k != "init_ensemble_only"}
        given = params.get("tams", {})
        n_old, n_new = tams.get("ntrajectories"), given.get("ntrajectories", tams.get("ntrajectories"))
        if n_new != n_old and stored.get("tams", {}).get("init_ensemble_only", False):
            # pyTAMS: a run stopped after its ensemble takes the new ntrajectories. With the
            # stored seed the first n_old trajectories come out the same: the run is remade.
            _logger.warning(
                "Database %s stopped after its initial ensemble of %s trajectories: remade "
                "with %s (the first %s are recomputed)", path, n_old, n_new, n_old,
            )
            shutil.rmtree(path)
            fresh = dict(params, tams=dict(given, seed=stored["tams"]["seed"]))
            fresh["database"] = {k: v for k, v in db.items() if k != "restart"}
            return fresh, path, False
        tams.update({k: v for k, v in given.items() if k not in ("seed", "ntrajectories")})
        if n_new != n_old:
            _logger.warning(
                "Database %s has %s trajectories: ntrajectories = %s is ignored",
                path, tams.get("ntrajectories"), given.get("ntrajectories"),
            )
        merged = dict(stored, tams=tams)
        merged["database"] = dict(stored.get("database", {}), path=db["path"])
        merged["database"].pop("restart", None)
        return merged, path, True
    elif (path / "header.xml").exists():
        raise ValueError(
            f"{path}: a pyTAMS database (pyTAMS's format is not read); move it away or set "
            "[database] restart = true"
        )
    params = with_seed(params)
    params["database"] = {k: v for k, v in db.items() if k != "restart"}
    return params, path, False


def _store_input(path, params):
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / (STORED_INPUT + ".tmp")
    tmp.write_text(json.dumps(params, indent=1, sort_keys=True))
    tmp.replace(path / STORED_INPUT)


def run(model_class, input_file="input.toml", threads=None):
    """Run TAMS on `model_class` (a pyTAMS 1.0 model class) with the pyTAMS TOML input
    `input_file`; returns retrace's report (dict; `report["estimate"]` is the probability,
    `report["seed"]` the seed, `report["pytams"]` what pyTAMS's driver would return)."""
    params = _retrace.load_toml(str(input_file))
    return run_params(model_class, params, threads)


def run_params(model_class, params, threads=None):
    """`run` on a pyTAMS input already read (a dict, not modified)."""
    params, path, continuing = _prepare_database(copy_params(params))
    tams = params.get("tams", {})
    ensemble_only = bool(tams.get("init_ensemble_only", False))
    cfg, workers = translate(params)
    if ensemble_only:
        cfg["tams"]["nsplititer"] = 0
    kwargs = {}
    if path is not None:
        _store_input(path, params)
        kwargs["restart" if continuing else "db"] = str(path)
    workroot = None if path is None else path / "trajectories"
    base = Path.cwd() if path is None else path
    model = Adapter(model_class, params, base, workroot)
    stalled = getattr(_retrace, "StalledError", ())
    try:
        report = _retrace.tams(model, cfg, threads=threads or workers, **kwargs)
    except stalled as e:
        raise RuntimeError(f"Splitting is stalling: {e}") from e
    stop = report["details"][0]["stop"] if report.get("details") else None
    if ensemble_only:
        _logger.warning("Stopping after the initial ensemble stage !")
        report["pytams"] = -1.0
    elif stop in ("walltime", "Walltime"):
        _logger.warning("Ran out of walltime ! Exiting now.")
        report["pytams"] = -1.0
    elif stop in ("extinction", "Extinction"):
        raise RuntimeError(
            f"Splitting is stalling with all trajectories stuck at a score_max: "
            f"{report['details'][0].get('level', 'the level')} (iteration "
            f"{report['iterations']})"
        )
    else:
        report["pytams"] = report["estimate"]
    report["database"] = None if path is None else str(path)
    return report


def _setup_logging(params):
    tams = params.get("tams", {})
    level = getattr(logging, str(tams.get("loglevel", "INFO")).upper(), logging.INFO)
    _logger.setLevel(level)
    if "logfile" in tams:
        target = str(Path(tams["logfile"]).absolute())
        if not any(getattr(h, "baseFilename", None) == target for h in _logger.handlers):
            _logger.addHandler(logging.FileHandler(target))


class TAMS:
    """pyTAMS's `TAMS(fmodel_t, a_args)` driver on retrace."""

    def __init__(self, fmodel_t, a_args=None):
        self._fmodel_t = fmodel_t
        input_file = parse_cl_args(a_args).input
        if not Path(input_file).exists():
            raise ValueError(f"Could not find the {input_file} TAMS input file !")
        self._parameters = _retrace.load_toml(str(input_file))
        tams = self._parameters.get("tams", {})
        if "ntrajectories" not in tams or "nsplititer" not in tams:
            raise ValueError(
                "TAMS 'ntrajectories' and 'nsplititer' must be specified in the input file !"
            )
        _setup_logging(self._parameters)
        self.report = None

    def n_traj(self):
        """The number of trajectories asked for."""
        return int(self._parameters["tams"]["ntrajectories"])

    def compute_probability(self):
        """The transition probability (-1.0 when stopped after the initial ensemble or by the
        walltime, as pyTAMS); the full report is then in `self.report`."""
        _logger.info("Computing %s rare event probability using TAMS", self._fmodel_t.name())
        self.report = run_params(self._fmodel_t, self._parameters)
        return self.report["pytams"]

    def get_database(self):
        """The run's `Database` (needs `[database] path`)."""
        from .database import Database

        if self.report is None or self.report["database"] is None:
            raise RuntimeError(
                "no run database: set [database] path in the input and run "
                "compute_probability() first"
            )
        return Database.load(Path(self.report["database"]))
