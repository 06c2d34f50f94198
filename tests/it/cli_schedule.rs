//! `retrace schedule binomial`: output format, summary line, exit codes.

use crate::common::{assert_usage_error, retrace};
use revolve::{Action, Capacity, validate};
use std::process::Command;

#[test]
fn prints_actions_then_summary() {
    let out = retrace(&["schedule", "binomial", "--steps", "10", "--snaps", "3"]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (summary, actions) = lines.split_last().unwrap();
    assert_eq!(
        *summary,
        "# steps=10 snaps=3 forward=25 reverse=10 stores=6 restores=9 peak_ram=3 peak_disk=0"
    );
    assert_eq!(actions[0], "store 0 ram");
    assert_eq!(*actions.last().unwrap(), "reverse 0");
    // Every line parses back and the sequence is a valid optimal schedule.
    let parsed = actions.iter().map(|l| l.parse::<Action>().unwrap());
    let stats = validate(10, Capacity::ram(3), parsed).unwrap();
    assert_eq!((stats.forward, stats.stores[0]), (25, 6));
    for l in actions {
        assert_eq!(l.parse::<Action>().unwrap().to_string(), *l);
    }
}

#[test]
fn summary_only() {
    let out = retrace(&[
        "schedule",
        "binomial",
        "--steps",
        "100",
        "--snaps",
        "5",
        "--summary",
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "# steps=100 snaps=5 forward=416 reverse=100 stores=44 restores=99 peak_ram=5 peak_disk=0\n"
    );
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["schedule", "binomial", "--steps", "0", "--snaps", "3"],
        &["schedule", "binomial", "--steps", "10", "--snaps", "0"],
        &["schedule", "binomial", "--steps", "10"],
        &["schedule", "binomial", "--steps", "ten", "--snaps", "3"],
        &["schedule", "binomial", "--steps", "-5", "--snaps", "3"],
        &[
            "schedule", "binomial", "--steps", "10", "--snaps", "3", "--bogus",
        ],
        &["schedule", "nosuch", "--steps", "10", "--snaps", "3"],
        // T(n, 1) overflows 64 bits.
        &[
            "schedule",
            "binomial",
            "--steps",
            "18446744073709551615",
            "--snaps",
            "1",
        ],
    ];
    for args in cases {
        assert_usage_error(&retrace(args), &format!("{args:?}"));
    }
    let err =
        String::from_utf8(retrace(&["schedule", "binomial", "--steps", "10"]).stderr).unwrap();
    assert!(err.contains("--snaps"), "{err}");
}

#[test]
fn closed_pipe_is_quiet() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args([
            "schedule", "binomial", "--steps", "1000000", "--snaps", "10",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
