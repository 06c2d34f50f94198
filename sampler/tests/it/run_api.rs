//! The run builder's public faces: one config mapping ([`Run::from_config`]) behind the
//! built-in runner and any model, one database verb ([`Run::database`] with a [`Database`]),
//! typed strategy and warnings in the [`Report`], and a library that prints nothing.

use sampler::db::{RunReader, states_dir};
use sampler::models::Brownian;
use sampler::runner::{DbOptions, RunOptions, run_config, run_with_database};
use sampler::{Config, Database, Report, Run, StrategyKind};
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 30\nnsplititer = 300\nl = 2\nseed = 5\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 1.5\n\
    [runner]\nnworkers = 2\n[sampler]\nstrategy = \"STRATEGY\"\n\
    [model]\nname = \"brownian\"\n";

fn config(strategy: &str, extra: &str) -> Config {
    Config::from_toml(&(CONFIG.replace("STRATEGY", strategy) + extra)).unwrap()
}

/// The JSON report without its only timing-dependent key.
fn json(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

#[test]
fn from_config_is_the_runner_mapping() {
    for strategy in ["tams", "montecarlo"] {
        let c = config(strategy, "");
        let builtin = run_config(&c, &RunOptions::default(), &|_, _| {}).unwrap();
        let mapped = Run::from_config(&Brownian::default(), &c)
            .unwrap()
            .run()
            .unwrap();
        // By hand: what each key of the config means.
        let kind = match strategy {
            "tams" => StrategyKind::Tams,
            _ => StrategyKind::MonteCarlo,
        };
        let by_hand = Run::new(&Brownian::default(), c.params().unwrap())
            .seed(5)
            .strategy(kind)
            .threads(2)
            .run()
            .unwrap();
        assert_eq!(json(&mapped), json(&builtin), "{strategy}");
        assert_eq!(json(&mapped), json(&by_hand), "{strategy}");
        assert_eq!(mapped.strategy, kind);
        assert_eq!(json(&mapped)["strategy"], strategy, "serialized as before");
    }
}

#[test]
fn from_config_maps_the_database_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let table = format!(
        "[database]\npath = {:?}\nsave_states = false\n",
        dir.display().to_string()
    );
    let first = Run::from_config(&Brownian::default(), &config("tams", &table))
        .unwrap()
        .run()
        .unwrap();
    let summary = RunReader::open(&dir).unwrap().summary().unwrap();
    assert_eq!(summary.sessions.len(), 1, "the [database] path was created");
    assert_eq!(summary.sessions[0].kind, "new");
    let restart = table.replace("save_states", "restart = true\nsave_states");
    let again = Run::from_config(&Brownian::default(), &config("tams", &restart))
        .unwrap()
        .run()
        .unwrap();
    let summary = RunReader::open(&dir).unwrap().summary().unwrap();
    assert_eq!(
        summary.sessions[1].kind, "restart",
        "restart = true continues"
    );
    assert_eq!(json(&again), json(&first));
}

#[test]
fn one_database_verb_creates_and_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let c = config("tams", "");
    let model = Brownian::default();
    let whole = Run::from_config(&model, &c).unwrap().run().unwrap();
    let short = Run::from_config(&model, &c)
        .unwrap()
        .iterations(3)
        .database(Database::Create(dir.clone()))
        .run()
        .unwrap();
    assert_eq!(short.iterations, 3);
    let refused = Run::from_config(&model, &c)
        .unwrap()
        .database(Database::Create(dir.clone()))
        .run();
    assert!(refused.is_err(), "Create refuses a directory holding a run");
    let continued = Run::from_config(&model, &c)
        .unwrap()
        .database(Database::Continue(dir.clone()))
        .run()
        .unwrap();
    assert_eq!(json(&continued), json(&whole));
    let recorded = Run::from_database(&model, &dir).unwrap().run().unwrap();
    assert_eq!(json(&recorded), json(&whole));
}

fn allen_cahn(dir: &Path, nsplit: u64, restart: bool) -> Report {
    let c = Config::from_toml(&format!(
        "[tams]\nntrajectories = 20\nnsplititer = {nsplit}\nl = 2\nseed = 11\n\
         [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
         [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n\
         [database]\npath = \"unused\"\nsave_states = true\n"
    ))
    .unwrap();
    let opts = DbOptions::new(dir.to_path_buf(), restart);
    run_with_database(Some(&c), &opts, &|_, _| {}).unwrap().0
}

#[test]
fn warnings_come_back_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let first = allen_cahn(&dir, 3, false);
    assert!(first.warnings.is_empty());
    assert!(json(&first).get("warnings").is_none(), "absent when empty");
    std::fs::remove_file(states_dir(&dir).join("init0.bin")).unwrap();
    let again = allen_cahn(&dir, 5, true);
    assert_eq!(again.warnings.len(), 1, "{:?}", again.warnings);
    assert!(again.warnings[0].contains("replayed from step 0"));
    let recorded = RunReader::open(&dir).unwrap().summary().unwrap();
    let session = recorded.sessions.last().unwrap().warnings.clone();
    assert_eq!(session.as_deref(), Some(again.warnings[0].as_str()));
    assert_eq!(json(&again)["warnings"][0], again.warnings[0].as_str());
}

/// The library never prints or ends the process: `eprintln!`, `println!` and `abort(` appear
/// in `sampler/src` only in comments, except the one opt-in hook of
/// `sampler::mpi::abort_on_panic` (a caller asks for it by name).
#[test]
fn the_library_prints_nothing_and_never_aborts() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut files = vec![src];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let allowed = p.ends_with("mpi/setup.rs") && code == "std::process::abort();";
            if ["eprintln!", "println!", "abort("]
                .iter()
                .any(|w| code.contains(w))
                && !allowed
            {
                found.push(format!("{}:{}: {code}", p.display(), i + 1));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
