"""retrace.compat.pyrevolve as Devito and pyrevolve's own tests use it: n_checkpoints=None,
empty checkpoint data, implicit dtype casting, compression, disk directories, the rest of
pyrevolve's surface, and no silent resumption after an operator failed."""

import os

import numpy as np
import pytest
from conftest import adjoint_step, reference, step

import retrace
from retrace.compat import pyrevolve as pr


class Counting(pr.Operator):
    def __init__(self):
        self.counter = 0

    def apply(self, **kw):
        assert kw["t_start"] <= kw["t_end"]
        self.counter += kw["t_end"] - kw["t_start"]


class EmptyCheckpoint(pr.Checkpoint):
    """pyrevolve's own counting checkpoint: declares 1 entry, hands over nothing."""

    def __init__(self):
        self.saves = self.loads = 0

    dtype = np.float32
    size = 1
    nbytes = 1

    def get_data(self, timestep):
        self.saves += 1
        return bytearray()

    def get_data_location(self, timestep):
        self.loads += 1
        return bytearray()


@pytest.mark.parametrize("disk", [False, True])
@pytest.mark.parametrize("nt, ncp", [(10, 2), (10, 9), (10, 12), (1, 1)])
def test_empty_checkpoint_data_stores_nothing_and_carries_on(tmp_path, disk, nt, ncp):
    cp, f, b = EmptyCheckpoint(), Counting(), Counting()
    rev = pr.SingleLevelRevolver(cp, f, b, ncp, nt, diskstorage=disk,
                                 filedir=str(tmp_path) + "/")
    rev.apply_forward()
    assert f.counter == nt and cp.saves == min(ncp, nt - 1) and cp.loads == 0
    rev.apply_reverse()
    assert b.counter == nt and cp.loads >= cp.saves


class Live:
    def __init__(self, u0, dtype=np.float64, extra=0):
        self.u = u0.copy()
        self.dtype = np.dtype(dtype)
        self.extra = extra
        self.seen = {}
        self.lam = np.ones_like(u0)


def ops(live):
    class Cp(pr.Checkpoint):
        dtype = live.dtype
        size = live.u.size + live.extra

        def get_data(self, timestep):
            return [live.u]

    class Fwd(pr.Operator):
        def apply(self, t_start, t_end):
            for _ in range(t_start, t_end):
                step(live.u)

    class Rev(pr.Operator):
        def apply(self, t_start, t_end):
            live.seen[t_start] = live.u.copy()  # the state after the forward step t_start
            adjoint_step(seen_before[t_start], live.lam)

    seen_before = {}

    class FwdRecording(Fwd):
        def apply(self, t_start, t_end):
            if t_end == t_start + 1:
                seen_before[t_start] = live.u.copy()
            super().apply(t_start, t_end)

    return Cp(), FwdRecording(), Rev()


def test_n_checkpoints_none_takes_adjust_and_is_exact(u0):
    n = 75
    states, lam_ref = reference(u0, n, np.ones_like(u0))
    live = Live(u0)
    wrp = pr.Revolver(*ops(live), None, n)
    assert wrp.n_checkpoints == retrace.schedule.adjust(n) == 5
    wrp.apply_forward()
    assert np.array_equal(live.u, states[n])
    assert wrp.apply_reverse() is None  # as pyrevolve's
    assert sorted(live.seen) == list(range(n))
    assert np.array_equal(live.lam, lam_ref)


def test_checkpoint_dtype_casts_and_size_is_an_upper_bound(u0):
    n = 30
    states, _ = reference(u0, n, np.ones_like(u0))
    # float32 checkpoints of float64 data: restored states are the float32 roundings.
    live = Live(u0, np.float32, extra=7)
    wrp = pr.Revolver(*ops(live), 3, n)
    wrp.apply_forward()
    assert np.array_equal(live.u, states[n])
    wrp.apply_reverse()
    rounded = [k for k in range(n) if not np.array_equal(live.seen[k], states[k + 1])]
    assert rounded  # some reversed steps started from a float32 checkpoint
    # A float64 checkpoint of 7 entries more than the data: exact.
    live = Live(u0, np.float64, extra=7)
    wrp = pr.Revolver(*ops(live), 3, n)
    wrp.apply_forward()
    wrp.apply_reverse()
    assert all(np.array_equal(live.seen[k], states[k + 1]) for k in range(n))
    # Casting that numpy refuses (float into int) is refused.
    live = Live(u0, np.int64)
    wrp = pr.Revolver(*ops(live), 3, n)
    with pytest.raises(TypeError):
        wrp.apply_forward()


