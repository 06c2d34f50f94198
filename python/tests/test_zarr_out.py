"""Zarr outputs open with the standard tools: transition paths of a Python model's run and of
a built-in model's run (`retrace.db.open(dir).paths`), and a Monte Carlo ensemble output
(`[output]`), read with zarr.open and xarray.open_zarr; the score function applied to the
exported states gives the run's recorded scores bit for bit."""

import math

import numpy as np
import pytest

import retrace

zarr = pytest.importorskip("zarr", reason="zarr is not installed (pip install zarr)")


class Field:
    """A (2, 2) Ornstein-Uhlenbeck field; score: the mean."""

    noise_size = 4

    def __init__(self, epsilon=0.3):
        self.epsilon = epsilon

    def initial_state(self):
        return np.zeros((2, 2))

    def step(self, x, t, dt, noise):
        x += -x * dt + math.sqrt(2.0 * self.epsilon * dt) * noise.reshape(2, 2)

    def score(self, x, t):
        return float(x.mean())


class IntWalk(Field):
    def initial_state(self):
        return np.zeros(2, dtype=np.int64)


def config(**extra):
    return {
        "tams": {"ntrajectories": 16, "nsplititer": 200, "seed": 3},
        "trajectory": {"end_time": 1.0, "step_size": 0.01, "targetscore": 0.5},
        **extra,
    }


@pytest.fixture(scope="module")
def python_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zarr")
    retrace.tams(Field(), config(), db=tmp / "run", threads=2)
    return tmp


def test_python_model_paths_reproduce_the_recorded_scores(python_run):
    out = python_run / "paths.zarr"
    run = retrace.db.open(python_run / "run")
    summary = run.paths(Field(), out, stride=2, select="alive", threads=2)
    g = zarr.open(str(out), mode="r")
    states = g["states"][:]
    assert states.shape[0] == summary["paths"] == 16
    assert states.shape[2:] == (2, 2) and states.dtype == np.float64
    model = Field()
    for p, tid in enumerate(g["ids"][:]):
        recorded = run.scores(int(tid))
        n = int(g["lengths"][p])
        assert n == (len(recorded) - 1) // 2 + 1
        for k in range(n):
            s = model.score(states[p, k], k * 2 * 0.01)
            assert s == recorded[2 * k]
            assert g["scores"][p, k] == recorded[2 * k]
        assert np.isnan(states[p, n:]).all()
    assert g.attrs["retrace"]["stride"] == 2
    assert g.attrs["model"]["epsilon"] == 0.3


def test_refusals(python_run):
    run = retrace.db.open(python_run / "run")
    with pytest.raises(TypeError, match="float64"):
        run.paths(IntWalk(), python_run / "int.zarr")
    with pytest.raises(retrace.ConfigError, match="model.epsilon"):
        run.paths(Field(epsilon=0.4), python_run / "other.zarr")
    run.paths(Field(), python_run / "twice.zarr", select=[0, 3])
    with pytest.raises(FileExistsError):
        run.paths(Field(), python_run / "twice.zarr", select=[0, 3])
    with pytest.raises(KeyError):
        run.paths(Field(), python_run / "none.zarr", select=[10_000])


def test_builtin_paths_and_xarray(tmp_path):
    xr = pytest.importorskip("xarray", reason="xarray is not installed (pip install xarray)")
    cfg = config(model={"name": "doublewell2d", "epsilon": 0.1})
    cfg["trajectory"]["targetscore"] = 0.3
    retrace.tams(None, cfg, db=tmp_path / "run", threads=2)
    run = retrace.db.open(tmp_path / "run")
    summary = run.paths(None, tmp_path / "p.zarr", select="all")
    ds = xr.open_zarr(str(tmp_path / "p.zarr"), consolidated=False)
    assert ds["states"].dims == ("path", "time", "dim_0")
    assert ds["states"].shape[0] == summary["paths"] == len(run.trajectories["id"])
    assert ds["time"].shape == (summary["times"],)


def test_montecarlo_ensemble_output(tmp_path):
    xr = pytest.importorskip("xarray", reason="xarray is not installed (pip install xarray)")
    out = tmp_path / "ens.zarr"
    cfg = config(
        model={"name": "doublewell2d", "epsilon": 0.1},
        sampler={"strategy": "montecarlo"},
        output={"path": str(out), "stride": 4, "chunk": 8},
    )
    with_output = retrace.tams(None, cfg, threads=2)
    del cfg["output"]
    plain = retrace.tams(None, cfg, threads=1)
    assert with_output["estimate"] == plain["estimate"]
    g = zarr.open(str(out), mode="r")
    assert g["data"].shape == (2, 16, 26)
    assert g["time"].shape == (26,)
    assert np.allclose(g["time"][:], np.arange(26) * 0.04)
    assert not np.isnan(g["data"][:, :, 0]).any()
    ds = xr.open_zarr(str(out), consolidated=False)
    assert ds["data"].dims == ("d_X", "N", "M")


@pytest.mark.parametrize("compression", ["none", "zstd:1:1", "zstd:3"])
def test_compression_choices_read_back_the_same(python_run, compression):
    run = retrace.db.open(python_run / "run")
    default = python_run / "paths-default.zarr"
    if not default.exists():
        run.paths(Field(), default, select="all")
    out = python_run / f"paths-{compression}.zarr"
    run.paths(Field(), out, select="all", compression=compression)
    a = zarr.open(str(default), mode="r")["states"]
    b = zarr.open(str(out), mode="r")["states"]
    np.testing.assert_array_equal(a[:], b[:])
    names = [type(c).__name__ for c in b.compressors]
    want = {"none": [], "zstd:1:1": ["ZstdCodec"], "zstd:3": ["Shuffle", "ZstdCodec"]}
    assert names == want[compression]
    if compression == "zstd:3":
        assert b.compressors[-1].level == 3
    assert zarr.open(str(out), mode="r").attrs["retrace"]["compression"] == compression


def test_lossy_or_unknown_compression_is_refused(python_run):
    run = retrace.db.open(python_run / "run")
    for bad in ["zfp:1e-6", "lz4"]:
        with pytest.raises(ValueError, match="compression"):
            run.paths(Field(), python_run / "bad.zarr", compression=bad)
    assert not (python_run / "bad.zarr").exists()
