"""retrace.db: a run database written by the CLI, read back as numpy arrays and compared with
`retrace db export --json` (exact numbers) and the run's own report."""

import json
import os
import shutil
import sqlite3
import subprocess

import numpy as np
import pytest

import retrace

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = """
[tams]
ntrajectories = 20
nsplititer = 40
l = 1
seed = 3

[trajectory]
end_time = 6.0
step_size = 0.01
targetscore = 0.95

[sampler]
strategy = "tams"

[model]
name = "doublewell1d"
epsilon = 0.025
x0 = -1.0
"""


def retrace_bin():
    """The CLI: $RETRACE_BIN (set by .ci/run), else a build in target/."""
    env = os.environ.get("RETRACE_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "retrace")
        if os.path.exists(path):
            return path
    pytest.skip("no retrace binary: build it (cargo build --release) or set RETRACE_BIN")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("db")
    exe = retrace_bin()
    (tmp / "c.toml").write_text(CONFIG)
    subprocess.run([exe, "tams", "--config", str(tmp / "c.toml"), "--db", str(tmp / "run"),
                    "--json", str(tmp / "report.json")], check=True, capture_output=True)
    subprocess.run([exe, "db", "export", str(tmp / "run"), "--json", str(tmp / "export.json")],
                   check=True, capture_output=True)
    report = json.loads((tmp / "report.json").read_text())
    export = json.loads((tmp / "export.json").read_text())
    return tmp / "run", report, export


def test_summary(run_dir):
    path, report, export = run_dir
    with retrace.db.open(path) as run:
        s = run.summary
    assert s["iterations"] == report["iterations"] == export["summary"]["iterations"]
    assert s["estimate"] == report["estimate"] == export["summary"]["estimate"]
    assert s["weight"] == export["summary"]["weight"]
    assert s["config"]["ntrajectories"] == 20 and s["config"]["model"] == "doublewell1d"
    assert s["status"] == "iteration_budget"


def test_iterations(run_dir):
    path, _, export = run_dir
    it = retrace.db.open(path).iterations
    rows = export["iterations"]
    assert it["iteration"].dtype == np.int64
    assert list(it["iteration"]) == [r["iteration"] for r in rows]
    assert list(it["k"]) == [r["k"] for r in rows]
    assert list(it["weight"]) == [r["weight"] for r in rows]  # exact, from the bits
    assert np.isnan(it["level"][0])
    assert list(it["level"][1:]) == [r["level"] for r in rows[1:]]
    assert [list(a) for a in it["killed"]] == [r["killed"] for r in rows]
    assert [list(a) for a in it["children"]] == [r["children"] for r in rows]


def test_trajectories_and_scores(run_dir):
    path, _, export = run_dir
    run = retrace.db.open(path)
    tr = run.trajectories
    rows = export["trajectories"]
    assert list(tr["id"]) == [r["id"] for r in rows]
    assert list(tr["died"]) == [-1 if r["died"] is None else r["died"] for r in rows]
    assert list(tr["max_score"]) == [r["max_score"] for r in rows]
    for r in rows:
        scores = run.scores(r["id"])
        assert scores.dtype == np.float64
        assert list(scores) == r["scores"]
        assert scores.max() == r["max_score"]
    live = run.ensemble_scores()
    assert len(live) == 20
    assert set(live) == {r["id"] for r in rows if r["died"] is None}


def test_damage_and_missing(run_dir, tmp_path):
    path, _, _ = run_dir
    with pytest.raises(retrace.db.DatabaseError, match="no run database"):
        retrace.db.open(tmp_path / "nothing")
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    db = sqlite3.connect(copy / "run.sqlite")
    (tid, blob), = db.execute("SELECT id, scores FROM trajectories ORDER BY id LIMIT 1")
    bad = bytes([blob[0] ^ 1]) + blob[1:]
    db.execute("UPDATE trajectories SET scores = ? WHERE id = ?", (bad, tid))
    db.commit()
    db.close()
    with pytest.raises(retrace.db.DatabaseError, match="CRC"):
        retrace.db.open(copy).scores(tid)
    db = sqlite3.connect(copy / "run.sqlite")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(retrace.db.DatabaseError, match="schema version 99"):
        retrace.db.open(copy)


@pytest.mark.parametrize("table, column, name", [
    ("iterations", "model_steps", "iteration"),
    ("iterations", "next_id", "iteration"),
    ("config", "seed", None),
    ("trajectories", "born", "trajectory"),
])
def test_changed_values_fail_their_row_checksum(run_dir, tmp_path, table, column, name):
    path = run_dir[0]
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    key = {"iterations": "iteration", "config": "id", "trajectories": "id"}[table]
    db = sqlite3.connect(copy / "run.sqlite")
    (k,), = db.execute(f"SELECT max({key}) FROM {table}")
    db.execute(f"UPDATE {table} SET {column} = {column} + 1 WHERE {key} = ?", (k,))
    db.commit()
    db.close()
    run = retrace.db.open(copy)
    row = f"table {table}, {name} {k}: " if name else f"table {table}, the recorded configuration: "
    with pytest.raises(retrace.db.DatabaseError, match=f"run.sqlite is damaged: {row}checksum fails"):
        _ = run.summary if table != "trajectories" else run.trajectories
    if table == "iterations":
        with pytest.raises(retrace.db.DatabaseError, match="checksum fails"):
            _ = run.iterations


def _files(path):
    """{name: bytes} of every file in the run directory `path`."""
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def test_a_killed_run_is_read_without_changing_a_byte(run_dir, tmp_path):
    # A killed run: the database with a WAL no checkpoint has folded in (and its -shm).
    path = run_dir[0]
    live = tmp_path / "live"
    shutil.copytree(path, live)
    db = sqlite3.connect(live / "run.sqlite")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("INSERT INTO meta (key, value) VALUES ('note', 'in the WAL')")
    db.commit()
    killed = tmp_path / "killed"
    shutil.copytree(live, killed)
    db.close()
    assert (killed / "run.sqlite-wal").stat().st_size > 0
    before = _files(killed)
    with retrace.db.open(killed) as run:
        assert run.meta["note"] == "in the WAL"
        assert run.summary["status"] == "iteration_budget"
        assert len(run.ensemble_scores()) == 20
    assert _files(killed) == before


def test_a_flipped_checksum_is_found_by_the_extension(run_dir, tmp_path):
    # The checksums are verified in Rust (the reader `retrace db` and restart use): the Python
    # package carries no checksum code of its own.
    assert not hasattr(retrace.db, "_checksum")
    copy = tmp_path / "copy"
    shutil.copytree(run_dir[0], copy)
    db = sqlite3.connect(copy / "run.sqlite")
    (q,), = db.execute("SELECT max(iteration) FROM iterations")
    db.execute("UPDATE iterations SET checksum = checksum + 1 - 2 * (checksum & 1) "
               "WHERE iteration = ?", (q,))
    db.commit()
    db.close()
    with pytest.raises(retrace.db.DatabaseError, match=f"table iterations, iteration {q}: ") as e:
        _ = retrace.db.open(copy).iterations
    assert isinstance(e.value.__cause__, retrace.RunDatabaseError)
