"""pyTAMS 1.0 on retrace: model classes, input files and driver scripts written for pyTAMS run
unchanged once the prefix `pytams` of their imports reads `retrace.compat.pytams`:

    from retrace.compat.pytams.fmodel import ForwardModelBaseClass   # was: pytams.fmodel
    from retrace.compat.pytams.tams import TAMS                      # was: pytams.tams
    from retrace.compat.pytams.database import Database              # was: pytams.database
    p = TAMS(fmodel_t=MyModel, a_args=["-i", "input.toml"]).compute_probability()

pyTAMS need not be installed. The modules mirror pyTAMS's: `fmodel`, `tams`, `database`,
`trajectory`, `utils`. `run(MyModel, "input.toml")` gives retrace's full report. What differs
from pyTAMS (noise from retrace's streams, fixed steps, per-thread model instances, states held
as bytes when they are not numeric) is in docs/compat.md, section pyTAMS.
"""

from .database import Database
from .fmodel import ForwardModelBaseClass
from .tams import TAMS, run
from .trajectory import Trajectory

__all__ = ["Database", "ForwardModelBaseClass", "TAMS", "Trajectory", "run"]
