"""pyTAMS 1.0's TOML input as retrace's config.

- `[tams] ntrajectories`, `walltime`, `seed` (a retrace key) are retrace's. `nsplititer` counts
  branched trajectories in pyTAMS, which kills `nworker_iter` of them per iteration: retrace
  gets `l = nworker_iter` and `nsplititer = ceil(nsplititer / l)` iterations.
- Seeds: `seed = N` is used as given; else `deterministic = true` means seed 0; else a fresh
  seed from the OS (pyTAMS runs are random by default), recorded with the run.
- `[runner] nworker_init` / `nworker_iter`: the worker threads (the larger); results do not
  depend on them.
- Ignored with a warning: `loglevel`/`logfile` are used for logging only, `diagnostics`,
  `sparse_freq`, `sparse_start`, `chkfile_dump_all`, `[runner] type`, `[dask]`.
- `[database]` is handled by `tams.run` (pyTAMS's semantics); `format` must be "XML" as in
  pyTAMS (the run is written in retrace's format).
Any other key goes to retrace, which names it if it is unknown.
"""

import os
import warnings

_IGNORED = {
    "tams": {"diagnostics", "loglevel", "logfile", "init_ensemble_only", "deterministic"},
    "trajectory": {"sparse_freq", "sparse_start", "chkfile_dump_all"},
    "runner": {"type", "nworker_init", "nworker_iter"},
    "database": {"path", "restart", "format", "archive_discarded"},
}
_SILENT = {"loglevel", "logfile", "init_ensemble_only", "deterministic", "nworker_init",
           "nworker_iter", "path", "restart", "format", "archive_discarded"}
_IGNORED_TABLES = {"dask", "model"}


def fresh_seed():
    """A seed from the OS (63 bits)."""
    return int.from_bytes(os.urandom(8), "little") >> 1


def level_rank(params):
    """pyTAMS's trajectories killed per iteration: `[runner] nworker_iter` (default 1)."""
    return int(params.get("runner", {}).get("nworker_iter", 1))


def translate(params):
    """retrace's config (dict) and thread count for pyTAMS `params` (with a seed already in
    `[tams]`); warns about the keys it ignores."""
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
                if key not in _SILENT:
                    ignored.append(f"{table}.{key}")
            else:
                kept[key] = v
        if kept or table not in _IGNORED:
            cfg[table] = kept
    fmt = params.get("database", {}).get("format", "XML")
    if fmt != "XML":
        raise ValueError(f"Unsupported TAMS database format: {fmt} !")
    cfg.setdefault("trajectory", {}).setdefault("targetscore", 0.95)  # pyTAMS's default
    tams = cfg.setdefault("tams", {})
    rank = level_rank(params)
    if "l" not in tams and rank > 1:
        tams["l"] = rank
    rank = tams.get("l", 1)
    if "nsplititer" in tams:
        tams["nsplititer"] = -(-int(tams["nsplititer"]) // rank)
    runner = params.get("runner", {})
    workers = [runner[k] for k in ("nworker_init", "nworker_iter") if k in runner]
    if ignored:
        warnings.warn(
            "retrace.compat.pytams ignores these pyTAMS keys: " + ", ".join(sorted(ignored)),
            stacklevel=4,
        )
    return cfg, (max(workers) if workers else None)


def with_seed(params):
    """`params` with `[tams] seed` set as the module documentation says."""
    tams = params.setdefault("tams", {})
    if "seed" not in tams:
        tams["seed"] = 0 if tams.get("deterministic", False) else fresh_seed()
    return params
