//! Error messages that name the real problem (the key, the unit, the section), with exit code 2
//! for every usage error, including a directory that holds no run.

use crate::common::{assert_usage_error, ok, retrace};

const BASE: &str = "[tams]\nntrajectories = 10\nnsplititer = 100\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

/// The one stderr line of a usage error of `tams --config` on `config`.
fn config_error(config: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let o = retrace(&["tams", "--config", path.to_str().unwrap()]);
    assert_usage_error(&o, config);
    let err = String::from_utf8(o.stderr).unwrap();
    // Strip `error: PATH: `.
    let prefix = format!("error: {}: ", path.display());
    err.trim_end()
        .strip_prefix(&prefix)
        .unwrap_or(&err)
        .to_owned()
}

/// The one stderr line of a usage error of `args`.
fn usage_error(args: &[&str]) -> String {
    let o = retrace(args);
    assert_usage_error(&o, &format!("{args:?}"));
    String::from_utf8(o.stderr).unwrap()
}

fn without(section: &str) -> String {
    let start = BASE.find(&format!("[{section}]")).unwrap();
    let end = BASE[start + 1..]
        .find('[')
        .map_or(BASE.len(), |i| start + 1 + i);
    format!("{}{}", &BASE[..start], &BASE[end..])
}

#[test]
fn a_missing_section_is_named_as_a_section() {
    for s in ["tams", "trajectory", "model"] {
        assert_eq!(
            config_error(&without(s)),
            format!("{s}: missing section [{s}]")
        );
    }
}

#[test]
fn a_bad_model_parameter_is_named_not_the_model() {
    let pink = BASE.replace("\"brownian\"", "\"allen_cahn\"\nnoise = \"pink\"");
    assert_eq!(
        config_error(&pink),
        "model.noise: unknown variant `pink`, expected `gaussian` or `uniform`"
    );
    // An unknown model name is still reported as such.
    let e = config_error(&BASE.replace("\"brownian\"", "\"browniann\""));
    assert!(
        e.starts_with("model.name: unknown model `browniann`"),
        "{e}"
    );
}

#[test]
fn toml_range_and_duplicate_errors_name_the_key() {
    for big in ["9223372036854775808", "99999999999999999999"] {
        let text = BASE.replace("ntrajectories = 10", &format!("ntrajectories = {big}"));
        assert_eq!(
            config_error(&text),
            format!(
                "tams.ntrajectories: integer {big} is out of range: TOML integers are 64-bit signed, at most 9223372036854775807 (line 2)"
            )
        );
    }
    let dup = BASE.replace(
        "ntrajectories = 10",
        "ntrajectories = 10\nntrajectories = 11",
    );
    assert_eq!(
        config_error(&dup),
        "tams.ntrajectories: duplicate key (lines 2 and 3)"
    );
    let table = format!("{BASE}[tams]\nl = 2\n");
    assert_eq!(
        config_error(&table),
        "tams: duplicate table [tams] (line 10)"
    );
}

#[test]
fn units_are_blamed_for_bad_units_and_range_for_big_sizes() {
    let plan = ["plan", "--steps", "100", "--ram", "1GiB"];
    let e = usage_error(&[&plan[..], &["--state-bytes", "8XiB"]].concat());
    assert!(e.contains("bad unit `XiB` in `8XiB`: use B, kB"), "{e}");
    let e = usage_error(
        &[
            &plan[..],
            &["--state-bytes", "8", "--forward-cost", "1fortnight"],
        ]
        .concat(),
    );
    assert!(
        e.contains("bad unit `fortnight` in `1fortnight`: use s, ms, us or ns"),
        "{e}"
    );
    let e = usage_error(&[&plan[..], &["--state-bytes", "16EiB"]].concat());
    assert!(
        e.contains("size `16EiB` is out of range: at most 2^64 - 1 bytes"),
        "{e}"
    );
    let budget = |v: &str| {
        BASE.replace(
            "targetscore = 3.0",
            &format!("targetscore = 3.0\npolicy = \"uniform\"\nmemory_budget = {v}"),
        )
    };
    assert_eq!(
        config_error(&budget("\"16EiB\"")),
        "trajectory.memory_budget: size `16EiB` is out of range: at most 2^64 - 1 bytes (just under 16 EiB)"
    );
    // 0 and "0B" mean the same and get the same error.
    let zero = config_error(&budget("0"));
    let zero_b = config_error(&budget("\"0B\""));
    assert!(
        zero.starts_with("trajectory.memory_budget: must be at least 1 byte, got 0"),
        "{zero}"
    );
    assert!(
        zero_b.starts_with("trajectory.memory_budget: must be at least 1 byte, got"),
        "{zero_b}"
    );
}

#[test]
fn slots_beyond_the_step_count_are_capped() {
    let schedule = |args: &[&str]| -> (String, String) {
        let out = ok(&[&["schedule"][..], args].concat());
        let (actions, summary) = out.trim_end().rsplit_once('\n').unwrap();
        (actions.to_owned(), summary.to_owned())
    };
    let max = u64::MAX.to_string();
    let (a, s) = schedule(&["binomial", "--steps", "5", "--snaps", &max]);
    assert_eq!(a, schedule(&["binomial", "--steps", "5", "--snaps", "5"]).0);
    assert!(
        s.contains(&format!("snaps={max}")) && s.contains("forward=9"),
        "{s}"
    );
    let (a, _) = schedule(&["multistage", "--steps", "50", "--ram", "3", "--disk", &max]);
    assert_eq!(
        a,
        schedule(&["multistage", "--steps", "50", "--ram", "3", "--disk", "47"]).0
    );
    let (a, _) = schedule(&["multistage", "--steps", "50", "--ram", &max, "--disk", &max]);
    assert_eq!(
        a,
        schedule(&["multistage", "--steps", "50", "--ram", "50", "--disk", "0"]).0
    );
}

#[test]
fn a_directory_without_a_run_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let m = missing.to_str().unwrap();
    let empty = tmp.path().to_str().unwrap();
    for dir in [m, empty] {
        for args in [
            vec!["db", "show", dir],
            vec!["db", "export", dir, "--json", "-"],
            vec!["tams", "--restart", dir],
        ] {
            let e = usage_error(&args);
            assert!(e.contains("no run database here"), "{args:?}: {e}");
        }
    }
}
