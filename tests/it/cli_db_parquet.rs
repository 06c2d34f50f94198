//! `retrace db export --parquet` (feature `parquet`): both tables read back with the `parquet`
//! crate's own reader equal the CSV export value for value, with int64 / float64 / boolean
//! columns; a bad output path or table is a clear usage error.

use crate::common::{assert_usage_error, ok, retrace};
use parquet::basic::{ConvertedType, Repetition, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 30\nnsplititer = 60\nl = 1\nseed = 5\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 2.5\n[model]\nname = \"brownian\"\n";

/// A finished run in `tmp/run`; returns its path.
fn run(tmp: &Path) -> String {
    let cfg = tmp.join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let dir = tmp.join("run");
    ok(&[
        "tams",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        dir.to_str().unwrap(),
    ]);
    dir.to_str().unwrap().to_string()
}

/// A value as the CSV export writes it: integers and floats by `Display` (the float's shortest
/// round-trip form, so equal text is equal bits), booleans `1`/`0`, null empty, a list its
/// elements space-separated. Panics on a type the export does not write.
fn csv_text(f: &Field) -> String {
    match f {
        Field::Null => String::new(),
        Field::Long(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        Field::Bool(b) => u8::from(*b).to_string(),
        Field::ListInternal(l) => l
            .elements()
            .iter()
            .map(csv_text)
            .collect::<Vec<_>>()
            .join(" "),
        other => panic!("unexpected Parquet value {other:?}"),
    }
}

/// The leaf columns of the file: (dotted path, physical type).
fn leaves(reader: &SerializedFileReader<std::fs::File>) -> Vec<(String, Physical)> {
    let schema = reader.metadata().file_metadata().schema_descr();
    schema
        .columns()
        .iter()
        .map(|c| (c.path().string(), c.physical_type()))
        .collect()
}

/// The rows of the Parquet file `path`, each as (column name, CSV text).
fn rows(
    path: &Path,
) -> (
    SerializedFileReader<std::fs::File>,
    Vec<Vec<(String, String)>>,
) {
    let reader = SerializedFileReader::try_from(path).unwrap();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            r.unwrap()
                .get_column_iter()
                .map(|(name, f)| (name.clone(), csv_text(f)))
                .collect()
        })
        .collect();
    (reader, rows)
}

/// The CSV export of `table` as a header and rows of cells.
fn csv(dir: &str, table: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = ok(&["db", "export", dir, "--csv", "-", "--table", table]);
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let cells = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, cells)
}

fn export(dir: &str, table: &str, out: &Path) {
    ok(&[
        "db",
        "export",
        dir,
        "--table",
        table,
        "--parquet",
        out.to_str().unwrap(),
    ]);
}

#[test]
fn parquet_iterations_equal_the_csv_export() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let file = tmp.path().join("iterations.parquet");
    export(&dir, "iterations", &file);
    let (reader, got) = rows(&file);
    let (header, want) = csv(&dir, "iterations");
    assert!(want.len() > 2, "too few iterations: {}", want.len());
    // Empty id lists occur (iteration 0) and non-empty ones.
    assert!(want.iter().any(|r| r[6].is_empty()) && want.iter().any(|r| !r[6].is_empty()));
    let got: Vec<Vec<String>> = got
        .into_iter()
        .map(|r| {
            let names: Vec<&String> = r.iter().map(|(n, _)| n).collect();
            assert_eq!(names, header.iter().collect::<Vec<_>>());
            r.into_iter().map(|(_, v)| v).collect()
        })
        .collect();
    assert_eq!(got, want);
    use Physical::{DOUBLE, INT64};
    let want_types = [
        ("iteration", INT64),
        ("level", DOUBLE),
        ("k", INT64),
        ("weight", DOUBLE),
        ("reached", INT64),
        ("model_steps", INT64),
        ("killed.list.element", INT64),
        ("parents.list.element", INT64),
        ("children.list.element", INT64),
        ("committed_at", DOUBLE),
    ];
    let want_types: Vec<(String, Physical)> = want_types
        .iter()
        .map(|(n, t)| (n.to_string(), *t))
        .collect();
    assert_eq!(leaves(&reader), want_types);
    let fields = reader.metadata().file_metadata().schema().get_fields();
    for f in fields {
        let info = f.get_basic_info();
        let nullable = info.name() == "level";
        assert_eq!(
            info.repetition() == Repetition::OPTIONAL,
            nullable,
            "{}",
            info.name()
        );
        let list = ["killed", "parents", "children"].contains(&info.name());
        assert_eq!(
            info.converted_type() == ConvertedType::LIST,
            list,
            "{}",
            info.name()
        );
    }
}

