"""pyrevolve's ``crevolve``: the low-level offline Revolve driver (Griewank & Walther) with the
calling conventions of pyrevolve 2.2.8's compiled module, written in Python.

``CRevolve(snapshots, timesteps).revolve()`` returns the next :class:`Action`; ``capo``,
``oldcapo``, ``check`` (the snapshot slot), ``fine``, ``advances`` and ``info`` then describe it
exactly as C++ Revolve's offline schedule does (same splits, same slot numbers), so code that
drives it itself sees the same sequence. ``adjust`` is retrace's ``revolve::schedule::adjust``.

Not offered: the online (``timesteps=None``) and multistage (``snapshots_disk``) variants; they
raise ``NotImplementedError``.
"""

from enum import Enum

from ...schedule import adjust

__all__ = ["Action", "CRevolve", "RevolveError", "adjust", "expense", "maxrange", "numforw"]

# C++ Revolve's fixed limits (its arrays' sizes).
CHECKUP = 10000
REPSUP = 6400
MAXINT = 2147483647


class RevolveError(Exception):
    """An error C++ Revolve reports through its ``info`` code (``errCodes`` maps them)."""

    errCodes = {
        10: "Number of checkpoints stored exceeds the limit of 10000.",
        11: "Number of checkpoints stored exceeds snaps.",
        12: "numforw failed: snaps must be between 1 and 10000.",
        13: "Enhancement of 'fine': increase 'snaps'.",
        14: "Number of snaps exceeds the limit of 10000.",
        15: "Number of repetitions exceeds the limit of 6400.",
    }


class Action(Enum):
    """What the caller does next (C++ Revolve's action codes)."""

    advance = 1
    takeshot = 2
    restore = 3
    firstrun = 4
    youturn = 5
    terminate = 6
    error = 7


def maxrange(snapshots, timefactor):
    """``C(snapshots + timefactor, timefactor)``: the steps ``snapshots`` snapshots reverse with
    at most ``timefactor`` repetitions (capped at 2^31 - 1; -1 for a negative argument)."""
    if snapshots < 0 or timefactor < 0:
        return -1
    res = 1
    for i in range(1, timefactor + 1):
        res = res * (snapshots + i) // i
        if res > MAXINT:
            return MAXINT
    return res


def _repetitions(steps, snaps):
    """``(r, β(snaps, r))``: the least repetition count whose reach covers ``steps``."""
    reps, reach = 0, 1
    while reach < steps:
        reps += 1
        reach = reach * (reps + snaps) // reps
    return reps, reach


def numforw(timesteps, snapshots):
    """Forward steps of the optimal schedule (-1 outside Revolve's limits)."""
    if snapshots < 1 or snapshots > CHECKUP:
        return -1
    reps, reach = _repetitions(timesteps, snapshots)
    if reps > REPSUP:
        return -1
    return reps * timesteps - reach * reps // (snapshots + 1)


def expense(timesteps, snapshots):
    """``numforw / timesteps`` (-1 for bad arguments)."""
    if snapshots < 1 or timesteps < 1:
        return -1.0
    num = numforw(timesteps, snapshots)
    if num == -1:
        return -1.0
    return num / timesteps


