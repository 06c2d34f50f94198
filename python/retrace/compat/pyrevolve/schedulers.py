"""pyrevolve's ``schedulers``: the action stream a Revolver follows, one ``next()`` at a time.

:class:`CRevolve` is Revolve's offline single-level schedule (the :mod:`.crevolve` driver, the
same actions as pyrevolve's). :class:`HRevolve` takes retrace's multistage schedule for one or
two storage levels (the first storage of the architecture is the fast level): optimal in
forward steps, then in accesses to the second level. It is not pyrevolve's H-Revolve dynamic
programme: the costs ``uf``/``ub``/``up`` and the storages' ``wd``/``rd`` only price it
(``makespan``), they do not shape it.
"""

import json

from ...schedule import multistage
from . import crevolve as cr

__all__ = ["Action", "Architecture", "CAction", "CRevolve", "HAction", "HRevolve", "Revolve",
           "Scheduler"]


class Architecture:
    """The levels of a multi-level storage: per level its checkpoint count (``sizes``) and
    write/read costs (``wd``/``rd``), from a storage list or given."""

    def __init__(self, storage_list, wd=(1,), rd=(1,), sizes=(1,)):
        if storage_list is None:
            self.nblevels = 1
            self.wd, self.rd, self.sizes = list(wd), list(rd), list(sizes)
        else:
            self.nblevels = len(storage_list)
            self.wd = [st.wd for st in storage_list]
            self.rd = [st.rd for st in storage_list]
            self.sizes = [st.nckp for st in storage_list]
        if not len(self.sizes) == len(self.wd) == len(self.rd) == self.nblevels:
            raise ValueError("the architecture needs sizes, wd and rd for every level")

    def __repr__(self):
        return repr([(self.sizes[i], self.wd[i], self.rd[i]) for i in range(self.nblevels)])


class Action:
    """One step of a schedule: ``type`` (one of the constants), the step reached (``capo``),
    the step before (``old_capo``) and the storage slot (``ckp``)."""

    ADVANCE = 0
    TAKESHOT = 1
    RESTORE = 2
    LASTFW = 3
    REVERSE = 4
    CPDEL = 5
    TERMINATE = 6
    REVSTART = 15

    type_names = {
        ADVANCE: "ADVANCE",
        TAKESHOT: "TAKESHOT",
        RESTORE: "RESTORE",
        LASTFW: "LASTFW",
        REVERSE: "REVERSE",
        CPDEL: "CPDEL",
        TERMINATE: "TERMINATE",
        REVSTART: "REVSTART",
    }

    def __init__(self, action_type, capo, old_capo, ckp):
        self.type = action_type
        self.capo = capo
        self.old_capo = old_capo
        self.ckp = ckp

    def __repr__(self):
        return json.dumps({"type": self.type_names[self.type], "from": self.old_capo,
                           "to": self.capo, "ckp": self.ckp})

    def storageIndex(self):
        """The storage (level) the action uses."""
        return 0


class Scheduler:
    """A schedule of ``n_timesteps`` steps with ``n_checkpoints`` checkpoints: ``next()`` gives
    the next :class:`Action`; ``capo``, ``old_capo`` and ``cp_pointer`` describe it."""

    def __init__(self, n_checkpoints, n_timesteps):
        self.n_timesteps = n_timesteps
        self.n_checkpoints = n_checkpoints

    def next(self):
        """The next action."""
        raise NotImplementedError

    @property
    def capo(self):
        """The step the current action reaches."""
        return 0

    @property
    def old_capo(self):
        """The step before the current action."""
        return 0

    @property
    def cp_pointer(self):
        """The storage slot of the current action."""
        return 0

    @property
    def oplist(self):
        """The actions of the whole schedule, where computed."""
        return None


class CAction(Action):
    """An action of :class:`CRevolve` (one storage)."""


_C_TYPES = {
    cr.Action.advance: Action.ADVANCE,
    cr.Action.takeshot: Action.TAKESHOT,
    cr.Action.restore: Action.RESTORE,
    cr.Action.firstrun: Action.LASTFW,
    cr.Action.youturn: Action.REVERSE,
    cr.Action.terminate: Action.TERMINATE,
}


class CRevolve(Scheduler):
    """Revolve's offline schedule. After ``LASTFW`` comes ``REVSTART`` (the reverse of the
    last step, whose forward step ``LASTFW`` took). ``ratio`` is forward steps per step, from
    a first pass over the whole schedule; ``storage(0)`` the steps taken as snapshots so far,
    that first pass included (as pyrevolve reports them)."""

    def __init__(self, n_checkpoints, n_timesteps):
        super().__init__(n_checkpoints, n_timesteps)
        self._pending_revstart = None
        self._stored = []
        self._oplist = []
        self.revolve = cr.CRevolve(n_checkpoints, n_timesteps, None)
        forward = 0
        while True:
            a = self.next()
            self._oplist.append(a)
            if a.type in (Action.ADVANCE, Action.LASTFW):
                forward += a.capo - a.old_capo
            if a.type == Action.TERMINATE:
                break
        self._ratio = forward / n_timesteps if n_timesteps else 0.0
        self.revolve = cr.CRevolve(n_checkpoints, n_timesteps, None)

    @property
    def oplist(self):
        return self._oplist

    def next(self):
        if self._pending_revstart is not None:
            a, self._pending_revstart = self._pending_revstart, None
            return a
        kind = _C_TYPES[self.revolve.revolve()]
        a = CAction(kind, self.capo, self.old_capo, self.cp_pointer)
        if kind == Action.LASTFW:
            self._pending_revstart = CAction(Action.REVSTART, self.capo, self.old_capo,
                                             self.cp_pointer)
        elif kind == Action.TAKESHOT:
            self._stored.append(a.capo)
        return a

    @property
    def capo(self):
        return self.revolve.capo

    @property
    def old_capo(self):
        return self.revolve.oldcapo

    @property
    def cp_pointer(self):
        return self.revolve.check

    @property
    def ratio(self):
        """Forward steps of the schedule per step."""
        return self._ratio

    def storage(self, k):
        """Steps taken as snapshots (one storage: ``k`` is ignored)."""
        return self._stored


