//! `retrace demo`: the adjoint table and checks, and one-line usage errors with exit code 2.

use std::process::Command;

fn demo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_retrace"))
        .arg("demo")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn small_demo_prints_the_table_and_passes_its_checks() {
    let out = demo(&["--points", "300", "--steps", "40", "--snaps", "1,4,40"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One row per snaps, its forward count equal to the optimum T(n, s).
    for s in [1u64, 4, 40] {
        let t = revolve::cost::optimal_forward(40, s).unwrap();
        let row = text
            .lines()
            .find(|l| l.split_whitespace().take(2).collect::<Vec<_>>() == ["40", &s.to_string()])
            .unwrap_or_else(|| panic!("no row for snaps={s}:\n{text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[2], t.to_string(), "{row}");
        assert_eq!(cols[3], t.to_string(), "{row}");
        assert_eq!(cols[4], "40", "{row}");
    }
    assert!(
        text.contains("bitwise identical across snaps: yes"),
        "{text}"
    );
    assert!(text.contains("(ok)"), "{text}");
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &["--steps", "0"][..],
        &["--snaps", "0"],
        &["--points", "2"],
        &["--nu", "-1"],
        &["--steps", "x"],
    ] {
        let out = demo(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