#[test]
fn parquet_trajectories_are_the_csv_export_in_long_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let file = tmp.path().join("trajectories.parquet");
    export(&dir, "trajectories", &file);
    let (reader, got) = rows(&file);
    let (header, csv_rows) = csv(&dir, "trajectories");
    assert_eq!(header[9..], ["nscores", "scores"]);
    // The CSV's row per trajectory, one row per step: its columns but the scores, then the
    // step and its score.
    let mut want = Vec::new();
    for r in &csv_rows {
        let scores: Vec<&str> = r[10].split(' ').collect();
        assert_eq!(scores.len().to_string(), r[9]);
        for (step, s) in scores.iter().enumerate() {
            let mut row = r[..9].to_vec();
            row.extend([step.to_string(), s.to_string()]);
            want.push(row);
        }
    }
    assert!(want.len() > csv_rows.len());
    // Null parents (the initial ensemble) and deaths occur, and values.
    assert!(csv_rows.iter().any(|r| r[2].is_empty()) && csv_rows.iter().any(|r| !r[2].is_empty()));
    assert!(csv_rows.iter().any(|r| r[5].is_empty()) && csv_rows.iter().any(|r| !r[5].is_empty()));
    let mut names: Vec<String> = header[..9].to_vec();
    names.extend(["step".into(), "score".into()]);
    let got: Vec<Vec<String>> = got
        .into_iter()
        .map(|r| {
            assert_eq!(
                r.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                names.iter().collect::<Vec<_>>()
            );
            r.into_iter().map(|(_, v)| v).collect()
        })
        .collect();
    assert_eq!(got, want);
    use Physical::{BOOLEAN, DOUBLE, INT64};
    let types = [
        INT64, INT64, INT64, INT64, INT64, INT64, BOOLEAN, DOUBLE, BOOLEAN, INT64, DOUBLE,
    ];
    let want_types: Vec<(String, Physical)> = names.iter().cloned().zip(types).collect();
    assert_eq!(leaves(&reader), want_types);
    let optional: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .filter(|f| f.get_basic_info().repetition() == Repetition::OPTIONAL)
        .map(|f| f.name().to_string())
        .collect();
    assert_eq!(optional, ["parent", "branch_step", "died"]);
}

#[test]
fn parquet_to_stdout_is_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let file = tmp.path().join("t.parquet");
    export(&dir, "trajectories", &file);
    let out = retrace(&["db", "export", &dir, "--parquet", "-"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(&file).unwrap());
    assert_eq!(&out.stdout[..4], b"PAR1");
}

#[test]
fn parquet_bad_outputs_and_tables_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let missing = tmp.path().join("no/such/dir/t.parquet");
    let out = retrace(&["db", "export", &dir, "--parquet", missing.to_str().unwrap()]);
    assert_usage_error(&out, "missing directory");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--parquet") && err.contains("does not exist"),
        "{err}"
    );
    let out = retrace(&[
        "db",
        "export",
        &dir,
        "--parquet",
        tmp.path().to_str().unwrap(),
    ]);
    assert_usage_error(&out, "a directory");
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a directory"));
    // Inside the run directory: refused before anything is written.
    let inside = Path::new(&dir).join("t.parquet");
    let out = retrace(&["db", "export", &dir, "--parquet", inside.to_str().unwrap()]);
    assert_usage_error(&out, "inside the run");
    assert!(!inside.exists());
    let good = tmp.path().join("t.parquet");
    let out = retrace(&[
        "db",
        "export",
        &dir,
        "--parquet",
        good.to_str().unwrap(),
        "--table",
        "scores",
    ]);
    assert_usage_error(&out, "unknown table");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'scores' for '--table")
            && err.contains("expected one of: trajectories, iterations"),
        "{err}"
    );
    assert!(!good.exists());
}