@pytest.mark.parametrize("failing", ["reverse", "forward"])
def test_a_failed_call_is_not_resumed(u0, failing):
    class Boom(Exception):
        pass

    live = Live(u0)
    cp, fwd, rev = ops(live)
    armed = [True]
    inner = rev.apply if failing == "reverse" else fwd.apply

    def flaky(t_start, t_end):
        if armed[0] and t_start <= 17 < t_end and (failing == "reverse" or live.seen == {}):
            armed[0] = False
            raise Boom("once")
        inner(t_start, t_end)

    if failing == "reverse":
        rev.apply = flaky
    else:
        fwd.apply = flaky
    wrp = pr.Revolver(cp, fwd, rev, 4, 40)
    if failing == "forward":
        with pytest.raises(Boom):
            wrp.apply_forward()
    else:
        wrp.apply_forward()
        with pytest.raises(Boom):
            wrp.apply_reverse()
    for call in (wrp.apply_reverse, wrp.apply_forward):
        with pytest.raises(RuntimeError, match="previous call"):
            call()


@pytest.mark.parametrize("scheme", pr.compression.compressors_available)
def test_compression_round_trip(scheme, u0):
    comp, decomp = pr.compression.init_compression({"scheme": scheme})
    store = pr.BytesStorage(u0.size + 10, 3, np.float64, (comp, decomp))
    a, b = u0.copy(), np.arange(10.0)
    store.save(2, [a, b])
    a2, b2 = np.empty_like(a), np.empty_like(b)
    store.load(2, [a2, b2])
    assert np.array_equal(a, a2) and np.array_equal(b, b2)
    if scheme is not None:
        zeros = np.zeros(4096)
        assert len(comp(zeros).data) < zeros.nbytes / 10  # it does compress
    # Through a revolver: the same bits as without compression.
    n = 40
    results = []
    for params in ({"scheme": scheme}, None):
        live = Live(u0)
        wrp = pr.Revolver(*ops(live), 4, n, compression_params=params)
        wrp.apply_forward()
        wrp.apply_reverse()
        results.append(live.lam)
    assert np.array_equal(results[0], results[1])
    if scheme is not None:
        assert isinstance(wrp.storage_list[0], pr.NumpyStorage)


def test_compression_errors_and_custom():
    with pytest.raises(ValueError, match="not offered"):
        pr.compression.init_compression({"scheme": "blosc"})
    calls = []

    def c(params, x):
        calls.append(params)
        return pr.compression.compressors[None](params, x)

    comp, decomp = pr.compression.init_compression(
        {"scheme": "custom", "compressor": c, "decompressor": pr.compression.decompressors[None],
         "level": 3})
    store = pr.BytesStorage(4, 1, np.float32, (comp, decomp))
    store.save(0, [np.ones(4, np.float32)])
    assert calls == [{"level": 3}]
    with pytest.raises(ValueError, match="bytes"):
        store.save(0, [np.ones(5, np.float32)])  # 20 bytes, the slot takes 16
    with pytest.raises(IndexError):
        store.save(1, [np.ones(4, np.float32)])


def test_missing_filedir_is_created_and_cleaned(u0, tmp_path):
    base = tmp_path / "not" / "yet"
    live = Live(u0)
    wrp = pr.DiskRevolver(*ops(live), 3, 20, filedir=str(base) + "/")
    (dat,) = list(base.iterdir())
    assert dat.name.startswith("dat_D") and dat.name.endswith(f"_PID{os.getpid()}")
    assert wrp.storage_list[0].filedir == str(base) + "/" + dat.name + "/"
    wrp.apply_forward()
    assert any(dat.rglob("*"))  # retrace's slot files are in there
    wrp.apply_reverse()
    del wrp
    import gc

    gc.collect()
    assert not dat.exists()


