//! Time and size of `retrace db plot` on a large run database: 10^5 iterations, an ensemble of
//! 10^3 trajectories of 10^4 steps (plus 10^5 killed trajectories, with short score blobs so
//! the file stays small; the plot never reads killed trajectories' scores). The database is
//! built directly with SQL from synthetic data (a real run of this size takes hours), in the
//! format the reader checks (CRC-32 of every score blob).
//!
//! `cargo run --release --example db_plot_large [ITERATIONS N STEPS]`

use retrace::sampler;
use sampler::Config;
use sampler::db::{RunDb, RunReader};
use sampler::models::BuiltinModel;
use std::time::Instant;

/// CRC-32 (IEEE), as the run database stores it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A deterministic pseudo-random stream in [0, 1) (SplitMix64).
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("ITERATIONS N STEPS"))
        .collect();
    let (iterations, n, steps) = match args[..] {
        [q, n, s] => (q, n, s),
        _ => (100_000, 1000, 10_000),
    };
    let target = 4.0;
    let text = format!(
        "[tams]\nntrajectories = {n}\nnsplititer = 1000000\nseed = 1\n[trajectory]\n\
         end_time = 1.0\nstep_size = {}\ntargetscore = {target}\n[model]\nname = \"brownian\"\n",
        1.0 / steps as f64
    );
    let config = Config::from_toml(&text).unwrap();
    let BuiltinModel::Brownian(model) = &config.model else {
        unreachable!()
    };
    let description = sampler::Run::new(model, config.params().unwrap())
        .seed(1)
        .description()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    drop(RunDb::create(&dir, &description).unwrap());
    let t = Instant::now();
    let mut conn = rusqlite::Connection::open(dir.join("run.sqlite")).unwrap();
    let tx = conn.transaction().unwrap();
    let mut rng = Mix(7);
    {
        let mut it = tx
            .prepare(
                "INSERT INTO iterations (iteration, level, k, killed, parents, children, weight, \
                 weight_bits, reached, next_id, branches, model_steps, replay_steps, held, \
                 peak_held, select_word_pos, committed_at) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, 0, 0, 0, '', 0.0)",
            )
            .unwrap();
        let mut tr = tx
            .prepare(
                "INSERT INTO trajectories (id, slot, parent, branch_step, born, died, last_step, \
                 max_score, reached, lineage, scores, scores_crc) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .unwrap();
        let mut insert = |id: u64, born: u64, died: Option<u64>, len: u64, rng: &mut Mix| {
            let mut x = 0.0f64;
            let scores: Vec<f64> = (0..len)
                .map(|_| {
                    x += (rng.next() - 0.45) * 4.0 / (len as f64).sqrt();
                    x
                })
                .collect();
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // Scores as little-endian f64 bytes (the `scores` BLOB format).
            let blob: Vec<u8> = scores.iter().flat_map(|x| x.to_le_bytes()).collect();
            // One lineage segment: its own noise stream from step 0 (pairs of LE u64).
            let lineage = [0u64.to_le_bytes(), id.to_le_bytes()].concat();
            tr.execute(rusqlite::params![
                id as i64,
                (id % n) as i64,
                None::<i64>,
                None::<i64>,
                born as i64,
                died.map(|d| d as i64),
                len as i64 - 1,
                max,
                max >= target,
                lineage,
                blob,
                i64::from(crc32(&blob)),
            ])
            .unwrap();
        };
        // Killed trajectories first (ids 0..iterations), then the current ensemble.
        for id in 0..iterations {
            insert(id, 0, Some(id + 1), 10, &mut rng);
        }
        for id in iterations..iterations + n {
            insert(id, 0, None, steps, &mut rng);
        }
        let mut weight = 1.0f64;
        for q in 0..=iterations {
            let level = (q > 0).then(|| target * q as f64 / (iterations as f64 + 1.0));
            if q > 0 {
                weight *= 1.0 - 1.0 / n as f64;
            }
            let reached = (q * n / iterations.max(1)).saturating_sub(n / 2);
            let ids = if q > 0 {
                format!("[{}]", q - 1)
            } else {
                "[]".into()
            };
            it.execute(rusqlite::params![
                q as i64,
                level,
                ids,
                ids,
                ids,
                weight,
                weight.to_bits() as i64,
                reached as i64,
                (iterations + n) as i64,
                (q * steps) as i64,
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    drop(conn);
    let db_bytes = std::fs::metadata(dir.join("run.sqlite")).unwrap().len();
    println!(
        "built: {iterations} iterations, N = {n}, {steps} steps, {:.0} MB database in {:.1} s",
        db_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let out = tmp.path().join("run.svg");
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let db = RunReader::open(&dir).unwrap();
        let data = retrace_plot::run::read(&db).unwrap();
        let t1 = Instant::now();
        let svg = retrace_plot::run::svg(&data, "synthetic");
        let t2 = Instant::now();
        std::fs::write(&out, &svg).unwrap();
        let t3 = Instant::now();
        times.push((t1 - t0, t2 - t1, t3 - t0, svg.len()));
    }
    println!("| read (ms) | render (ms) | total with write (ms) | SVG size (MB) |");
    println!("|---|---|---|---|");
    for (read, render, total, size) in times {
        println!(
            "| {:.0} | {:.0} | {:.0} | {:.2} |",
            read.as_secs_f64() * 1e3,
            render.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            size as f64 / 1e6
        );
    }
}
