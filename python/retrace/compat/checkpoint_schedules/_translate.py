"""Lazy translation of retrace's action streams into checkpoint_schedules actions.

retrace's actions come as ``(kind, a, b)`` tuples from the native module (0 ``advance a b``,
1 ``store a LEVEL``, 2 ``restore a LEVEL``, 3 ``free a LEVEL``, 4 ``reverse a``, 5 ``record a
LEVEL``; LEVEL as b: 0 RAM, 1 disk). The translation:

- ``store K L`` + ``advance K M``  ->  ``Forward(K, M, True, False, L)``
- ``advance K M``                  ->  ``Forward(K, M, False, False, WORK)``
- ``restore K L`` + ``free K L``   ->  ``Move(K, L, WORK)``; a restore kept: ``Copy(K, L, WORK)``
- ``free K L`` on its own          ->  ``Move(K, L, NONE)``
- ``reverse K``                    ->  ``Forward(K, K+1, False, True, WORK)``, ``Reverse(K+1, K,
  True)``; after ``record K L`` (mixed): ``Move(K, L, WORK)``, ``Reverse(K+1, K, True)``
- ``record K L``                   ->  ``Forward(K, K+1, False, True, L)``

``EndForward`` follows the first action that brings the forward to ``max_n``. Nothing is
built ahead: one action of lookahead.
"""

from .schedule import Copy, EndForward, EndReverse, Forward, Move, Reverse, StorageType

_LEVELS = (StorageType.RAM, StorageType.DISK)


def translate(sched, tuples, *, levels=_LEVELS, offset=0, base=None, end_forward=True):
    """Yield the actions of ``tuples`` for the schedule ``sched`` (whose ``_n`` and ``_r`` are
    kept up to date). Steps are shifted by ``offset``. ``base``: ``(step, storage)`` of a
    checkpoint held outside the stream (its stores and frees are dropped, its restores are
    copies from ``storage``). ``end_forward``: emit ``EndForward`` on reaching ``max_n``."""
    WORK = StorageType.WORK
    max_n = sched._max_n
    ended = not end_forward
    pending = None      # (step, storage) of a store waiting for its advance
    recorded = {}       # step -> storage of a recorded step's adjoint data
    base_step = base[0] if base is not None else None
    it = iter(tuples)
    ahead = None
    while True:
        if ahead is not None:
            t, ahead = ahead, None
        else:
            t = next(it, None)
            if t is None:
                break
        kind, a, b = t
        k = a + offset
        if kind == 0:
            to = b + offset
            if pending is not None:
                if pending[0] != k:
                    raise RuntimeError(f"retrace schedule: store {pending[0]} not followed by "
                                       f"its advance (advance {k} {to})")
                action = Forward(k, to, True, False, pending[1])
                pending = None
            else:
                action = Forward(k, to, False, False, WORK)
            sched._n = to
            yield action
            if not ended and to == max_n:
                ended = True
                yield EndForward()
        elif kind == 1:
            if k == base_step:
                continue
            if pending is not None:
                raise RuntimeError(f"retrace schedule: two stores in a row ({pending[0]}, {k})")
            pending = (k, levels[b])
        elif kind == 2:
            if k == base_step:
                action = Copy(k, base[1], WORK)
            else:
                storage = levels[b]
                nxt = next(it, None)
                if nxt is not None and nxt[0] == 3 and nxt[1] == a and nxt[2] == b:
                    action = Move(k, storage, WORK)
                else:
                    ahead = nxt
                    action = Copy(k, storage, WORK)
            sched._n = k
            yield action
        elif kind == 3:
            if k == base_step:
                continue
            yield Move(k, levels[b], StorageType.NONE)
        elif kind == 4:
            if pending is not None:
                raise RuntimeError(f"retrace schedule: store {pending[0]} followed by "
                                   f"reverse {k}")
            storage = recorded.pop(k, None)
            if storage is not None:
                sched._n = k
                yield Move(k, storage, WORK)
            else:
                sched._n = k + 1
                yield Forward(k, k + 1, False, True, WORK)
                if not ended and k + 1 == max_n:
                    ended = True
                    yield EndForward()
            sched._r += 1
            yield Reverse(k + 1, k, True)
        elif kind == 5:
            storage = levels[b]
            recorded[k] = storage
            sched._n = k + 1
            yield Forward(k, k + 1, False, True, storage)
            if not ended and k + 1 == max_n:
                ended = True
                yield EndForward()
        else:
            raise RuntimeError(f"retrace schedule: unknown action kind {kind}")
    if pending is not None or recorded:
        raise RuntimeError("retrace schedule: data stored but never used")


def offline(sched, tuples, *, levels=_LEVELS):
    """An offline schedule's actions: the translation, then ``EndReverse``."""
    yield from translate(sched, tuples, levels=levels)
    if sched._r != sched._max_n:
        raise RuntimeError(f"retrace schedule reversed {sched._r} of {sched._max_n} steps")
    sched._exhausted = True
    yield EndReverse()
