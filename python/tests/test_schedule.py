"""Schedules, the validator and the planner from Python."""

import pytest
import retrace
from retrace import schedule


def test_binomial_counts_match_validator():
    acts = list(schedule.binomial(1000, 20))
    stats = retrace.validate(acts, 1000, 20)
    # T(1000, 20) = 3747 (revolve::cost::optimal_forward), also the planner's binomial row.
    assert stats["forward"] == 3747
    assert stats["reverse"] == 1000
    assert stats["peak_ram"] <= 20
    row = next(r for r in retrace.plan(1000, 1 << 20, 20 << 20) if r["strategy"] == "binomial")
    assert row["forward"] == stats["forward"]


def test_text_format():
    acts = list(schedule.binomial(3, 2))
    assert acts[0] == "store 0 ram"
    assert acts[-1] == "reverse 0"
    kinds = {a.split()[0] for a in acts}
    assert kinds <= {"advance", "store", "restore", "free", "reverse"}


def test_multistage_uses_disk_and_is_valid():
    acts = list(schedule.multistage(200, 3, 4))
    stats = retrace.validate(acts, 200, 3, 4)
    assert stats["stores_disk"] > 0
    assert stats["peak_ram"] <= 3 and stats["peak_disk"] <= 4
    with pytest.raises(retrace.ScheduleError):
        retrace.validate(acts, 200, 3, 0)  # no disk slots


def test_online_step_by_step():
    o = schedule.online(4)
    fed = []
    for k in range(56):
        step = o.advance()
        assert step[-1] == f"advance {k} {k + 1}"
        fed += step
        assert len(o.checkpoints) <= 4
    assert o.current == 56  # the last step: n = 57
    fed += list(o.finish())
    stats = retrace.validate(fed, 57, 4)
    assert stats["reverse"] == 57
    with pytest.raises(RuntimeError):
        o.advance()


def test_validate_reports_rule_and_index():
    with pytest.raises(retrace.ScheduleError) as e:
        retrace.validate(["store 0 ram", "advance 0 2", "reverse 1"], 3, 1)
    assert e.value.index == 2
    assert e.value.action == "reverse 1"
    assert "out of order" in e.value.rule
    with pytest.raises(retrace.ScheduleError) as e:
        retrace.validate(["store 0 ram", "advance 0 1", "reverse 1"], 2, 1)
    assert e.value.index == 3 and e.value.action is None  # ended early
    with pytest.raises(ValueError, match="action 1"):
        retrace.validate(["store 0 ram", "jump 3"], 3, 1)


def test_bad_arguments():
    with pytest.raises(ValueError):
        schedule.binomial(0, 3)
    with pytest.raises(ValueError):
        schedule.binomial(10, 0)
    with pytest.raises(ValueError):
        retrace.plan(0, 8, 8)


def test_plan_rows_and_svg():
    rows, svg = retrace.plan(10_000, 8 << 20, 1 << 30, 64 << 30, svg=True)
    names = [r["strategy"] for r in rows]
    assert names == ["store-all", "periodic", "binomial", "multistage", "cost-aware", "online",
                     "mixed"]
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    multistage = rows[3]
    assert multistage["fits"] and multistage["disk_slots"] > 0
