"""retrace.Revolver on numpy arrays: bitwise gradients, disk, exceptions, counts, Ctrl-C."""

import gc
import os
import signal

import numpy as np
import pytest
import retrace
from conftest import adjoint_step, reference, step, step_out


def in_place_ops(log):
    def forward(u, t0, t1):
        for _ in range(t0, t1):
            step(u)

    def reverse(u, lam, k):
        log.append((k, u.copy()))
        adjoint_step(u, lam)

    return forward, reverse


def out_of_place_ops(log):
    def forward(u_in, u_out, t0, t1):
        step_out(u_in, u_out)
        for _ in range(t0 + 1, t1):
            step(u_out)

    _, reverse = in_place_ops(log)
    return forward, reverse


def both_ops(log):
    """In-place forward plus an out-of-place forward_from."""
    fwd, rev = in_place_ops(log)
    fwd_from, _ = out_of_place_ops(log)
    return (fwd, fwd_from), rev


def run(u0, n, ops, **kw):
    log = []
    fwd, rev = ops(log)
    u = u0.copy()
    if ops is both_ops:
        fwd, kw["forward_from"] = fwd
    rv = retrace.Revolver(u, fwd, rev, n, out_of_place=(ops is out_of_place_ops), **kw)
    out = rv.apply_forward()
    assert out is u
    lam = np.ones_like(u0)
    assert rv.apply_reverse(lam) is lam
    return u, lam, log, rv


@pytest.mark.parametrize("ops", [in_place_ops, out_of_place_ops, both_ops])
@pytest.mark.parametrize("n,snaps", [(1, 1), (2, 1), (37, 4), (200, 7)])
def test_gradient_bitwise_equals_store_all(u0, ops, n, snaps):
    states, lam_ref = reference(u0, n, np.ones_like(u0))
    u, lam, log, rv = run(u0, n, ops, snaps=snaps)
    assert np.array_equal(u, states[n])
    assert np.array_equal(lam, lam_ref)
    assert [k for k, _ in log] == list(range(n - 1, -1, -1))
    for k, seen in log:
        assert np.array_equal(seen, states[k]), k


@pytest.mark.parametrize("ops", [in_place_ops, out_of_place_ops, both_ops])
def test_disk_variant_identical(u0, ops, tmp_path):
    n = 120
    u_ram, lam_ram, log_ram, _ = run(u0, n, ops, snaps=6)
    u_disk, lam_disk, log_disk, rv = run(
        u0, n, ops, snaps=2, disk_dir=str(tmp_path), disk_snaps=4
    )
    assert np.array_equal(u_ram, u_disk)
    assert np.array_equal(lam_ram, lam_disk)
    assert rv.stats["schedule"]["stores_disk"] > 0
    for (k1, a), (k2, b) in zip(log_ram, log_disk):
        assert k1 == k2 and np.array_equal(a, b)
    assert len(list(tmp_path.rglob("*.ckpt"))) == 4  # the disk slots
    del rv  # the store removes its files
    gc.collect()
    assert not list(tmp_path.rglob("*.ckpt"))


def test_counts_match_schedule(u0):
    n, snaps = 100, 5
    expect = retrace.validate(retrace.schedule.binomial(n, snaps), n, snaps)
    for ops in (in_place_ops, out_of_place_ops, both_ops):
        _, _, _, rv = run(u0, n, ops, snaps=snaps)
        st = rv.stats
        assert st["schedule"] == expect
        assert st["forward_steps"] == expect["advanced"] + 1
        assert st["reverse_steps"] == n
        if ops is in_place_ops:
            assert st["copies"] > 0 and st["out_of_place"] == 0
        else:
            # Out of place, no checkpoint is copied: every store hands its buffer over.
            assert st["handover_stores"] == expect["stores_ram"]
            assert st["copies"] == 0 and st["out_of_place"] > 0