Revolve = CRevolve


class HAction(Action):
    """An action of :class:`HRevolve`, with the storage (level) it uses."""

    def __init__(self, action_type, capo, old_capo, ckp, st_idx=0):
        super().__init__(action_type, capo, old_capo, ckp)
        self.st_idx = st_idx

    def __repr__(self):
        return json.dumps({"type": self.type_names[self.type], "capo": self.capo,
                           "old_capo": self.old_capo, "ckp": self.ckp, "st_idx": self.st_idx})

    def storageIndex(self):
        return self.st_idx


_LEVELS = {"ram": 0, "disk": 1}


def _h_actions(n, sizes):
    """retrace's multistage schedule as HActions: slots numbered per level, lowest free first;
    the first ``reverse n-1`` becomes ``ADVANCE n-1 -> n``, ``REVERSE`` (where the forward
    sweep stops) and ``REVSTART``."""
    ram, disk = (sizes + [0])[:2]
    free = [list(range(ram - 1, -1, -1)), list(range(disk - 1, -1, -1))]
    slot = {}
    out = []
    first = True
    for text in multistage(n, ram, disk):
        kind, *args = text.split()
        if kind == "advance":
            a, b = int(args[0]), int(args[1])
            out.append(HAction(Action.ADVANCE, b, a, 0))
        elif kind == "reverse":
            k = int(args[0])
            if first:
                first = False
                out.append(HAction(Action.ADVANCE, k + 1, k, 0))
                out.append(HAction(Action.REVERSE, k + 1, k + 1, 0))
                out.append(HAction(Action.REVSTART, k, k, 0))
            else:
                out.append(HAction(Action.REVERSE, k, k, 0))
        else:
            k, level = int(args[0]), _LEVELS[args[1]]
            if kind == "store":
                s = free[level].pop()
                slot[(k, level)] = s
                out.append(HAction(Action.TAKESHOT, k, k, s, level))
            elif kind == "restore":
                out.append(HAction(Action.RESTORE, k, k, slot[(k, level)], level))
            else:  # free
                s = slot.pop((k, level))
                free[level].append(s)
                out.append(HAction(Action.CPDEL, k, k, s, level))
    out.append(HAction(Action.TERMINATE, 0, 0, 0))
    return out


class HRevolve(Scheduler):
    """A one- or two-level schedule (retrace's multistage) for the storages of
    ``architecture`` (see the module docs)."""

    def __init__(self, n_checkpoints, n_timesteps, architecture=None, uf=1, ub=1, up=1):
        super().__init__(n_checkpoints, n_timesteps)
        self.architecture = architecture or Architecture(None, sizes=[n_checkpoints])
        if self.architecture.nblevels > 2:
            raise NotImplementedError(
                "retrace.compat.pyrevolve schedules at most two storage levels, "
                f"got {self.architecture.nblevels}"
            )
        self.uf, self.ub, self.up = uf, ub, up
        self._ops = _h_actions(int(n_timesteps), list(self.architecture.sizes))
        self._at = -1

    def _current(self):
        return self._ops[max(self._at, 0)]

    def next(self):
        if self._at + 1 < len(self._ops):
            self._at += 1
        return self._ops[self._at]

    @property
    def oplist(self):
        return self._ops

    @property
    def capo(self):
        return self._current().capo

    @property
    def old_capo(self):
        return self._current().old_capo

    @property
    def cp_pointer(self):
        return self._current().ckp

    @property
    def ratio(self):
        """Forward steps taken by ``ADVANCE`` actions per step."""
        fwd = sum(a.capo - a.old_capo for a in self._ops if a.type == Action.ADVANCE)
        return fwd / self.n_timesteps if self.n_timesteps else 0.0

    @property
    def makespan(self):
        """The schedule's cost in H-Revolve's model: ``uf`` per advanced step, ``ub`` per
        reversed step, ``up`` once, each level's ``wd`` per write and ``rd`` per read."""
        arch = self.architecture
        cost = self.uf * self.ratio * self.n_timesteps + self.ub * self.n_timesteps + self.up
        for a in self._ops:
            if a.type == Action.TAKESHOT:
                cost += arch.wd[a.st_idx]
            elif a.type == Action.RESTORE:
                cost += arch.rd[a.st_idx]
        return cost

    def storage(self, k):
        """Steps the schedule stores at level ``k``, in order."""
        return [a.capo for a in self._ops if a.type == Action.TAKESHOT and a.st_idx == k]
