"""The arrays retrace.Revolver hands its callbacks are views of memory that Rust owns: a
read-only one (a checkpoint, or the state at a reverse step) cannot be made writeable, by any
route numpy offers, and no view can be resized. Whatever a callback tries, the checkpoints, and
so the gradient, are unchanged (bitwise)."""

import operator

import numpy as np
import pytest
import retrace
from conftest import adjoint_step, reference, step, step_out

N = 40


def base_of(u):
    """The end of `u`'s base chain (numpy's rule: a view is writeable only if that end is)."""
    b = u
    while isinstance(b, np.ndarray):
        b = b.base
    return b


def set_writeable(a):
    a.flags.writeable = True


def setitem(a):
    a[0] = 1.0


def write_readonly_tries(u):
    """Every route to writing a read-only view; each must raise."""
    return {
        "flags.writeable = True": lambda: set_writeable(u),
        "setflags(write=True)": lambda: u.setflags(write=True),
        "view(), then writeable": lambda: set_writeable(u.view()),
        "slice, then writeable": lambda: set_writeable(u[1:]),
        "u[0] = 1": lambda: setitem(u),
        "u.base[...] = 0": lambda: operator.setitem(u.base, Ellipsis, 0),
        "writeable buffer of the base": lambda: memoryview(base_of(u)).cast("B").__setitem__(0, 1),
        "frombuffer, then writeable": lambda: set_writeable(np.frombuffer(u, dtype=u.dtype)),
        "as_strided(writeable=True)": lambda: setitem(
            np.lib.stride_tricks.as_strided(u, writeable=True)
        ),
    }


def resize_tries(u):
    """Every resize; each must raise (the view does not own its data)."""
    return {
        "resize larger": lambda: u.resize(2 * u.size, refcheck=False),
        "resize smaller": lambda: u.resize(1, refcheck=False),
        "resize to 0": lambda: u.resize(0, refcheck=False),
        "np.ndarray.resize": lambda: np.ndarray.resize(u, (3 * u.size,), refcheck=False),
    }


def attack(u, readonly, failed, where):
    """Try every write (read-only views) and every resize; record those that did not raise,
    and any change to `u`'s bytes."""
    before = u.copy()
    tries = resize_tries(u)
    if readonly:
        assert not u.flags.writeable
        tries.update(write_readonly_tries(u))
    else:
        assert u.flags.writeable
    assert not u.flags.owndata
    for name, f in tries.items():
        try:
            f()
        except (ValueError, TypeError):
            continue
        failed.append(f"{where}: {name} did not raise")
    if u.shape != before.shape or u.tobytes() != before.tobytes():
        failed.append(f"{where}: the view changed")


def ops(kind, failed):
    """Forward and reverse callbacks (`kind`: in place, out of place, both) that attack every
    array they get before using it."""

    def forward(u, t0, t1):
        attack(u, False, failed, "forward u")
        for _ in range(t0, t1):
            step(u)

    def forward_from(u_in, u_out, t0, t1):
        attack(u_in, True, failed, "forward_from u_in")
        attack(u_out, False, failed, "forward_from u_out")
        step_out(u_in, u_out)
        for _ in range(t0 + 1, t1):
            step(u_out)

    def reverse(u, lam, k):
        attack(u, True, failed, "reverse u")
        adjoint_step(u, lam)

    if kind == "in_place":
        return forward, reverse, {}
    if kind == "out_of_place":
        return forward_from, reverse, {"out_of_place": True}
    return forward, reverse, {"forward_from": forward_from}


@pytest.mark.parametrize("kind", ["in_place", "out_of_place", "both"])
@pytest.mark.parametrize("level", ["ram", "disk"])
def test_callback_views_cannot_be_made_writeable_or_resized(u0, kind, level, tmp_path):
    failed = []
    fwd, rev, kw = ops(kind, failed)
    if level == "disk":
        kw.update(snaps=2, disk_dir=str(tmp_path), disk_snaps=3)
    else:
        kw.update(snaps=5)
    u = u0.copy()
    rv = retrace.Revolver(u, fwd, rev, N, **kw)
    rv.apply_forward()
    lam = rv.apply_reverse(np.ones_like(u0))
    assert failed == []
    states, lam_ref = reference(u0, N, np.ones_like(u0))
    assert u.tobytes() == states[N].tobytes()
    assert lam.tobytes() == lam_ref.tobytes()
    if level == "disk":
        assert rv.stats["schedule"]["stores_disk"] > 0


def test_views_outlive_the_revolver(u0):
    """A view kept after the Revolver is gone still reads the memory it viewed (kept alive by
    its base), and still cannot be made writeable."""
    kept = []

    def reverse(u, lam, k):
        if k == 0:
            kept.append((u, u.copy()))
        adjoint_step(u, lam)

    rv = retrace.Revolver(u0.copy(), lambda u, t0, t1: [step(u) for _ in range(t0, t1)],
                          reverse, N, snaps=3)
    rv.apply_forward()
    rv.apply_reverse(np.ones_like(u0))
    del rv
    (view, seen), = kept
    assert view.tobytes() == seen.tobytes()
    with pytest.raises(ValueError):
        view.flags.writeable = True
    with pytest.raises(ValueError):
        view.resize(2 * view.size, refcheck=False)


def repoint(u):
    """numpy lets Python swap a view's memory for a fresh array's (pickle's __setstate__)."""
    u.__setstate__(np.zeros(u.size, dtype=u.dtype).__reduce__()[2])


def reshape_in_place(u):
    u.shape = (1, u.size)


def retype_in_place(u):
    u.dtype = np.int64


@pytest.mark.parametrize("change", [repoint, reshape_in_place, retype_in_place])
@pytest.mark.parametrize("where", ["forward", "reverse"])
def test_a_view_changed_in_place_is_an_error(u0, change, where):
    """A callback that repoints or reshapes the array it was given (so that the next callback
    given it would read or write the wrong memory) gets an error, not a wrong gradient."""

    def forward(u, t0, t1):
        if where == "forward" and t0 <= 5 < t1:
            change(u)
            return
        for _ in range(t0, t1):
            step(u)

    def reverse(u, lam, k):
        if where == "reverse" and k == 5:
            change(u)
            return
        adjoint_step(u, lam)

    rv = retrace.Revolver(u0.copy(), forward, reverse, N, snaps=4)
    with pytest.raises(ValueError, match="changed an array the Revolver gave it") as e:
        rv.apply_forward()
        rv.apply_reverse(np.ones_like(u0))
    assert e.value.retrace_operator == where