def test_forward_from_is_called_only_from_checkpoints(u0):
    calls = {"in": 0, "out": 0}

    def fwd(u, t0, t1):
        calls["in"] += 1
        for _ in range(t0, t1):
            step(u)

    def fwd_from(u_in, u_out, t0, t1):
        calls["out"] += 1
        assert not u_in.flags.writeable and u_out.flags.writeable
        step_out(u_in, u_out)
        for _ in range(t0 + 1, t1):
            step(u_out)

    rv = retrace.Revolver(u0.copy(), fwd, lambda u, lam, k: None, 50, snaps=4,
                          forward_from=fwd_from)
    rv.apply_forward()
    rv.apply_reverse(np.ones_like(u0))
    assert calls["out"] == rv.stats["out_of_place"] + 1  # + the last step, to u_n
    with pytest.raises(ValueError, match="not both"):
        retrace.Revolver(u0.copy(), fwd_from, fwd, 5, snaps=2, out_of_place=True,
                         forward_from=fwd_from)


def test_schedule_argument(u0):
    n = 30
    states, lam_ref = reference(u0, n, np.ones_like(u0))
    store_all = ["store 0 ram"]
    for k in range(n - 1):
        store_all += [f"advance {k} {k + 1}", f"store {k + 1} ram"]
    store_all += [f"reverse {n - 1}", f"free {n - 1} ram"]
    for k in range(n - 2, -1, -1):
        store_all += [f"restore {k} ram", f"free {k} ram", f"reverse {k}"]
    assert retrace.validate(store_all, n, n)["forward"] == 2 * n - 1
    _, lam, log, rv = run(u0, n, in_place_ops, schedule=store_all)
    assert rv.ram_slots == n  # the schedule's peak
    assert np.array_equal(lam, lam_ref)
    _, lam, _, _ = run(u0, n, in_place_ops, schedule=retrace.schedule.binomial(n, 3))
    assert np.array_equal(lam, lam_ref)


def test_bad_schedule_raises_with_index(u0):
    bad = ["store 0 ram", "advance 0 2", "reverse 1"]
    with pytest.raises(retrace.ScheduleError) as e:
        retrace.Revolver(u0.copy(), *in_place_ops([]), 3, schedule=bad)
    assert e.value.index == 2


def test_callback_exception_comes_back_with_step(u0):
    class Boom(Exception):
        pass

    raised = []

    def forward(u, t0, t1):
        if t0 <= 7 < t1:
            raised.append(Boom("no"))
            raise raised[-1]
        for _ in range(t0, t1):
            step(u)

    rv = retrace.Revolver(u0.copy(), forward, lambda u, lam, k: None, 20, snaps=3)
    with pytest.raises(Boom) as e:
        rv.apply_forward()
    assert e.value is raised[0]
    assert e.value.retrace_operator == "forward"
    assert e.value.retrace_step <= 7
    with pytest.raises(RuntimeError, match="previous call"):
        rv.apply_forward()


def test_reverse_exception_and_readonly_state(u0):
    def reverse(u, lam, k):
        if k == 3:
            u[0] = 1.0  # the checkpoint is read-only

    rv = retrace.Revolver(u0.copy(), *in_place_ops([])[:1], reverse, 10, snaps=3)
    rv.apply_forward()
    with pytest.raises(ValueError, match="read-only") as e:
        rv.apply_reverse(np.ones_like(u0))
    assert e.value.retrace_operator == "reverse" and e.value.retrace_step == 3


def test_ctrl_c_stops_the_run(u0, ctrl_c):
    calls = []

    def forward(u, t0, t1):
        calls.append(t0)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        for _ in range(t0, t1):
            step(u)

    rv = retrace.Revolver(u0.copy(), forward, lambda u, lam, k: None, 50, snaps=4)
    with pytest.raises(KeyboardInterrupt):
        rv.apply_forward()
    assert len(calls) == 3


def test_bad_state(u0):
    fwd, rev = in_place_ops([])
    with pytest.raises(ValueError, match="C-contiguous"):
        retrace.Revolver(u0[::2], fwd, rev, 10, snaps=2)
    with pytest.raises(ValueError, match="snaps or a schedule"):
        retrace.Revolver(u0.copy(), fwd, rev, 10)
    with pytest.raises(ValueError):
        retrace.Revolver(u0.copy(), fwd, rev, 0, snaps=2)
    with pytest.raises(ValueError, match="disk_snaps"):
        retrace.Revolver(u0.copy(), fwd, rev, 10, snaps=2, disk_dir=".")
