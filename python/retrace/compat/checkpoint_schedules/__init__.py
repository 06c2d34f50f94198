"""checkpoint_schedules 1.0.4's public API on retrace's schedules: code written for
``checkpoint_schedules`` (firedrake, pyadjoint, tlm_adjoint) runs with one changed import::

    from retrace.compat.checkpoint_schedules import Revolve, Forward, Reverse, EndReverse

or, for code that imports ``checkpoint_schedules`` itself, a one-line package
``checkpoint_schedules/__init__.py`` holding
``from retrace.compat.checkpoint_schedules import *``.

Schedules are iterators of actions (``Forward``, ``Reverse``, ``Copy``, ``Move``,
``EndForward``, ``EndReverse``), produced lazily from retrace's Rust schedules: the first
action of ``Revolve(10**6, 100)`` arrives at once. Submodules as in checkpoint_schedules:
``schedule``, ``basic_schedules``, ``multistage``, ``hrevolve``, ``mixed``,
``twolevel_binomial``.
"""

from .schedule import *  # noqa: F401, F403
from .hrevolve import *  # noqa: F401, F403
from .multistage import *  # noqa: F401, F403
from .basic_schedules import *  # noqa: F401, F403
from .mixed import *  # noqa: F401, F403
from .twolevel_binomial import *  # noqa: F401, F403
from . import schedule, hrevolve, multistage, basic_schedules, mixed, twolevel_binomial  # noqa

__version__ = "1.0.4"
