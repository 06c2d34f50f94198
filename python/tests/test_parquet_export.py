"""`retrace db export --parquet`: the iteration table and the trajectories with their scores in
long format, read with pyarrow, pandas and polars, equal the CSV export value for value, with
the documented dtypes. Needs pyarrow and pandas (polars optional): `pip install pyarrow pandas
polars`; skipped without them. The CLI is $RETRACE_BIN (else target/release or target/debug);
the `parquet` feature is on by default, a binary without it skips these tests unless
RETRACE_REQUIRE_PARQUET=1 (as in CI), where it fails them."""

import csv
import io
import os
import subprocess

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install pyarrow)")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow.parquet is not importable")
pd = pytest.importorskip("pandas", reason="pandas is not installed (pip install pandas)")

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


def _export(exe, run, *args):
    out = subprocess.run([exe, "db", "export", str(run), *args], capture_output=True, text=True)
    if out.returncode != 0 and "without the `parquet` feature" in out.stderr:
        # CI sets RETRACE_REQUIRE_PARQUET=1: there a binary without the feature fails the test
        # instead of skipping it silently.
        if os.environ.get("RETRACE_REQUIRE_PARQUET") == "1":
            pytest.fail(f"{exe} lacks the `parquet` feature (a default one): {out.stderr}")
        pytest.skip("this retrace was built without the `parquet` feature")
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parquet")
    exe = retrace_bin()
    (tmp / "c.toml").write_text(CONFIG)
    subprocess.run([exe, "tams", "--config", str(tmp / "c.toml"), "--db", str(tmp / "run")],
                   check=True, capture_output=True)
    files = {}
    for table in ("iterations", "trajectories"):
        pq_file = tmp / f"{table}.parquet"
        _export(exe, tmp / "run", "--table", table, "--parquet", str(pq_file))
        text = _export(exe, tmp / "run", "--table", table, "--csv", "-")
        files[table] = (pq_file, list(csv.DictReader(io.StringIO(text))))
    return files


def _ints(cell):
    return [int(x) for x in cell.split()]


def _opt_int(cell):
    return None if cell == "" else int(cell)


def _expected_iterations(rows):
    return [{
        "iteration": int(r["iteration"]),
        "level": None if r["level"] == "" else float(r["level"]),
        "k": int(r["k"]),
        "weight": float(r["weight"]),
        "reached": int(r["reached"]),
        "model_steps": int(r["model_steps"]),
        "killed": _ints(r["killed"]),
        "parents": _ints(r["parents"]),
        "children": _ints(r["children"]),
        "committed_at": float(r["committed_at"]),
    } for r in rows]


def _expected_long(rows):
    out = []
    for r in rows:
        scores = [float(x) for x in r["scores"].split()]
        assert len(scores) == int(r["nscores"])
        for step, score in enumerate(scores):
            out.append({
                "id": int(r["id"]),
                "slot": int(r["slot"]),
                "parent": _opt_int(r["parent"]),
                "branch_step": _opt_int(r["branch_step"]),
                "born": int(r["born"]),
                "died": _opt_int(r["died"]),
                "alive": r["alive"] == "1",
                "max_score": float(r["max_score"]),
                "reached": r["reached"] == "1",
                "step": step,
                "score": score,
            })
    return out


def test_iterations_equal_the_csv_with_arrow_types(exported):
    path, rows = exported["iterations"]
    t = pq.read_table(path)
    i64, f64 = pa.int64(), pa.float64()
    ids = pa.list_(pa.field("element", i64, nullable=False))
    assert t.schema == pa.schema([
        pa.field("iteration", i64, nullable=False), pa.field("level", f64),
        pa.field("k", i64, nullable=False), pa.field("weight", f64, nullable=False),
        pa.field("reached", i64, nullable=False), pa.field("model_steps", i64, nullable=False),
        pa.field("killed", ids, nullable=False),
        pa.field("parents", ids, nullable=False),
        pa.field("children", ids, nullable=False),
        pa.field("committed_at", f64, nullable=False),
    ]), t.schema
    want = _expected_iterations(rows)
    assert len(want) > 2
    assert t.to_pylist() == want
    assert want[0]["level"] is None and all(w["level"] is not None for w in want[1:])


def test_trajectories_in_long_format_equal_the_csv(exported):
    path, rows = exported["trajectories"]
    t = pq.read_table(path)
    i64, f64, b = pa.int64(), pa.float64(), pa.bool_()
    assert t.schema == pa.schema([
        pa.field("id", i64, nullable=False), pa.field("slot", i64, nullable=False),
        pa.field("parent", i64), pa.field("branch_step", i64),
        pa.field("born", i64, nullable=False), pa.field("died", i64),
        pa.field("alive", b, nullable=False), pa.field("max_score", f64, nullable=False),
        pa.field("reached", b, nullable=False), pa.field("step", i64, nullable=False),
        pa.field("score", f64, nullable=False),
    ]), t.schema
    want = _expected_long(rows)
    assert len(want) == sum(int(r["nscores"]) for r in rows) > len(rows)
    assert t.to_pylist() == want


def test_pandas_reads_the_same_values_and_dtypes(exported):
    path, rows = exported["trajectories"]
    df = pd.read_parquet(path)
    assert str(df["id"].dtype) == "int64" and str(df["step"].dtype) == "int64"
    assert str(df["score"].dtype) == "float64" and str(df["alive"].dtype) == "bool"
    want = _expected_long(rows)
    assert df["score"].tolist() == [w["score"] for w in want]
    assert df["id"].tolist() == [w["id"] for w in want]
    # One group per trajectory, its scores in step order, as the CSV's list.
    by_id = df.groupby("id", sort=True)["score"].apply(list)
    assert by_id.to_dict() == {int(r["id"]): [float(x) for x in r["scores"].split()]
                               for r in rows}
    it_path, it_rows = exported["iterations"]
    it = pd.read_parquet(it_path)
    assert str(it["iteration"].dtype) == "int64" and str(it["weight"].dtype) == "float64"
    assert it["weight"].tolist() == [float(r["weight"]) for r in it_rows]
    assert [list(x) for x in it["killed"]] == [_ints(r["killed"]) for r in it_rows]


def test_polars_reads_the_same_values_and_dtypes(exported):
    pl = pytest.importorskip("polars", reason="polars is not installed (pip install polars)")
    path, rows = exported["trajectories"]
    df = pl.read_parquet(path)
    assert df.schema["id"] == pl.Int64 and df.schema["score"] == pl.Float64
    assert df.schema["parent"] == pl.Int64 and df.schema["alive"] == pl.Boolean
    assert df.to_dicts() == _expected_long(rows)
    it_path, it_rows = exported["iterations"]
    it = pl.read_parquet(it_path)
    assert it.schema["killed"] == pl.List(pl.Int64)
    assert it.to_dicts() == _expected_iterations(it_rows)