class CRevolve:
    """The offline Revolve state machine: ``revolve()`` gives the next action.

    ``snapshots`` slots (at least 1), ``timesteps`` steps. ``check`` is the slot of the last
    snapshot taken or restored (-1 when none is held); ``capo`` the step the state is at after
    the action, ``oldcapo`` before it; ``fine`` the end of the part still to reverse.
    """

    def __init__(self, snapshots, timesteps=None, snapshots_disk=None):
        if timesteps is None:
            raise NotImplementedError(
                "online Revolve (timesteps=None) is not offered by retrace.compat.pyrevolve"
            )
        if snapshots_disk is not None:
            raise NotImplementedError(
                "multistage CRevolve (snapshots_disk) is not offered by "
                "retrace.compat.pyrevolve: use MultiLevelRevolver"
            )
        snapshots, timesteps = int(snapshots), int(timesteps)
        if snapshots < 1:
            # C++ Revolve writes past its arrays here (pyrevolve crashes); refuse instead.
            raise ValueError(f"snapshots must be at least 1, got {snapshots}")
        if timesteps < 0:
            raise ValueError(f"timesteps must be at least 0, got {timesteps}")
        self._snaps = snapshots
        self._steps = timesteps
        self._slot_step = [0] * snapshots  # step held by each slot
        self._check = -1
        self._capo = 0
        self._oldcapo = 0
        self._fine = timesteps
        self._oldfine = timesteps
        self._turned = False
        self._info = 0
        self._advances = 0

    @property
    def info(self):
        """0 before the first call, 3 after, an error code after an error."""
        return self._info

    @property
    def advances(self):
        """Forward steps taken by ``advance`` actions so far."""
        return self._advances

    @property
    def check(self):
        """The snapshot slot of the current action (-1: none)."""
        return self._check

    @property
    def checkram(self):
        """Multistage only: always -1 here."""
        return -1

    @property
    def checkrom(self):
        """Multistage only: always -1 here."""
        return -1

    @property
    def capo(self):
        """The step the state is at."""
        return self._capo

    @property
    def fine(self):
        """The end of the part still to reverse."""
        return self._fine

    @property
    def oldcapo(self):
        """``capo`` before the last action."""
        return self._oldcapo

    @property
    def where(self):
        """Whether the current slot is in RAM: always 1 for the single-level schedule."""
        return 1

    def turn(self, final):
        """Online Revolve only."""
        raise NotImplementedError("turn() belongs to online Revolve, not offered here")

    def _fail(self, code):
        self._info = code
        raise RevolveError(RevolveError.errCodes[code])

    def revolve(self):
        """The next action (raises :class:`RevolveError` where C++ Revolve reports an error)."""
        self._oldcapo = self._capo
        self._info = 3
        capo, fine, check = self._capo, self._fine, self._check
        if capo > fine:
            self._fail(11)
        if check == -1 and capo < fine:
            # Nothing held yet: slot 0 is marked as holding no step.
            self._turned = False
            self._slot_step[0] = capo - 1
        left = fine - capo
        if left == 0:
            # Back to the latest snapshot, unless everything is reversed.
            if check == -1 or capo == self._slot_step[0]:
                return Action.terminate
            self._capo = self._slot_step[check]
            self._oldfine = fine
            return Action.restore
        if left == 1:
            # A forward step and its reverse: the first one is the end of the forward sweep.
            self._fine = fine - 1
            if check >= 0 and self._slot_step[check] == capo:
                self._check = check - 1
            self._oldfine = self._fine
            if not self._turned:
                self._turned = True
                return Action.firstrun
            return Action.youturn
        if check == -1:
            # The initial state goes into slot 0.
            if self._snaps > CHECKUP:
                self._fail(14)
            if numforw(left, self._snaps) == -1:
                self._fail(12)
            self._check = 0
            self._slot_step[0] = capo
            self._oldfine = fine
            return Action.takeshot
        if self._slot_step[check] != capo:
            # The state is not held: take it into the next slot.
            check += 1
            if check >= CHECKUP:
                self._fail(10)
            if check + 1 > self._snaps:
                self._fail(11)
            self._check = check
            self._slot_step[check] = capo
            self._oldfine = fine
            return Action.takeshot
        # Advance to Revolve's split point of [capo, fine) with the free slots.
        if self._oldfine < fine and self._snaps == check + 1:
            self._fail(13)
        free = self._snaps - check
        reps, reach = _repetitions(left, free)
        if reps > REPSUP:
            self._fail(15)
        b1 = reach * reps // (free + reps)
        b2 = b1 * free // (free + reps - 1) if free > 1 else 1
        if free == 1:
            b3 = 0
        else:
            b3 = b2 * (free - 1) // (free + reps - 2) if free > 2 else 1
        b4 = b2 * (reps - 1) // free
        if free < 3:
            b5 = 0
        else:
            b5 = b3 * (free - 2) // reps if free > 3 else 1
        if left <= b1 + b3:
            target = capo + b4
        elif left >= reach - b5:
            target = capo + b1
        else:
            target = fine - b2 - b3
        if target == capo:
            target = capo + 1
        self._advances += target - capo
        self._capo = target
        self._oldfine = fine
        return Action.advance
