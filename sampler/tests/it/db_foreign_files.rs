//! A restart removes only the files the writer made: unreferenced state files (`it{q}.bin`,
//! `it{q}.bin.partial`) go, anything else a user put in `states/` stays.

use sampler::Config;
use sampler::db::states_dir;
use sampler::runner::{DbOptions, run_with_database};

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = NSPLIT\nl = 2\nseed = 11\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\n\
    save_states = true\n";

fn config(nsplit: u64) -> Config {
    Config::from_toml(&CONFIG.replace("NSPLIT", &nsplit.to_string())).unwrap()
}

#[test]
fn a_restart_leaves_other_files_in_states_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run_with_database(
        Some(&config(3)),
        &DbOptions::new(dir.clone(), false),
        &|_, _| {},
    )
    .unwrap();
    let states = states_dir(&dir);
    let theirs = [
        "notes.txt",
        "it3.bin.bak",
        "it.bin",
        "README",
        "it007.bin",
        "it00.bin",
        "it99999999999999999999.bin",
    ];
    for f in theirs {
        std::fs::write(states.join(f), f).unwrap();
    }
    // A directory of a writer's name is not the writer's either, nor does it block.
    std::fs::create_dir(states.join("it77.bin")).unwrap();
    std::fs::write(states.join("it77.bin").join("x"), b"x").unwrap();
    for f in ["it999.bin", "it998.bin.partial"] {
        std::fs::write(states.join(f), b"written before a crash").unwrap();
    }
    run_with_database(
        Some(&config(6)),
        &DbOptions::new(dir.clone(), true),
        &|_, _| {},
    )
    .unwrap();
    for f in theirs {
        assert_eq!(std::fs::read_to_string(states.join(f)).unwrap(), f);
    }
    assert!(states.join("it77.bin").join("x").exists());
    for f in ["it999.bin", "it998.bin.partial"] {
        assert!(
            !states.join(f).exists(),
            "{f} is the writer's and unreferenced"
        );
    }
}