def test_the_rest_of_the_surface(u0, tmp_path):
    assert pr.__version__ == "2.2.8"
    assert pr.Action is pr.crevolve.Action and pr.CRevolve is pr.crevolve.CRevolve
    assert pr.schedulers.Revolve is pr.schedulers.CRevolve
    assert pr.crevolve.maxrange(3, 4) == 35 and pr.crevolve.numforw(10, 3) == 15
    assert pr.crevolve.expense(10, 3) == 1.5
    live = Live(u0)
    cp, fwd, rev = ops(live)
    wrp = pr.Revolver(cp, fwd, rev, 3, 10)
    assert wrp.ratio == 1.5 and isinstance(wrp.scheduler, pr.schedulers.CRevolve)
    assert wrp.makespan == 0 and wrp.storage_ckps() == [0, 4, 7, 5, 1, 2]
    assert repr(wrp.scheduler.oplist[1]) == '{"type": "ADVANCE", "from": 0, "to": 4, "ckp": 0}'
    assert wrp.addNumpyStorage() == 1 and wrp.addDiskStorage(filedir=str(tmp_path) + "/") == 2
    assert isinstance(wrp.storage_list[2], pr.DiskStorage)
    wrp.removeStorage(2)
    wrp.removeStorage(1)
    wrp.apply_forward()
    wrp.apply_reverse()
    counts = wrp.profiler.counts
    assert counts["forward"] == {"takeshot": 3, "advance": 3, "lastfw": 1}
    assert counts["reverse"]["reverse"] == 10
    assert "In section reverse:" in wrp.profiler.summary()
    assert wrp.profiler.get_dict()["reverse_reverse_counts"] == 10
    with pytest.raises(pr.RevolveError, match="10000"):
        pr.crevolve.CRevolve(10001, 20000).revolve()  # C++ Revolve's limit on snaps
    with pytest.raises(NotImplementedError):
        pr.crevolve.CRevolve(3)  # online Revolve
    h = pr.HRevolve(4, 10, pr.schedulers.Architecture(None, sizes=[4]))
    assert h.next().type == pr.schedulers.Action.TAKESHOT and h.ratio >= 1


class Wave:
    """A Devito-like leapfrog wave solver: a 3-level modulo time buffer for u (forward) and v
    (adjoint), operators over ``time_m..time_M`` and a gradient accumulated in reverse."""

    def __init__(self, nx=64, save=False, nt=0):
        x = np.linspace(0.0, 1.0, nx)
        self.c = 0.2 + 0.1 * np.sin(3 * x)
        self.src = np.sin(np.arange(nt + 3) * 0.3)
        self.u = np.zeros((nt + 3 if save else 3, nx))
        self.v = np.zeros((3, nx))
        self.grad = np.zeros(nx)
        self.rec = np.cos(np.arange(nt + 3) * 0.2)
        self.save = save

    def _u(self, t):
        return self.u[t if self.save else t % 3]

    def forward(self, time_m, time_M):
        for t in range(time_m, time_M + 1):
            ut = self._u(t)
            lap = np.roll(ut, 1) - 2 * ut + np.roll(ut, -1)
            nxt = 2 * ut - self._u(t - 1) + self.c * lap
            nxt[3] += self.src[t]
            self._u(t + 1)[:] = nxt

    def gradient(self, time_m, time_M):
        for t in range(time_M, time_m - 1, -1):
            vt = self.v[t % 3]
            lap = np.roll(vt, 1) - 2 * vt + np.roll(vt, -1)
            prev = 2 * vt - self.v[(t + 1) % 3] + self.c * lap
            prev[7] += self.rec[t]
            self.v[(t - 1) % 3] = prev
            self.grad += self._u(t) * vt


def test_devito_style_checkpoint_operator_gradient_is_exact():
    """Devito's CheckpointOperator / DevitoCheckpoint pattern: t_start/t_end become
    time_m = t_start + 1, time_M = t_end; a checkpoint is the two time levels u[k+1], u[k]
    (views into the modulo buffer); n_checkpoints=None as Devito's wave solvers pass it."""

    class CheckpointOperator(pr.Operator):
        def __init__(self, op):
            self.op = op

        def apply(self, t_start, t_end):
            self.op(time_m=t_start + 1, time_M=t_end - 1 + 1)

    class DevitoCheckpoint(pr.Checkpoint):
        def __init__(self, wave):
            self.wave = wave

        @property
        def dtype(self):
            return self.wave.u.dtype

        @property
        def size(self):
            return 2 * self.wave.u.shape[1]

        def get_data(self, timestep):
            return [self.wave.u[(timestep + 1 - i) % 3] for i in range(2)]

    nt = 120
    ref = Wave(save=True, nt=nt)
    ref.forward(1, nt)
    ref.gradient(1, nt)
    wave = Wave(nt=nt)
    wrp = pr.Revolver(DevitoCheckpoint(wave), CheckpointOperator(wave.forward),
                      CheckpointOperator(wave.gradient), None, nt)
    wrp.apply_forward()
    assert np.array_equal(wave.u[(nt + 1) % 3], ref.u[nt + 1])
    wrp.apply_reverse()
    assert wrp.n_checkpoints == 5 and np.abs(ref.grad).max() > 0
    assert np.array_equal(wave.grad, ref.grad)
