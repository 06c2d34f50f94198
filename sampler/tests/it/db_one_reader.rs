//! Restart (`sampler::db::resume`) and inspection (`RunReader`: `retrace db`, the plot, Python)
//! read a run database through one reader: the same rows from the same database, and the same
//! typed error from the same damaged row.

use sampler::db::{RunDb, RunReader, resume};
use sampler::models::Brownian;
use sampler::runner::{DbOptions, run_with_database};
use sampler::{Config, DbError, Error, Horizon, NoiseKey, Row, StoreAll};
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 30\nnsplititer = 12\nl = 1\nseed = 5\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n\
    [model]\nname = \"brownian\"\n";

fn recorded_run(dir: &Path) {
    let c = Config::from_toml(CONFIG).unwrap();
    run_with_database(
        Some(&c),
        &DbOptions::new(dir.to_path_buf(), false),
        &|_, _| {},
    )
    .unwrap();
}

/// What a restart of the run in `dir` loads (the ensemble rebuilt by replay, every score
/// checked).
fn restart_reads(dir: &Path) -> sampler::Result<sampler::Resume<Vec<f64>>> {
    let (db, _) = RunDb::open(dir)?;
    let h = Horizon::new(1.0, 0.01, 3.0);
    let got = resume(
        &db,
        &Brownian::default(),
        &StoreAll,
        &h,
        NoiseKey::new(5, 0),
        30,
    )?;
    Ok(got.expect("the initial ensemble is committed"))
}

#[test]
fn restart_and_inspection_read_the_same_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    recorded_run(&dir);
    let reader = RunReader::open(&dir).unwrap();
    let (its, ensemble) = reader
        .snapshot(|r| Ok((r.iterations()?, r.ensemble()?)))
        .unwrap();
    drop(reader);
    let resumed = restart_reads(&dir).unwrap();
    assert!(its.len() >= 4, "the run must split a few times");
    let last = its.last().unwrap();
    let st = resumed.state;
    assert_eq!(st.iterations, last.iteration);
    assert_eq!(st.weight.to_bits(), last.weight.to_bits());
    assert_eq!(
        (st.branches, st.model_steps, st.replay_steps),
        (last.branches, last.model_steps, last.replay_steps)
    );
    assert_eq!(st.select_word_pos, last.select_word_pos);
    assert_eq!(resumed.ensemble.next_id, last.next_id);
    let kills: Vec<u64> = its[1..].iter().map(|r| r.k).collect();
    assert_eq!(resumed.kills, kills);
    // The ensemble in slot order, value for value.
    let rebuilt = &resumed.ensemble.trajectories;
    assert_eq!(rebuilt.len(), ensemble.len());
    for (slot, (t, row)) in rebuilt.iter().zip(&ensemble).enumerate() {
        assert_eq!((row.slot, row.died), (slot as u64, None));
        assert_eq!(t.id(), row.id);
        assert_eq!(t.lineage(), row.lineage);
        assert_eq!(t.max_score().to_bits(), row.max_score.to_bits());
        let bits = |s: &[f64]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(t.scores()), bits(&row.scores), "trajectory {}", t.id());
    }
    let reached = ensemble.iter().filter(|row| row.reached).count() as u64;
    assert_eq!(resumed.ensemble.reached(), reached);
}

/// The damaged row `e` names, as (table, row, reason).
fn corrupt_row(e: Error) -> (Option<&'static str>, Option<Row>, String) {
    match e {
        Error::Database(DbError::Corrupt {
            table, row, reason, ..
        }) => (table, row, reason),
        e => panic!("not a damaged row: {e}"),
    }
}

#[test]
fn a_damaged_row_is_the_same_error_for_restart_and_inspection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    recorded_run(&dir);
    // One score fewer than its last step needs, with a matching CRC-32 (the row checksum does
    // not cover the scores): a reader that checked the CRC only would return a short trace.
    let conn = rusqlite::Connection::open(dir.join("run.sqlite")).unwrap();
    let (id, blob): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT id, scores FROM trajectories WHERE died IS NULL ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let short = &blob[..blob.len() - 8];
    conn.execute(
        "UPDATE trajectories SET scores = ?1, scores_crc = ?2 WHERE id = ?3",
        rusqlite::params![short, i64::from(crc32fast::hash(short)), id],
    )
    .unwrap();
    drop(conn);
    let want = (
        Some("trajectories"),
        Some(Row::Trajectory(id as u64)),
        format!(
            "{} scores for last step {}",
            short.len() / 8,
            short.len() / 8
        ),
    );
    let reader = RunReader::open(&dir).unwrap();
    assert_eq!(corrupt_row(reader.ensemble().unwrap_err()), want);
    assert_eq!(corrupt_row(reader.trajectories().unwrap_err()), want);
    assert_eq!(corrupt_row(reader.trajectory(id as u64).unwrap_err()), want);
    drop(reader);
    assert_eq!(corrupt_row(restart_reads(&dir).unwrap_err()), want);
}
