"""pyrevolve-style user code run through retrace.compat.pyrevolve (only the import changed)."""

import numpy as np
import pytest
from conftest import adjoint_step, reference, step

from retrace.compat import pyrevolve as pr


class Field:
    """Live data the way a solver holds it: the current state, the previous one (as a time
    buffer would) and a step counter saved with the checkpoint (float64: pyrevolve's storage
    holds everything in the checkpoint's dtype)."""

    def __init__(self, u0):
        self.cur = u0.copy()
        self.prev = np.zeros_like(u0)
        self.t = np.zeros(1)


class MyCheckpoint(pr.Checkpoint):
    def __init__(self, field):
        self.field = field
        self.saved, self.loaded = [], []

    @property
    def dtype(self):
        return np.float64

    @property
    def size(self):
        return self.field.cur.size + 1  # the counter is 8 bytes too

    def get_data(self, timestep):
        assert self.field.t[0] == timestep  # saves see the state of their step
        self.saved.append(timestep)
        return [self.field.cur, self.field.t]

    def get_data_location(self, timestep):
        self.loaded.append(timestep)
        return [self.field.cur, self.field.t]


class Forward(pr.Operator):
    def __init__(self, field):
        self.field = field
        self.steps = 0

    def apply(self, t_start, t_end):
        f = self.field
        assert f.t[0] == t_start, (f.t[0], t_start)  # loads restored the right step
        for _ in range(t_start, t_end):
            f.prev[:] = f.cur
            step(f.cur)
            f.t[0] += 1
        self.steps += t_end - t_start


class Reverse(pr.Operator):
    def __init__(self, field):
        self.field = field
        self.lam = np.ones_like(field.cur)
        self.calls = []

    def apply(self, t_start, t_end):
        f = self.field
        assert t_end == t_start + 1 and f.t[0] == t_end  # after the forward step of t_start
        self.calls.append((t_start, f.prev.copy()))
        adjoint_step(f.prev, self.lam)


def make(u0):
    field = Field(u0)
    return field, MyCheckpoint(field), Forward(field), Reverse(field)


def run(u0, n, build):
    field, cp, fwd, rev = make(u0)
    wrev = build(cp, fwd, rev)
    wrev.apply_forward()
    after_forward = (fwd.steps, field.cur.copy(), int(field.t[0]))
    wrev.apply_reverse()
    return after_forward, rev, cp, fwd


N = 60


def memory(cp, fwd, rev):
    return pr.Revolver(cp, fwd, rev, 5, N)


def single_disk(tmp):
    return lambda cp, fwd, rev: pr.SingleLevelRevolver(
        cp, fwd, rev, 5, N, diskstorage=True, filedir=str(tmp) + "/", singlefile=True
    )


def multilevel(tmp):
    def build(cp, fwd, rev):
        ram = pr.NumpyStorage(cp.size, 2, cp.dtype)
        disk = pr.DiskStorage(cp.size, 3, cp.dtype, filedir=str(tmp) + "/")
        return pr.MultiLevelRevolver(cp, fwd, rev, N, [ram, disk])

    return build


def test_memory_revolver_matches_store_all(u0):
    states, lam_ref = reference(u0, N, np.ones_like(u0))
    (fwd_steps, u_end, t_end), rev, cp, fwd = run(u0, N, memory)
    assert fwd_steps == N and t_end == N
    assert np.array_equal(u_end, states[N])
    assert [k for k, _ in rev.calls] == list(range(N - 1, -1, -1))
    for k, seen in rev.calls:
        assert np.array_equal(seen, states[k]), k
    assert np.array_equal(rev.lam, lam_ref)
    # Every load is of a step saved before and not yet freed; each save is loaded at least once
    # unless it is the last step's.
    assert set(cp.loaded) <= set(cp.saved)
    assert pr.MemoryRevolver is not None and pr.Revolver is pr.MemoryRevolver


@pytest.mark.parametrize("variant", ["disk", "multilevel"])
def test_disk_and_multilevel_identical_to_memory(u0, tmp_path, variant):
    ref_fwd, ref_rev, _, _ = run(u0, N, memory)
    build = single_disk(tmp_path) if variant == "disk" else multilevel(tmp_path)
    got_fwd, got_rev, _, _ = run(u0, N, build)
    assert got_fwd[0] == ref_fwd[0] and got_fwd[2] == ref_fwd[2]
    assert np.array_equal(got_fwd[1], ref_fwd[1])
    assert np.array_equal(got_rev.lam, ref_rev.lam)
    assert [k for k, _ in got_rev.calls] == [k for k, _ in ref_rev.calls]
    for (_, a), (_, b) in zip(got_rev.calls, ref_rev.calls):
        assert np.array_equal(a, b)


def test_multilevel_uses_both_levels(u0, tmp_path):
    field, cp, fwd, rev = make(u0)
    ram = pr.NumpyStorage(cp.size, 2, cp.dtype)
    disk = pr.DiskStorage(cp.size, 3, cp.dtype, filedir=str(tmp_path) + "/")
    wrev = pr.MultiLevelRevolver(cp, fwd, rev, N, [ram, disk])
    assert wrev.storage_ckps(0) and wrev.storage_ckps(1)  # both levels get checkpoints
    assert wrev.makespan > 2 * N and wrev.ratio >= 1
    wrev.apply_forward()
    assert disk.size > 0 and ram.size > 0
    wrev.apply_reverse()
    assert disk.size == 0 and ram.size == 0


def test_wrong_sizes_and_unsupported(u0):
    field, cp, fwd, rev = make(u0)
    bad = pr.MultiLevelRevolver(cp, fwd, rev, N, [pr.NumpyStorage(cp.size - 1, 3, cp.dtype)])
    with pytest.raises(ValueError, match="entries"):
        bad.apply_forward()
    with pytest.raises(ValueError, match="not offered"):
        pr.SingleLevelRevolver(cp, fwd, rev, 5, N, compression_params={"scheme": "zfp"})
    with pytest.raises(ValueError, match="at least 1"):
        pr.SingleLevelRevolver(cp, fwd, rev, 0, N)
    with pytest.raises(ValueError, match="online"):
        pr.Revolver(cp, fwd, rev, 5, None)


def test_same_as_pyrevolve_itself(u0):
    """Where pyrevolve 2.2 is installed: the same user code gives the same calls and bits."""
    real = pytest.importorskip("pyrevolve")
    results = []
    for module in (real, pr):
        field = Field(u0)
        # pyrevolve's Checkpoint declares abstract properties; the subclass above implements
        # them, so rebuild it on the module's own base class.
        cls = type("Cp", (module.Checkpoint,), dict(MyCheckpoint.__dict__))
        cp = cls(field)
        fwd_cls = type("Fwd", (module.Operator,), dict(Forward.__dict__))
        rev_cls = type("Rev", (module.Operator,), dict(Reverse.__dict__))
        fwd, rev = fwd_cls(field), rev_cls(field)
        wrev = module.Revolver(cp, fwd, rev, 5, N)
        wrev.apply_forward()
        after = (fwd.steps, field.cur.copy())
        wrev.apply_reverse()
        results.append((after, rev.calls, rev.lam))
    (a1, calls1, lam1), (a2, calls2, lam2) = results
    assert a1[0] == a2[0] == N and np.array_equal(a1[1], a2[1])
    assert [k for k, _ in calls1] == [k for k, _ in calls2]
    for (_, x), (_, y) in zip(calls1, calls2):
        assert np.array_equal(x, y)
    assert np.array_equal(lam1, lam2)
