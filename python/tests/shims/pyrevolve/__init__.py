"""A `pyrevolve` package that is retrace's drop-in: put this directory first on sys.path (or
PYTHONPATH) and code that imports pyrevolve, Devito included, runs on retrace."""

import sys

from retrace.compat import pyrevolve as _impl
from retrace.compat.pyrevolve import *  # noqa: F401,F403
from retrace.compat.pyrevolve import __version__  # noqa: F401

for _name in ("compression", "crevolve", "profiling", "schedulers", "storage"):
    sys.modules[f"{__name__}.{_name}"] = getattr(_impl, _name)
sys.modules[f"{__name__}.pyrevolve"] = _impl
