//! `retrace schedule mixed` and the mixed row of `retrace plan`.

use crate::common::{assert_usage_error, retrace};
use revolve::{Action, Capacity, Mixed, validate};

fn stdout_of(args: &[&str]) -> String {
    let out = retrace(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn schedule_mixed_prints_a_valid_optimal_schedule_with_records() {
    for (disk, cap) in [
        (false, Capacity::ram(3)),
        (true, Capacity { ram: 0, disk: 3 }),
    ] {
        let mut args = vec!["schedule", "mixed", "--steps", "10", "--snaps", "3"];
        if disk {
            args.push("--disk");
        }
        let text = stdout_of(&args);
        let lines: Vec<&str> = text.lines().collect();
        let (summary, actions) = lines.split_last().unwrap();
        let parsed: Vec<Action> = actions.iter().map(|l| l.parse().unwrap()).collect();
        assert!(parsed.iter().any(|a| matches!(a, Action::Record { .. })));
        let stats = validate(10, cap, parsed).unwrap();
        assert_eq!(stats.forward, 19);
        assert_eq!(*summary, stats.summary_line(3));
        assert!(summary.contains(" forward=19 ") && summary.contains(" records="));
        let want = if disk { "peak_ram=0" } else { "peak_disk=0" };
        assert!(summary.contains(want), "{summary}");
    }
    let only = stdout_of(&[
        "schedule",
        "mixed",
        "--steps",
        "100",
        "--snaps",
        "5",
        "--summary",
    ]);
    assert_eq!(only.lines().count(), 1);
    assert!(
        only.starts_with("# steps=100 snaps=5 forward=352 reverse=100 "),
        "{only}"
    );
}

#[test]
fn schedule_mixed_refuses_bad_arguments() {
    let cases: &[&[&str]] = &[
        &["schedule", "mixed", "--steps", "0", "--snaps", "3"],
        &["schedule", "mixed", "--steps", "10", "--snaps", "0"],
        &["schedule", "mixed", "--steps", "10"],
        // The table would exceed its limit.
        &[
            "schedule",
            "mixed",
            "--steps",
            "1000000000000",
            "--snaps",
            "100",
        ],
    ];
    for args in cases {
        assert_usage_error(&retrace(args), &format!("{args:?}"));
    }
    let err = String::from_utf8(
        retrace(&[
            "schedule",
            "mixed",
            "--steps",
            "1000000000000",
            "--snaps",
            "100",
        ])
        .stderr,
    )
    .unwrap();
    assert!(
        err.contains("--steps 1000000000000 --snaps 100") && err.contains("limit"),
        "{err}"
    );
}

/// The cells of the table's row for `strategy` (cells are separated by 2+ spaces).
fn row(table: &str, strategy: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(strategy))
        .unwrap_or_else(|| panic!("no {strategy} row in\n{table}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn plan_has_a_mixed_row_priced_by_the_record_size() {
    let base = [
        "plan",
        "--steps",
        "1000",
        "--state-bytes",
        "8MiB",
        "--ram",
        "200MiB",
    ];
    // 25 units of a state's size.
    let m = row(&stdout_of(&base), "mixed");
    assert_eq!(m[1], "units=25");
    assert_eq!(m[2], Mixed::optimal_forward(1000, 25).unwrap().to_string());
    assert_eq!(m[11], "validated");
    // Records twice the state's size: 12 units of 16 MiB.
    let mut args = base.to_vec();
    args.extend(["--record-bytes", "16MiB"]);
    let m = row(&stdout_of(&args), "mixed");
    assert_eq!(m[1], "units=12");
    assert_eq!(m[2], Mixed::optimal_forward(1000, 12).unwrap().to_string());
    let mut args = base.to_vec();
    args.extend(["--record-bytes", "0"]);
    assert_usage_error(&retrace(&args), "--record-bytes 0");
}
