//! Every input is bounded: every numeric flag of every subcommand (enumerated from
//! `retrace <sub> --help`, so a new flag is not missed) given 0, 1, 2^63, 2^64-1, 1e30, NaN and
//! -1 either succeeds (where the value is valid) or exits 2 with one line naming the flag; never
//! a panic, an abort or an unbounded run. The other arguments are small, so every run is
//! bounded by construction. Config files are read with a cap.
#![cfg(unix)]

use crate::common::{assert_usage_error, ok, retrace};

const CONFIG: &str = "[tams]\nntrajectories = 10\nnsplititer = 5\nseed = 5\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.05\ntargetscore = 3.5\n[model]\nname = \"brownian\"\n";

const VALUES: [&str; 7] = [
    "0",
    "1",
    "9223372036854775808",
    "18446744073709551615",
    "1e30",
    "NaN",
    "-1",
];

/// The options taking a value in `retrace <sub> --help`.
fn value_flags(sub: &[&str]) -> Vec<String> {
    let help = ok(&[sub, &["--help"]].concat());
    help.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix("-h, ").unwrap_or(t);
            let (flag, rest) = t.split_once(' ')?;
            (flag.starts_with("--") && rest.starts_with('<')).then(|| flag.to_owned())
        })
        .collect()
}

/// `retrace ARGS` run in `dir`: a probe such as `--svg=abc` or `--db=abc` writes there, not
/// into the source tree.
fn retrace_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run retrace")
}

/// `base` with `flag` (and its value) removed, then `flag=value` appended.
fn with(base: &[String], flag: &str, value: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut skip = false;
    for a in base {
        if skip {
            skip = false;
        } else if a == flag {
            skip = true;
        } else {
            v.push(a.clone());
        }
    }
    v.push(format!("{flag}={value}"));
    v
}

#[test]
fn every_numeric_flag_takes_extreme_values_with_a_clear_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p).to_str().unwrap().to_owned();
    std::fs::write(t("c.toml"), CONFIG).unwrap();
    let run = t("run");
    ok(&["tams", "--config", &t("c.toml"), "--db", &run]);
    let svg = t("out.svg");
    let subs: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec!["schedule", "binomial"],
            vec!["--steps", "10", "--snaps", "3", "--summary"],
        ),
        (
            vec!["schedule", "online"],
            vec!["--steps", "10", "--snaps", "3", "--summary"],
        ),
        (
            vec!["schedule", "multistage"],
            vec!["--steps", "10", "--ram", "2", "--disk", "1", "--summary"],
        ),
        (
            vec!["demo"],
            vec!["--points", "16", "--steps", "10", "--snaps", "2"],
        ),
        (vec!["tams"], vec!["--config", &t("c.toml")]),
        (vec!["db", "show"], vec![&run]),
        (vec!["db", "export"], vec![&run, "--csv", "-"]),
        (vec!["db", "plot"], vec![&run, "--svg", &svg]),
        (
            vec!["plan"],
            vec!["--steps", "10", "--state-bytes", "8", "--ram", "80"],
        ),
    ]
    .into_iter()
    .map(|(s, b)| (s, b.into_iter().map(str::to_owned).collect()))
    .collect();
    let mut tried = 0;
    for (sub, base) in &subs {
        for flag in value_flags(sub) {
            // Numeric: a word is refused by the parser, naming the flag.
            let probe = retrace_in(
                tmp.path(),
                &[
                    &sub[..],
                    &with(base, &flag, "abc")
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                ]
                .concat(),
            );
            let err = String::from_utf8_lossy(&probe.stderr);
            if !(probe.status.code() == Some(2) && err.contains(&format!("for '{flag}"))) {
                continue;
            }
            for value in VALUES {
                let args = with(base, &flag, value);
                let args: Vec<&str> = sub
                    .iter()
                    .copied()
                    .chain(args.iter().map(String::as_str))
                    .collect();
                let o = retrace_in(tmp.path(), &args);
                let err = String::from_utf8_lossy(&o.stderr);
                match o.status.code() {
                    Some(0) => {}
                    Some(2) => {
                        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
                        assert!(err.starts_with("error: "), "{args:?}: {err}");
                        assert!(
                            err.contains(&flag),
                            "{args:?}: the message names no flag: {err}"
                        );
                    }
                    other => panic!("{args:?}: exit {other:?}: {err}"),
                }
                tried += 1;
            }
        }
    }
    // Every subcommand has numeric flags; they were all found.
    assert!(tried >= 7 * 25, "only {tried} cases: flags were missed");
}

#[test]
fn an_endless_or_huge_config_file_is_refused_quickly() {
    for path in ["/dev/zero", "/dev/urandom"] {
        let o = retrace(&["tams", "--config", path]);
        assert_usage_error(&o, path);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{path}: cannot read: larger than 4.00 MiB")),
            "{err}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.toml");
    let mut text = CONFIG.to_owned();
    text.push_str(&"# padding\n".repeat(500_000));
    std::fs::write(&big, text).unwrap();
    assert_usage_error(
        &retrace(&["tams", "--config", big.to_str().unwrap()]),
        "5 MB config",
    );
}

#[test]
fn online_schedules_have_the_binomial_step_limit() {
    for sub in ["binomial", "online"] {
        let o = retrace(&[
            "schedule",
            sub,
            "--steps",
            "18446744073709551615",
            "--snaps",
            "3",
        ]);
        assert_usage_error(&o, sub);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("overflow"), "{sub}: {err}");
    }
}

#[test]
fn demo_sizes_and_repeats_are_refused_before_allocating() {
    for (args, want) in [
        (
            vec!["demo", "--points", "18446744073709551615"],
            "--points: must be between 3 and",
        ),
        (
            vec!["demo", "--points", "10000000000"],
            "--points: must be between 3 and",
        ),
        (
            vec!["demo", "--points", "10000000", "--snaps", "1000"],
            "--points 10000000 --snaps 1000",
        ),
        (
            vec!["demo", "--nu", "NaN"],
            "--nu: must be a finite number > 0",
        ),
    ] {
        let o = retrace(&args);
        assert_usage_error(&o, &format!("{args:?}"));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{args:?}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let o = retrace(&[
        "tams",
        "--config",
        cfg.to_str().unwrap(),
        "--repeats",
        "18446744073709551615",
    ]);
    assert_usage_error(&o, "--repeats");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--repeats: must be at most 1000000"));
}
