//! `retrace db export --parquet FILE`: one table of a run as one Parquet file, written with the
//! `parquet` crate's low-level writer (no Arrow), zstd-compressed pages, one row group.
//! `--table iterations`: one row per iteration, the id lists as lists of int64;
//! `--table trajectories`: the trajectories with their scores in long format, one row per
//! trajectory and step (`step`, `score` after the trajectory's columns). Counts, ids and steps
//! are int64 (a value above `i64::MAX` is an error, not a wrapped number), scores, weights and
//! times float64, flags boolean; missing values (a level, a parent, a death) are null.

use super::CliError;
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{BoolType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use sampler::db::{IterationRow, TrajectoryRow};
use std::sync::Arc;

/// The schema of `--table iterations` (Parquet message type; the columns of the CSV export).
pub(crate) const ITERATIONS_SCHEMA: &str = "message iterations {
  required int64 iteration;
  optional double level;
  required int64 k;
  required double weight;
  required int64 reached;
  required int64 model_steps;
  required group killed (LIST) { repeated group list { required int64 element; } }
  required group parents (LIST) { repeated group list { required int64 element; } }
  required group children (LIST) { repeated group list { required int64 element; } }
  required double committed_at;
}";

/// The schema of `--table trajectories` (long format: one row per trajectory and step).
pub(crate) const TRAJECTORIES_SCHEMA: &str = "message trajectories {
  required int64 id;
  required int64 slot;
  optional int64 parent;
  optional int64 branch_step;
  required int64 born;
  optional int64 died;
  required boolean alive;
  required double max_score;
  required boolean reached;
  required int64 step;
  required double score;
}";

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::failed(format!("writing Parquet: {e}"))
}

/// The values of one leaf column, with its definition and repetition levels where the column
/// is optional or a list.
struct Column {
    values: Values,
    def: Option<Vec<i16>>,
    rep: Option<Vec<i16>>,
}

enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

impl Column {
    fn plain(values: Values) -> Column {
        Column {
            values,
            def: None,
            rep: None,
        }
    }
}

/// `v` as int64; `name` names the column in the error for a value above `i64::MAX`.
fn int(name: &str, v: u64) -> Result<i64, CliError> {
    i64::try_from(v).map_err(|_| failed(format!("column `{name}`: {v} does not fit in int64")))
}

/// A required int64 column.
fn ints(name: &str, v: impl Iterator<Item = u64>) -> Result<Column, CliError> {
    let values = v.map(|x| int(name, x)).collect::<Result<_, _>>()?;
    Ok(Column::plain(Values::Int(values)))
}

/// An optional int64 column: definition level 1 for a value, 0 for a null.
fn opt_ints(name: &str, v: impl Iterator<Item = Option<u64>>) -> Result<Column, CliError> {
    let (mut values, mut def) = (Vec::new(), Vec::new());
    for x in v {
        def.push(i16::from(x.is_some()));
        if let Some(x) = x {
            values.push(int(name, x)?);
        }
    }
    Ok(Column {
        values: Values::Int(values),
        def: Some(def),
        rep: None,
    })
}

/// An optional float64 column.
fn opt_floats(v: impl Iterator<Item = Option<f64>>) -> Column {
    let (mut values, mut def) = (Vec::new(), Vec::new());
    for x in v {
        def.push(i16::from(x.is_some()));
        values.extend(x);
    }
    Column {
        values: Values::Float(values),
        def: Some(def),
        rep: None,
    }
}

fn floats(v: impl Iterator<Item = f64>) -> Column {
    Column::plain(Values::Float(v.collect()))
}

fn bools(v: impl Iterator<Item = bool>) -> Column {
    Column::plain(Values::Bool(v.collect()))
}

/// A required list of required int64 (three-level LIST): an empty list is one level pair
/// (definition 0, repetition 0) and no value; element `j` of a list has definition 1 and
/// repetition 0 for `j = 0` (a new row), 1 after.
fn lists<'a>(name: &str, v: impl Iterator<Item = &'a Vec<u64>>) -> Result<Column, CliError> {
    let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
    for ids in v {
        if ids.is_empty() {
            def.push(0);
            rep.push(0);
        }
        for (j, &x) in ids.iter().enumerate() {
            values.push(int(name, x)?);
            def.push(1);
            rep.push(i16::from(j > 0));
        }
    }
    Ok(Column {
        values: Values::Int(values),
        def: Some(def),
        rep: Some(rep),
    })
}

/// A column made when it is written (one column in memory at a time).
type Make<'a> = Box<dyn Fn() -> Result<Column, CliError> + 'a>;

