"""retrace.compat.pyrevolve makes the same calls as pyrevolve 2.2.8, with the same arguments,
in the same order, and leaves the same bits in the caller's arrays: traces recorded from the
real pyrevolve (fixtures/record_pyrevolve_traces.py) replayed against the drop-in."""

import json
import pathlib
import sys

import pytest

from retrace.compat import pyrevolve as pr

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
from pyrevolve_cases import CASES, crevolve_trace, run_case  # noqa: E402

TRACES = json.loads((FIXTURES / "pyrevolve_traces.json").read_text())


def test_fixture_is_from_pyrevolve_2_2_8_and_complete():
    assert TRACES["pyrevolve"] == "2.2.8" == pr.__version__
    assert set(TRACES["cases"]) == {c[0] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_same_calls_and_bits_as_pyrevolve(case, tmp_path):
    got = json.loads(json.dumps(run_case(pr, case, tmp_path)))
    want = TRACES["cases"][case[0]]
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"call {i} differs"
    assert len(got) == len(want)


@pytest.mark.parametrize("key", sorted(TRACES["crevolve"]))
def test_crevolve_driver_same_as_pyrevolve(key):
    snaps, steps = map(int, key.split("-"))
    assert crevolve_trace(pr.crevolve, snaps, steps) == TRACES["crevolve"][key]


def test_adjust_same_as_pyrevolve():
    for n, want in TRACES["adjust"].items():
        assert pr.adjust(int(n)) == want, n
        assert pr.crevolve.adjust(int(n)) == want, n
