"""Checkpointing schedules as iterators of actions in the CLI's text format.

    >>> list(retrace.schedule.binomial(3, 2))[:3]
    ['store 0 ram', 'advance 0 1', 'store 1 ram']

Each action is a string: ``advance FROM TO``, ``store STEP LEVEL``, ``restore STEP LEVEL``,
``free STEP LEVEL``, ``record STEP LEVEL`` (mixed schedule: run step STEP keeping its adjoint
data in a unit), ``reverse STEP`` (LEVEL is ``ram`` or ``disk``). Pass a schedule object
(or any iterable of such strings) to ``retrace.validate`` or to ``retrace.Revolver``.
"""

from ._retrace import Online, Schedule, binomial, mixed, mixed_forward, multistage

__all__ = ["Online", "Schedule", "binomial", "mixed", "mixed_forward", "multistage", "online"]


def online(snaps):
    """The online schedule with ``snaps`` RAM slots, fed step by step as in Rust: call
    ``advance()`` before each forward step that is not the last (it returns the actions for it,
    ending with ``advance k k+1``), and ``finish()`` when the current step is the last one
    (``n = current + 1``): an iterator over the reversal's actions."""
    return Online(snaps)