/// The Parquet bytes of `schema` (a message type) with its leaf columns from `columns`, in the
/// schema's order, as one row group.
fn file(schema: &str, columns: Vec<Make<'_>>) -> Result<Vec<u8>, CliError> {
    let schema = Arc::new(parse_message_type(schema).map_err(failed)?);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(failed)?))
        .build();
    let mut out = Vec::new();
    let mut w = SerializedFileWriter::new(&mut out, schema, Arc::new(props)).map_err(failed)?;
    let mut group = w.next_row_group().map_err(failed)?;
    for make in columns {
        let Some(mut writer) = group.next_column().map_err(failed)? else {
            return Err(failed("more columns than the schema has"));
        };
        let c = make()?;
        let (def, rep) = (c.def.as_deref(), c.rep.as_deref());
        match &c.values {
            Values::Int(v) => writer.typed::<Int64Type>().write_batch(v, def, rep),
            Values::Float(v) => writer.typed::<DoubleType>().write_batch(v, def, rep),
            Values::Bool(v) => writer.typed::<BoolType>().write_batch(v, def, rep),
        }
        .map_err(failed)?;
        writer.close().map_err(failed)?;
    }
    if group.next_column().map_err(failed)?.is_some() {
        return Err(failed("fewer columns than the schema has"));
    }
    group.close().map_err(failed)?;
    w.close().map_err(failed)?;
    Ok(out)
}

/// The iteration table, as the CSV export's columns.
pub(crate) fn iterations(rows: &[IterationRow]) -> Result<Vec<u8>, CliError> {
    let r = || rows.iter();
    file(
        ITERATIONS_SCHEMA,
        vec![
            Box::new(|| ints("iteration", r().map(|r| r.iteration))),
            Box::new(|| Ok(opt_floats(r().map(|r| r.level)))),
            Box::new(|| ints("k", r().map(|r| r.k))),
            Box::new(|| Ok(floats(r().map(|r| r.weight)))),
            Box::new(|| ints("reached", r().map(|r| r.reached))),
            Box::new(|| ints("model_steps", r().map(|r| r.model_steps))),
            Box::new(|| lists("killed", r().map(|r| &r.killed))),
            Box::new(|| lists("parents", r().map(|r| &r.parents))),
            Box::new(|| lists("children", r().map(|r| &r.children))),
            Box::new(|| Ok(floats(r().map(|r| r.committed_at)))),
        ],
    )
}

/// The trajectories in long format: one row per trajectory and recorded step.
pub(crate) fn trajectories(rows: &[TrajectoryRow]) -> Result<Vec<u8>, CliError> {
    // Every trajectory column repeats its trajectory's value once per score.
    fn each<'a, T: Clone + 'a>(
        rows: &'a [TrajectoryRow],
        f: impl Fn(&TrajectoryRow) -> T + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        rows.iter()
            .flat_map(move |t| std::iter::repeat_n(f(t), t.scores.len()))
    }
    file(
        TRAJECTORIES_SCHEMA,
        vec![
            Box::new(|| ints("id", each(rows, |t| t.id))),
            Box::new(|| ints("slot", each(rows, |t| t.slot))),
            Box::new(|| opt_ints("parent", each(rows, |t| t.parent))),
            Box::new(|| opt_ints("branch_step", each(rows, |t| t.branch_step))),
            Box::new(|| ints("born", each(rows, |t| t.born))),
            Box::new(|| opt_ints("died", each(rows, |t| t.died))),
            Box::new(|| Ok(bools(each(rows, |t| t.died.is_none())))),
            Box::new(|| Ok(floats(each(rows, |t| t.max_score)))),
            Box::new(|| Ok(bools(each(rows, |t| t.reached)))),
            Box::new(|| {
                let steps = rows.iter().flat_map(|t| 0..t.scores.len() as u64);
                ints("step", steps)
            }),
            Box::new(|| Ok(floats(rows.iter().flat_map(|t| t.scores.iter().copied())))),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_above_i64_max_is_an_error_naming_its_column() {
        let Err(CliError::Failed(text)) = ints("id", [1, u64::MAX].into_iter()) else {
            panic!("not a failure");
        };
        assert!(text.contains("column `id`"), "{text}");
        assert!(text.contains(&u64::MAX.to_string()), "{text}");
    }

    #[test]
    fn list_levels_mark_empty_lists_and_new_rows() {
        let rows = [vec![], vec![4, 5, 6], vec![7]];
        let c = lists("killed", rows.iter()).unwrap();
        assert_eq!(c.def.unwrap(), [0, 1, 1, 1, 1]);
        assert_eq!(c.rep.unwrap(), [0, 0, 1, 1, 0]);
        assert!(matches!(c.values, Values::Int(v) if v == [4, 5, 6, 7]));
    }
}
