"""retrace.compat.pytams: pyTAMS 1.0's [database] semantics (path, restart, init_ensemble_only,
archive_discarded) and its Database, on the configurations of pyTAMS's own tests."""

import json

import numpy as np
import pytest

import retrace
from retrace.compat import pytams
from retrace.compat.pytams import TAMS
from retrace.compat.pytams.database import Database
from test_compat_pytams import DoubleWellModel, write_input


def db_input(tmp_path, run, nsplititer=400, extra="", name="input.toml"):
    return write_input(
        tmp_path, nsplititer=nsplititer, extra=f'\n[database]\npath = "{run}"\n{extra}', name=name
    )


def quiet(f, *args, **kwargs):
    with pytest.warns(UserWarning):
        return f(*args, **kwargs)


def test_database_is_created_then_continued(tmp_path):
    run = tmp_path / "dw.tdb"
    whole = quiet(pytams.run, DoubleWellModel, str(write_input(tmp_path, name="whole.toml")))
    part = quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, nsplititer=20)))
    assert part["iterations"] == 10
    assert (run / "run.sqlite").is_file()
    # No `restart`: pyTAMS continues the database it finds, with a larger budget.
    rest = quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, name="more.toml")))
    assert rest["estimate"] == whole["estimate"]
    assert rest["runs"] == whole["runs"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("dw.tdb")] == ["dw.tdb"]


def test_continuing_keeps_the_stored_parameters(tmp_path):
    run = tmp_path / "dw.tdb"
    quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, nsplititer=20)))
    # pyTAMS: the database's [model] etc. hold on a continue; only [tams] is updated.
    changed = db_input(tmp_path, run, name="eps.toml")
    text = changed.read_text().replace("epsilon = 0.1", "epsilon = 0.3")
    changed.write_text(text.replace("ntrajectories = 40", "ntrajectories = 60"))
    rest = quiet(pytams.run, DoubleWellModel, str(changed))
    whole = quiet(pytams.run, DoubleWellModel, str(write_input(tmp_path, name="whole.toml")))
    assert rest["estimate"] == whole["estimate"]
    stored = json.loads((run / "pytams_input.json").read_text())
    assert stored["model"]["epsilon"] == 0.1
    assert stored["tams"]["nsplititer"] == 400


def test_restart_true_moves_the_old_database_aside(tmp_path):
    run = tmp_path / "dw.tdb"
    first = quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, nsplititer=20)))
    again = quiet(
        pytams.run, DoubleWellModel, str(db_input(tmp_path, run, nsplititer=20, extra="restart = true"))
    )
    assert again["runs"] == first["runs"]  # a fresh run with the same seed
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("dw.tdb"))
    assert len(names) == 2 and names[0] == "dw.tdb" and len(names[1]) == len("dw.tdb_000000")
    moved = Database.load(tmp_path / names[1])
    assert moved.k_split() == first["details"][0]["branches"] >= first["iterations"] * 2


def test_restart_true_without_a_database_creates_it(tmp_path):
    run = tmp_path / "new.tdb"
    report = quiet(
        pytams.run, DoubleWellModel, str(db_input(tmp_path, run, nsplititer=20, extra="restart = true"))
    )
    assert report["iterations"] == 10
    assert (run / "run.sqlite").is_file()


def test_init_ensemble_only_stops_then_continues(tmp_path, caplog):
    run = tmp_path / "dw.tdb"
    first = db_input(tmp_path, run, name="init.toml")
    first.write_text(first.read_text().replace("seed = 7", "seed = 7\ninit_ensemble_only = true"))
    tams = TAMS(fmodel_t=DoubleWellModel, a_args=["-i", str(first)])
    assert quiet(tams.compute_probability) == -1.0
    assert "Stopping after the initial ensemble stage !" in caplog.text
    assert tams.report["iterations"] == 0
    tdb = Database.load(run)
    assert tdb.n_traj() == 40 and tdb.init_ensemble_done() and tdb.k_split() == 0
    tdb.close()
    rest = quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, name="go.toml")))
    whole = quiet(pytams.run, DoubleWellModel, str(write_input(tmp_path, name="whole.toml")))
    assert rest["estimate"] == whole["estimate"]


