//! `retrace schedule online` and `retrace schedule multistage`: output format, summary, exit codes.

use crate::common::{assert_usage_error, retrace};
use revolve::cost::optimal_forward;
use revolve::schedule::online;
use revolve::{Action, Capacity, Level, Multistage, Stats, validate};

/// Run, check success, parse every action line back (round trip) and validate; return the
/// validator's stats and the summary line.
fn run_and_check(args: &[&str], steps: u64, capacity: Capacity) -> (Stats, String) {
    let out = retrace(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (summary, actions) = lines.split_last().unwrap();
    for l in actions {
        assert_eq!(l.parse::<Action>().unwrap().to_string(), *l);
    }
    let stats = validate(
        steps,
        capacity,
        actions.iter().map(|l| l.parse::<Action>().unwrap()),
    )
    .unwrap();
    (stats, summary.to_string())
}

fn summary_only(args: &[&str]) -> String {
    let out = retrace(&[args, &["--summary"]].concat());
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn online_prints_the_simulated_run() {
    for (n, s) in [(1u64, 1u64), (10, 3), (101, 5), (300, 4)] {
        let (ns, ss) = (n.to_string(), s.to_string());
        let args = ["schedule", "online", "--steps", &ns, "--snaps", &ss];
        let (stats, summary) = run_and_check(&args, n, Capacity::ram(s));
        // The same stream as the library's simulation.
        let lib = validate(n, Capacity::ram(s), online::simulate(n, s).unwrap()).unwrap();
        assert_eq!(stats, lib);
        assert_eq!(summary, stats.summary_line(s));
        assert!(stats.forward >= optimal_forward(n, s).unwrap());
        assert_eq!(stats.peak[Level::Disk.index()], 0);
        assert_eq!(summary_only(&args), format!("{summary}\n"));
    }
    // Optimal while n <= beta(s, 2) = 10 for s = 3; better than C++ Revolve's online 431 here.
    let (stats, _) = run_and_check(
        &["schedule", "online", "--steps", "10", "--snaps", "3"],
        10,
        Capacity::ram(3),
    );
    assert_eq!(stats.forward, 25);
    let s = summary_only(&["schedule", "online", "--steps", "101", "--snaps", "5"]);
    let forward: u64 = s
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("forward="))
        .unwrap()
        .parse()
        .unwrap();
    assert!((421..=431).contains(&forward), "{s}");
}

#[test]
fn multistage_prints_ram_and_disk_checkpoints() {
    for (n, r, d) in [
        (10u64, 2u64, 1u64),
        (10, 1, 3),
        (100, 1, 4),
        (57, 0, 3),
        (30, 3, 0),
    ] {
        let (ns, rs, ds) = (n.to_string(), r.to_string(), d.to_string());
        let args = [
            "schedule",
            "multistage",
            "--steps",
            &ns,
            "--ram",
            &rs,
            "--disk",
            &ds,
        ];
        let cap = Capacity { ram: r, disk: d };
        let (stats, summary) = run_and_check(&args, n, cap);
        let lib = validate(n, cap, Multistage::new(n, r, d).unwrap()).unwrap();
        assert_eq!(stats, lib);
        assert_eq!(stats.forward, optimal_forward(n, r + d).unwrap());
        assert_eq!(summary, stats.summary_line(r + d));
        assert!(summary.starts_with(&format!("# steps={n} snaps={} ", r + d)));
        assert_eq!(summary_only(&args), format!("{summary}\n"));
        // --exact: the same forward count, never more disk writes.
        let exact = [&args[..], &["--exact"]].concat();
        let (ex, _) = run_and_check(&exact, n, cap);
        assert_eq!(ex.forward, stats.forward);
        assert!(ex.stores[1] <= stats.stores[1]);
    }
    // Reference values (checkpoint_schedules' MultistageCheckpointSchedule).
    let (s, _) = run_and_check(
        &[
            "schedule",
            "multistage",
            "--steps",
            "10",
            "--ram",
            "2",
            "--disk",
            "1",
        ],
        10,
        Capacity { ram: 2, disk: 1 },
    );
    assert_eq!((s.forward, s.stores[1]), (25, 1));
    let (s, _) = run_and_check(
        &[
            "schedule",
            "multistage",
            "--steps",
            "10",
            "--ram",
            "1",
            "--disk",
            "3",
        ],
        10,
        Capacity { ram: 1, disk: 3 },
    );
    assert_eq!((s.forward, s.stores[1]), (24, 3));
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["schedule", "online", "--steps", "0", "--snaps", "3"],
        &["schedule", "online", "--steps", "10", "--snaps", "0"],
        &["schedule", "online", "--steps", "10"],
        &["schedule", "online", "--steps", "x", "--snaps", "3"],
        &[
            "schedule",
            "multistage",
            "--steps",
            "10",
            "--ram",
            "0",
            "--disk",
            "0",
        ],
        &[
            "schedule",
            "multistage",
            "--steps",
            "0",
            "--ram",
            "1",
            "--disk",
            "1",
        ],
        &["schedule", "multistage", "--steps", "10", "--ram", "1"],
        &[
            "schedule",
            "multistage",
            "--steps",
            "10",
            "--ram",
            "-1",
            "--disk",
            "1",
        ],
        &[
            "schedule",
            "multistage",
            "--steps",
            "10",
            "--ram",
            "1",
            "--disk",
            "1",
            "--bogus",
        ],
        // Beyond the exact programme's limit.
        &[
            "schedule",
            "multistage",
            "--steps",
            "20000",
            "--ram",
            "2",
            "--disk",
            "2",
            "--exact",
        ],
        // (R + D beyond 2^64 is no error: slots are capped at the step count, see
        // cli_messages::slots_beyond_the_step_count_are_capped.)
    ];
    for args in cases {
        assert_usage_error(&retrace(args), &format!("{args:?}"));
    }
}
