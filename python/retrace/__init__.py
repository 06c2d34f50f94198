"""retrace from Python: optimal checkpointing schedules, their validator and planner, and a
Revolver driving numpy forward/reverse callbacks with checkpoints in RAM or on disk.

    import retrace
    rv = retrace.Revolver(u0, forward, reverse, steps=1000, snaps=20)
    u_n = rv.apply_forward()
    rv.apply_reverse(lam)          # lam: dJ/du_n in, dJ/du_0 out

`retrace.schedule` builds schedules, `retrace.compat.pyrevolve` runs pyrevolve code.
"""

from ._retrace import (
    CheckpointError,
    Revolver,
    ScheduleError,
    plan,
    validate,
)
from . import db, schedule

__all__ = ["CheckpointError", "Revolver", "ScheduleError", "db", "plan", "schedule", "validate"]
