"""retrace from Python: optimal checkpointing schedules, their validator and planner, and a
Revolver driving numpy forward/reverse callbacks with checkpoints in RAM or on disk.

    import retrace
    rv = retrace.Revolver(u0, forward, reverse, steps=1000, snaps=20)
    u_n = rv.apply_forward()
    rv.apply_reverse(lam)          # lam: dJ/du_n in, dJ/du_0 out

TAMS on a Python model (noise from retrace's counter-based standard-normal streams; the
report is the dict of `retrace tams --json`):

    report = retrace.tams(model, "input.toml", db="runs/a", threads=2)
    report = retrace.tams(model, restart="runs/a")     # continue it, bit-identical
    report = retrace.tams(model, "input.toml", workers=4)  # 4 processes, same bits

A model's state may be any picklable object (a dataclass, a path to a file the model writes):
retrace holds it as its pickle, and `step` returns the new state (docs/python.md, "States that
are not arrays").

`retrace.schedule` builds schedules, `retrace.db` reads run databases,
`retrace.compat.pyrevolve` runs pyrevolve code, `retrace.compat.pytams` pyTAMS model classes.
"""

from ._retrace import (
    CheckpointError,
    ConfigError,
    Revolver,
    RunDatabaseError,
    ScheduleError,
    StalledError,
    plan,
    tams,
    validate,
)
from ._workers import WorkerError
from . import db, schedule

__all__ = [
    "CheckpointError", "ConfigError", "Revolver", "RunDatabaseError", "ScheduleError",
    "StalledError", "WorkerError", "db", "plan", "schedule", "tams", "validate",
]