def test_database_reads_the_run_as_pytams_offers_it(tmp_path):
    run = tmp_path / "dw.tdb"
    tams = TAMS(fmodel_t=DoubleWellModel, a_args=["-i", str(db_input(tmp_path, run))])
    p = quiet(tams.compute_probability)
    tdb = tams.get_database()
    assert tdb.get_transition_probability() == p
    assert tdb.traj_list_len() == tdb.n_traj() == 40
    assert tdb.archived_traj_list_len() == tams.report["details"][0]["branches"]
    assert tdb.k_split() == tams.report["details"][0]["branches"]
    scores = retrace.db.open(run).ensemble_scores()
    for t, (i, s) in zip(tdb.traj_list(), scores.items()):
        assert t.id() == i
        assert np.array_equal(t.get_score_array(), s)
        assert np.array_equal(t.get_time_array(), np.arange(len(s)) * 0.01)
        assert t.score_max() == s[1:].max()
        assert t.is_converged() == (s.max() >= 0.8)
    assert tdb.count_converged_traj() == round(p / tdb.weights()[-1] * 40)
    with pytest.raises(NotImplementedError, match="scores, not states"):
        tdb.get_traj(0).get_state_list()
    with pytest.raises(ValueError, match="non existing trajectory"):
        tdb.get_traj(40)


def test_archive_discarded_false_keeps_no_archive(tmp_path):
    run = tmp_path / "dw.tdb"
    kept = quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, 20, "")))
    assert Database.load(run).archived_traj_list_len() == kept["details"][0]["branches"] >= 20
    run = tmp_path / "none.tdb"
    quiet(pytams.run, DoubleWellModel, str(db_input(tmp_path, run, 20, "archive_discarded = false")))
    tdb = Database.load(run)
    assert tdb.archived_traj_list_len() == 0 and tdb.k_split() >= 20


def test_database_errors_as_pytams(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Database.load(tmp_path / "none.tdb")
    run = tmp_path / "x.tdb"
    with pytest.raises(ValueError, match="Unsupported TAMS database format: HDF5"):
        pytams.run(DoubleWellModel, str(db_input(tmp_path, run, extra='format = "HDF5"')))
    old = tmp_path / "old.tdb"
    old.mkdir()
    (old / "header.xml").write_text("<header/>")
    with pytest.raises(ValueError, match="a pyTAMS database"):
        pytams.run(DoubleWellModel, str(db_input(tmp_path, old, name="old.toml")))


def test_more_trajectories_after_the_ensemble_only_stage(tmp_path):
    # pyTAMS's test_simple_model_init_ensemble_stage_and_continue_tams: 10, then 20.
    run = tmp_path / "dw.tdb"
    path = db_input(tmp_path, run)
    text = path.read_text().replace("seed = 7", "init_ensemble_only = true")
    path.write_text(text.replace("ntrajectories = 40", "ntrajectories = 10"))
    first = quiet(pytams.run, DoubleWellModel, str(path))
    old = Database.load(run)
    assert old.n_traj() == 10
    old_scores = [t.get_score_array() for t in old.traj_list()]
    old.close()
    path.write_text(text.replace("ntrajectories = 40", "ntrajectories = 20"))
    second = quiet(pytams.run, DoubleWellModel, str(path))
    assert second["seed"] == first["seed"]
    tdb = Database.load(run)
    assert tdb.n_traj() == 20
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("dw.tdb")] == ["dw.tdb"]
    for a, b in zip(old_scores, tdb.traj_list()[:10]):
        assert np.array_equal(a, b.get_score_array())
