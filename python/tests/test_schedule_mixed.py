"""The mixed schedule from Python: units hold states or recorded steps (`record K LEVEL`)."""

import numpy as np
import pytest
import retrace
from conftest import reference
from retrace import schedule
from test_revolver import in_place_ops, out_of_place_ops


def test_mixed_is_valid_and_optimal():
    acts = list(schedule.mixed(10, 3))
    assert any(a.startswith("record ") for a in acts)
    stats = retrace.validate(acts, 10, 3)
    assert stats["forward"] == schedule.mixed_forward(10, 3) == 19
    assert stats["records_ram"] > 0 and stats["records_disk"] == 0
    assert stats["peak_ram"] <= 3


def test_mixed_forward_matches_checkpoint_schedules_1_0_4():
    # checkpoint_schedules 1.0.4: checkpoint_schedules.mixed.optimal_steps_mixed(n, s).
    for n, s, want in [(1, 0, 1), (5, 1, 14), (20, 2, 79), (100, 5, 352), (250, 10, 717),
                       (300, 40, 566)]:
        assert schedule.mixed_forward(n, s) == want, (n, s)


def test_mixed_on_disk():
    s = schedule.mixed(30, 4, level="disk")
    assert (s.kind, s.steps, s.ram, s.disk) == ("mixed", 30, 0, 4)
    acts = list(s)
    stats = retrace.validate(acts, 30, 0, 4)
    assert stats["records_disk"] > 0 and stats["peak_ram"] == 0
    with pytest.raises(retrace.ScheduleError):
        retrace.validate(acts, 30, 4, 0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        schedule.mixed(0, 3)
    with pytest.raises(ValueError):
        schedule.mixed(10, 0)
    with pytest.raises(ValueError, match="level"):
        schedule.mixed(10, 3, level="tape")
    with pytest.raises(ValueError):
        schedule.mixed_forward(10**12, 100)  # the table would be too large


@pytest.mark.parametrize("ops", [in_place_ops, out_of_place_ops])
def test_revolver_runs_a_mixed_schedule_bitwise(u0, ops):
    n, units = 60, 4
    states, lam_ref = reference(u0, n, np.ones_like(u0))
    log = []
    fwd, rev = ops(log)
    u = u0.copy()
    rv = retrace.Revolver(u, fwd, rev, n, schedule=schedule.mixed(n, units),
                          out_of_place=(ops is out_of_place_ops))
    rv.apply_forward()
    lam = np.ones_like(u0)
    rv.apply_reverse(lam)
    assert np.array_equal(u, states[n])
    assert np.array_equal(lam, lam_ref)
    assert [k for k, _ in log] == list(range(n - 1, -1, -1))
    for k, seen in log:
        assert np.array_equal(seen, states[k]), k
    st = rv.stats
    assert st["schedule"]["forward"] == schedule.mixed_forward(n, units)
    assert st["forward_steps"] == st["schedule"]["advanced"] + st["schedule"]["records_ram"] + 1
