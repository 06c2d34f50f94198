//! `retrace plan`: the table, fits marking, size parsing, the SVG, exit codes.

use crate::common::xml::well_formed;
use crate::common::{assert_usage_error, retrace};
use revolve::cost::optimal_forward;

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

/// The table's row for `strategy`, split into cells (cells are separated by 2+ spaces).
fn row<'a>(table: &'a str, strategy: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(strategy))
        .unwrap_or_else(|| panic!("no {strategy} row in\n{table}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn table_with_units_and_fits() {
    // 1000 steps of 8 MiB; 200 MiB RAM = 25 states; no disk: store-all does not fit.
    let t = stdout_of(&[
        "plan",
        "--steps",
        "1000",
        "--state-bytes",
        "8MiB",
        "--ram",
        "200MiB",
    ]);
    assert!(t.starts_with(
        "# steps=1000 state=8.00 MiB ram=200.00 MiB (25 states) disk=0 B (0 states)\n"
    ));
    let header = row(&t, "strategy");
    assert_eq!(header[2], "forward");
    let b = row(&t, "binomial");
    assert_eq!(b[1], "s=25");
    assert_eq!(b[2], optimal_forward(1000, 25).unwrap().to_string());
    assert_eq!(b[10], "yes");
    assert_eq!(b[11], "validated");
    let s = row(&t, "store-all");
    assert_eq!((s[2], s[3]), ("1999", "1.999"));
    assert_eq!(s[10], "NO (disk)");
    // With 10 GiB of disk, store-all fits (974 states spill to disk).
    let t = stdout_of(&[
        "plan",
        "--steps",
        "1000",
        "--state-bytes",
        "8MiB",
        "--ram",
        "200MiB",
        "--disk",
        "10GiB",
    ]);
    let s = row(&t, "store-all");
    assert_eq!((s[1], s[10]), ("ram=25 disk=974", "yes"));
    // Multistage with all of it reaches store-all's count; online gets the RAM slots.
    let m = row(&t, "multistage");
    assert_eq!((m[1], m[2], m[10]), ("R=25 D=1000", "1999", "yes"));
    let o = row(&t, "online");
    assert_eq!(o[1], "s=25");
    assert!(o[2].parse::<u64>().unwrap() >= optimal_forward(1000, 25).unwrap());
    // The exhaustive cost-aware table is too large here: the two-level search plans it.
    let c = row(&t, "cost-aware");
    assert_eq!(
        (c[1], c[10], c[11]),
        ("R=25 D=1000 search", "yes", "validated")
    );
}

/// Seconds from the table's time cell (`5.559 s`, `3.20 min`, ...).
fn modelled_secs(cell: &str) -> f64 {
    let (v, unit) = cell.split_once(' ').unwrap();
    let v: f64 = v.parse().unwrap();
    v * match unit {
        "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => panic!("unit {unit}"),
    }
}

#[test]
fn readme_example_has_the_fastest_fitting_cost_aware_row() {
    let t = stdout_of(&[
        "plan",
        "--steps",
        "1000",
        "--state-bytes",
        "8MiB",
        "--ram",
        "160MiB",
        "--disk",
        "2GiB",
        "--forward-cost",
        "1ms",
        "--reverse-cost",
        "2ms",
        "--disk-bandwidth",
        "1GB/s",
    ]);
    let c = row(&t, "cost-aware");
    assert_eq!((c[1], c[10]), ("R=20 D=256 search", "yes"), "{t}");
    let best = modelled_secs(c[9]);
    for s in ["store-all", "periodic", "binomial", "multistage", "online"] {
        let r = row(&t, s);
        if r.len() > 10 && r[10] == "yes" {
            assert!(
                best <= modelled_secs(r[9]),
                "{s} is faster than cost-aware:\n{t}"
            );
        }
    }
    // It beats RAM-only binomial here.
    assert!(best < modelled_secs(row(&t, "binomial")[9]), "{t}");
}

#[test]
fn large_n_uses_closed_forms_and_skips_the_rest() {
    let t = stdout_of(&[
        "plan",
        "--steps",
        "1e9",
        "--state-bytes",
        "1MiB",
        "--ram",
        "64MiB",
        "--disk",
        "1TiB",
    ]);
    let b = row(&t, "binomial");
    assert_eq!(
        b[2],
        optimal_forward(1_000_000_000, 64).unwrap().to_string()
    );
    assert_eq!(b[11], "closed-form");
    for s in ["multistage", "cost-aware", "online"] {
        assert!(row(&t, s)[2].starts_with("skipped: n > run limit"), "{s}");
    }
    // A higher run limit runs multistage.
    let t = stdout_of(&[
        "plan",
        "--steps",
        "100001",
        "--state-bytes",
        "1MiB",
        "--ram",
        "8MiB",
        "--disk",
        "1GiB",
        "--run-limit",
        "100001",
    ]);
    assert_eq!(row(&t, "multistage")[11], "validated");
}

#[test]
fn costs_change_the_modelled_time() {
    let base = [
        "plan",
        "--steps",
        "100",
        "--state-bytes",
        "1e6",
        "--ram",
        "10MB",
    ];
    let t = stdout_of(&[&base[..], &["--forward-cost", "1", "--reverse-cost", "0"]].concat());
    // binomial: T(100, 10) = 322 forward steps of 1 s, reverse free.
    assert_eq!(row(&t, "binomial")[9], "5.37 min");
    let t = stdout_of(
        &[
            &base[..],
            &["--forward-cost", "10ms", "--reverse-cost", "20ms"],
        ]
        .concat(),
    );
    assert_eq!(row(&t, "binomial")[9], "5.220 s");
    assert!(t.contains("# model: forward 0.01 s/step, reverse 0.02 s/step, disk write 1.00 GB/s"));
    let t = stdout_of(&[&base[..], &["--disk-bandwidth", "250MB/s"]].concat());
    assert!(
        t.contains("disk write 250.00 MB/s, read 250.00 MB/s"),
        "{t}"
    );
}

#[test]
fn svg_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tradeoff.svg");
    stdout_of(&[
        "plan",
        "--steps",
        "5000",
        "--state-bytes",
        "4MiB",
        "--ram",
        "1GiB",
        "--disk",
        "8GiB",
        "--svg",
        path.to_str().unwrap(),
    ]);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    well_formed(&svg);
    // Two panels over the same memory axis; each has the binomial curve and the strategies.
    let factor = panel(&svg, "factor-panel");
    let time = panel(&svg, "time-panel");
    assert!(
        svg.find(r#"<g id="time-panel" transform="translate(0 440)">"#)
            .is_some()
    );
    for p in [factor, time] {
        assert_eq!(p.matches("<polyline").count(), 1);
        assert!(p.matches("<circle").count() >= 3);
    }
    for name in [
        "store-all",
        "periodic",
        "binomial",
        "multistage",
        "cost-aware",
        "online",
    ] {
        assert!(
            time.contains(&format!(r#"<circle data-strategy="{name}""#)),
            "time panel lacks {name}"
        );
        // The legend gives its modelled time.
        assert!(time.contains(&format!(">{name} ")), "legend lacks {name}");
    }
    assert_eq!(time.matches(r#"class="budget""#).count(), 2);
    assert!(time.contains(">RAM budget<") && time.contains(">RAM+disk budget<"));
    assert!(time.contains("Modelled time against checkpoint memory"));
    // The factor panel's curve: every point inside the plot area.
    let doc: &str = &svg;
    let svg = factor;
    assert_eq!(svg.matches("<polyline").count(), 1);
    let start = svg.find("<polyline points=\"").unwrap() + "<polyline points=\"".len();
    let points = &svg[start..start + svg[start..].find('"').unwrap()];
    let xy: Vec<(f64, f64)> = points
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    assert!(xy.len() > 50);
    for w in xy.windows(2) {
        // Memory grows to the right; the factor falls (y grows downwards).
        assert!(w[0].0 < w[1].0 && w[0].1 <= w[1].1, "{w:?}");
    }
    // x inside the plot; the steep end of the curve leaves through the top, clipped.
    assert!(
        xy.iter()
            .all(|&(x, y)| (70.0..=570.0).contains(&x) && y <= 390.0)
    );
    assert!(xy.last().unwrap().1 >= 40.0);
    assert!(svg.contains(r#"clip-path="url(#plot)""#) && doc.contains(r#"<clipPath id="plot">"#));
    // Markers for the evaluated strategies (coinciding ones share a label), and the legend's.
    assert!(svg.matches("<circle").count() >= 3 + 2);
    for name in ["store-all", "periodic", "binomial", "multistage", "online"] {
        assert!(svg.contains(name), "{name}");
    }
    assert!(svg.contains("store-all (does not fit)"));
    // Balanced angle brackets (nothing unescaped in the text).
    assert_eq!(doc.matches('<').count(), doc.matches('>').count());
}

/// The text of the group `<g id="ID" ...> ... </g>` (groups are not nested in the figure).
fn panel<'a>(svg: &'a str, id: &str) -> &'a str {
    let start = svg
        .find(&format!(r#"<g id="{id}""#))
        .unwrap_or_else(|| panic!("no {id}"));
    let end = start + svg[start..].find("</g>").unwrap();
    &svg[start..end]
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let ok = ["--steps", "10", "--state-bytes", "8", "--ram", "64"];
    let cases: Vec<Vec<&str>> = vec![
        vec!["--steps", "0", "--state-bytes", "8", "--ram", "64"],
        vec!["--steps", "2.5", "--state-bytes", "8", "--ram", "64"],
        vec!["--steps", "10", "--state-bytes", "0", "--ram", "64"],
        vec!["--steps", "10", "--state-bytes", "8"],
        vec!["--steps", "10", "--state-bytes", "8XB", "--ram", "64"],
        vec!["--steps", "10", "--state-bytes", "8", "--ram", "-2GiB"],
        vec!["--steps", "10", "--state-bytes", "8", "--ram", "1e40"],
        vec!["--steps", "10", "--state-bytes", "8", "--ram", "16EiB"],
        [&ok[..], &["--disk", "lots"]].concat(),
        [&ok[..], &["--disk-bandwidth", "0GB/s"]].concat(),
        [&ok[..], &["--disk-bandwidth", "fast"]].concat(),
        [&ok[..], &["--forward-cost", "-1"]].concat(),
        [&ok[..], &["--reverse-cost", "nan"]].concat(),
        [&ok[..], &["--bogus"]].concat(),
    ];
    for args in cases {
        let args = [&["plan"][..], &args].concat();
        assert_usage_error(&retrace(&args), &format!("{args:?}"));
    }
    // An unwritable SVG path is refused before planning (usage error, one line).
    let out = retrace(&[&["plan"][..], &ok, &["--svg", "/nonexistent-dir/x.svg"]].concat());
    assert_usage_error(&out, "--svg in a missing directory");
}

#[test]
fn compression_ratio_fits_more_states_on_disk() {
    let args = |r: &'static str| {
        stdout_of(&[
            "plan",
            "--steps",
            "1000",
            "--state-bytes",
            "8MiB",
            "--ram",
            "80MiB",
            "--disk",
            "800MiB",
            "--compression-ratio",
            r,
        ])
    };
    assert!(args("1").starts_with(
        "# steps=1000 state=8.00 MiB ram=80.00 MiB (10 states) disk=800.00 MiB (100 states)\n"
    ));
    let t = args("4");
    assert!(
        t.starts_with(
            "# steps=1000 state=8.00 MiB ram=80.00 MiB (10 states) disk=800.00 MiB (400 states)\n"
        ),
        "{t}"
    );
    for bad in ["0.5", "nan", "inf"] {
        let out = crate::common::retrace(&[
            "plan",
            "--steps",
            "10",
            "--state-bytes",
            "8",
            "--ram",
            "80",
            "--compression-ratio",
            bad,
        ]);
        assert_usage_error(&out, bad);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--compression-ratio: the compression ratio must be"),
            "{bad}: {err}"
        );
    }
}
