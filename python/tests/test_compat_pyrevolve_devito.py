"""Devito's acoustic FWI gradient with checkpointing through retrace (Devito's `pyrevolve`
import redirected to retrace.compat.pyrevolve, nothing else changed): bitwise equal to the
gradient without checkpointing, as Devito's own test requires, and to pyrevolve's where that
is installed. Skipped without devito (and scipy, which Devito's seismic examples need)."""

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

for _mod in ("devito", "scipy"):
    if importlib.util.find_spec(_mod) is None:
        pytest.skip(f"{_mod} is not installed (pip install devito scipy)", allow_module_level=True)

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench" / "devito_gradient.py"
sys.path.insert(0, str(BENCH.parent))
import devito_gradient  # noqa: E402


class Args:
    shape = (40, 50)
    tn = 400.0
    space_order = 4
    nbl = 10
    dtype = "float32"
    repeat = 0


def test_checkpointed_gradient_bitwise_equal(tmp_path):
    res, grads = {}, {}
    modes = ["none", "retrace"] + (["pyrevolve"] if devito_gradient.has_real_pyrevolve() else [])
    for mode in modes:
        out = str(tmp_path / f"{mode}.npy")
        res[mode] = devito_gradient.spawn(mode, Args, out)
        grads[mode] = np.load(out)
    assert np.abs(grads["none"]).max() > 0
    assert np.array_equal(grads["retrace"], grads["none"])
    if "pyrevolve" in grads:
        assert np.array_equal(grads["retrace"], grads["pyrevolve"])


def test_devito_sees_retrace_through_the_shim():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import devito, pyrevolve; "
            "print(devito.Revolver.__module__, pyrevolve.__version__)")
    shims = str(pathlib.Path(__file__).parent / "shims")
    out = subprocess.run([sys.executable, "-c", code, shims], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["retrace.compat.pyrevolve", "2.2.8"]
