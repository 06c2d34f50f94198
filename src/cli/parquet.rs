//! `retrace db export --parquet FILE`: one table of a run as one Parquet file (Apache `arrow`
//! and `parquet` crates, zstd-compressed pages). `--table iterations`: one row per iteration,
//! the id lists as `list<uint64>`; `--table trajectories`: the trajectories with their scores
//! in long format, one row per trajectory and step (`step`, `score` after the trajectory's
//! columns). Counts and ids are `uint64`, missing values (a level, a parent, a death) null.

use super::CliError;
use arrow_array::builder::{ListBuilder, UInt64Builder};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, UInt64Array};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sampler::db::{IterationRow, TrajectoryRow};
use std::sync::Arc;

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::failed(format!("writing Parquet: {e}"))
}

fn u64s(v: impl Iterator<Item = u64>) -> ArrayRef {
    Arc::new(v.collect::<UInt64Array>())
}

fn opt_u64s(v: impl Iterator<Item = Option<u64>>) -> ArrayRef {
    Arc::new(v.collect::<UInt64Array>())
}

fn f64s(v: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(v.collect::<Float64Array>())
}

fn bools(v: impl Iterator<Item = bool>) -> ArrayRef {
    Arc::new(v.map(Some).collect::<BooleanArray>())
}

fn lists<'a>(v: impl Iterator<Item = &'a Vec<u64>>) -> ArrayRef {
    let mut b = ListBuilder::new(UInt64Builder::new());
    for ids in v {
        b.values().append_slice(ids);
        b.append(true);
    }
    Arc::new(b.finish())
}

/// The Parquet bytes of `columns` (name, values, nullable).
fn file(columns: Vec<(&str, ArrayRef, bool)>) -> Result<Vec<u8>, CliError> {
    let batch = RecordBatch::try_from_iter_with_nullable(columns).map_err(failed)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(failed)?))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).map_err(failed)?;
    w.write(&batch).map_err(failed)?;
    w.close().map_err(failed)?;
    Ok(out)
}

/// The iteration table, as the CSV export's columns.
pub(crate) fn iterations(rows: &[IterationRow]) -> Result<Vec<u8>, CliError> {
    file(vec![
        ("iteration", u64s(rows.iter().map(|r| r.iteration)), false),
        (
            "level",
            Arc::new(rows.iter().map(|r| r.level).collect::<Float64Array>()),
            true,
        ),
        ("k", u64s(rows.iter().map(|r| r.k)), false),
        ("weight", f64s(rows.iter().map(|r| r.weight)), false),
        ("reached", u64s(rows.iter().map(|r| r.reached)), false),
        (
            "model_steps",
            u64s(rows.iter().map(|r| r.model_steps)),
            false,
        ),
        ("killed", lists(rows.iter().map(|r| &r.killed)), false),
        ("parents", lists(rows.iter().map(|r| &r.parents)), false),
        ("children", lists(rows.iter().map(|r| &r.children)), false),
        (
            "committed_at",
            f64s(rows.iter().map(|r| r.committed_at)),
            false,
        ),
    ])
}

/// The trajectories in long format: one row per trajectory and recorded step.
pub(crate) fn trajectories(rows: &[TrajectoryRow]) -> Result<Vec<u8>, CliError> {
    // Every column repeats its trajectory's value once per score.
    let each = |f: &dyn Fn(&TrajectoryRow) -> u64| {
        u64s(
            rows.iter()
                .flat_map(|t| std::iter::repeat_n(f(t), t.scores.len())),
        )
    };
    let each_opt = |f: &dyn Fn(&TrajectoryRow) -> Option<u64>| {
        opt_u64s(
            rows.iter()
                .flat_map(|t| std::iter::repeat_n(f(t), t.scores.len())),
        )
    };
    let each_bool = |f: &dyn Fn(&TrajectoryRow) -> bool| {
        bools(
            rows.iter()
                .flat_map(|t| std::iter::repeat_n(f(t), t.scores.len())),
        )
    };
    file(vec![
        ("id", each(&|t| t.id), false),
        ("slot", each(&|t| t.slot), false),
        ("parent", each_opt(&|t| t.parent), true),
        ("branch_step", each_opt(&|t| t.branch_step), true),
        ("born", each(&|t| t.born), false),
        ("died", each_opt(&|t| t.died), true),
        ("alive", each_bool(&|t| t.died.is_none()), false),
        (
            "max_score",
            f64s(
                rows.iter()
                    .flat_map(|t| std::iter::repeat_n(t.max_score, t.scores.len())),
            ),
            false,
        ),
        ("reached", each_bool(&|t| t.reached), false),
        (
            "step",
            u64s(rows.iter().flat_map(|t| 0..t.scores.len() as u64)),
            false,
        ),
        (
            "score",
            f64s(rows.iter().flat_map(|t| t.scores.iter().copied())),
            false,
        ),
    ])
}
