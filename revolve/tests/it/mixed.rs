//! The mixed schedule (states or recorded steps in each unit): valid under the independent
//! validator, optimal against a plain dynamic programme and an exhaustive search written here,
//! matching checkpoint_schedules 1.0.4's counts; the validator rejects misuse of `record`; the
//! Revolver drives it.

use revolve::schedule::mixed::{Mixed, MixedTable};
use revolve::{
    Action, Capacity, CheckpointStore, ForwardOperator, Level, ReverseOperator, Revolver, Rule,
    Schedule, validate,
};
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::convert::Infallible;

const INF: u64 = u64::MAX / 4;

/// `M[m][k]` by the recurrence, every split tried (no pruning), `m <= n`, `k <= s`.
fn plain_dp(n: usize, s: usize) -> Vec<Vec<u64>> {
    let mut t = vec![vec![INF; s + 1]; n + 1];
    t[1].fill(1);
    for m in 2..=n {
        for k in 1..=s {
            if m <= k + 1 {
                t[m][k] = m as u64;
                continue;
            }
            let mut best = 1 + t[m - 1][k - 1];
            for i in 2..m {
                best = best.min(i as u64 + t[i][k] + t[m - i][k - 1]);
            }
            t[m][k] = best;
        }
    }
    t
}

fn parse(text: &str) -> Vec<Action> {
    text.split(',').map(|l| l.trim().parse().unwrap()).collect()
}

#[test]
fn every_schedule_up_to_300_steps_and_40_units_is_valid_and_optimal() {
    let (n_max, s_max) = (300u64, 40u64);
    let dp = plain_dp(n_max as usize, s_max as usize);
    let table = MixedTable::new(n_max, s_max).unwrap();
    for n in 1..=n_max {
        for s in 1..=s_max {
            let plan = table.schedule(n, s).unwrap();
            assert_eq!(plan.steps(), n);
            let units = plan.units();
            assert!(units <= s);
            let want = dp[n as usize][s.min(n - 1) as usize];
            assert_eq!(plan.forward(), want, "n={n} s={s}");
            assert_eq!(table.forward(n, s), Some(want));
            let st =
                validate(n, Capacity::ram(s), plan).unwrap_or_else(|v| panic!("n={n} s={s}: {v}"));
            assert_eq!(st.forward, want, "n={n} s={s}: not optimal");
            assert_eq!(st.reverse, n);
            assert!(st.peak[0] <= units, "n={n} s={s}");
        }
    }
}

#[test]
fn counts_match_checkpoint_schedules_1_0_4() {
    // checkpoint_schedules 1.0.4, `checkpoint_schedules.mixed.optimal_steps_mixed(n, s)`.
    let reference = [
        (1, 0, 1),
        (2, 1, 2),
        (5, 1, 14),
        (5, 4, 5),
        (10, 3, 19),
        (20, 2, 79),
        (50, 3, 209),
        (97, 7, 268),
        (100, 5, 352),
        (200, 1, 20099),
        (250, 10, 717),
        (299, 13, 811),
        (300, 2, 4876),
        (300, 40, 566),
    ];
    for (n, s, want) in reference {
        assert_eq!(Mixed::optimal_forward(n, s).unwrap(), want, "n={n} s={s}");
    }
}

/// The fewest forward steps of any action sequence the validator's rules allow (one level,
/// `s` units), by Dijkstra over the machine's states: (current step, next step to reverse,
/// held states, held records).
fn exhaustive(n: u64, s: u64) -> u64 {
    type St = (Option<u64>, u64, BTreeSet<u64>, BTreeSet<u64>);
    let start: St = (Some(0), n - 1, BTreeSet::new(), BTreeSet::new());
    let mut dist: HashMap<St, u64> = HashMap::new();
    let mut heap = BinaryHeap::new();
    dist.insert(start.clone(), 0);
    heap.push(std::cmp::Reverse((0u64, start)));
    while let Some(std::cmp::Reverse((d, st))) = heap.pop() {
        if dist.get(&st).is_some_and(|&b| b < d) {
            continue;
        }
        let (cur, next, states, recs) = &st;
        let room = (states.len() + recs.len()) < s as usize;
        let mut moves: Vec<(u64, St)> = Vec::new();
        if let Some(c) = *cur {
            for to in c + 1..=*next {
                moves.push((to - c, (Some(to), *next, states.clone(), recs.clone())));
            }
            let free_step = !states.contains(&c) && !recs.contains(&c);
            if room && free_step {
                let mut h = states.clone();
                h.insert(c);
                moves.push((0, (Some(c), *next, h, recs.clone())));
                if c < *next {
                    let mut r = recs.clone();
                    r.insert(c);
                    moves.push((1, (Some(c + 1), *next, states.clone(), r)));
                }
            }
        }
        for &k in states.iter() {
            if k <= *next {
                moves.push((0, (Some(k), *next, states.clone(), recs.clone())));
            }
            let mut h = states.clone();
            h.remove(&k);
            moves.push((0, (*cur, *next, h, recs.clone())));
        }
        // Reverse `next`: from its record, or from the current state.
        let done = |m: &mut Vec<(u64, St)>, cost: u64, r: BTreeSet<u64>| {
            if *next == 0 {
                m.push((cost, (None, u64::MAX, states.clone(), r)));
            } else {
                m.push((cost, (None, *next - 1, states.clone(), r)));
            }
        };
        if recs.contains(next) {
            let mut r = recs.clone();
            r.remove(next);
            done(&mut moves, 0, r);
        } else if *cur == Some(*next) {
            done(&mut moves, 1, recs.clone());
        }
        for (c, to) in moves {
            if to.1 == u64::MAX {
                // Every step reversed: what is held can be freed at no cost.
                return d + c;
            }
            let nd = d + c;
            if dist.get(&to).is_none_or(|&b| nd < b) {
                dist.insert(to.clone(), nd);
                heap.push(std::cmp::Reverse((nd, to)));
            }
        }
    }
    unreachable!("no schedule for n={n} s={s}")
}

#[test]
fn the_recurrence_is_the_optimum_of_every_schedule_for_small_cases() {
    for n in 1..=7u64 {
        for s in 1..=4u64 {
            assert_eq!(
                Mixed::optimal_forward(n, s).unwrap(),
                exhaustive(n, s),
                "n={n} s={s}"
            );
        }
    }
}

#[test]
fn disk_units_count_against_the_disk_level() {
    let plan = Mixed::new(30, 4).unwrap().at_level(Level::Disk);
    assert_eq!(plan.capacity(), Capacity { ram: 0, disk: 4 });
    let st = validate(30, plan.capacity(), plan.clone()).unwrap();
    assert!(st.peak[0] == 0 && st.peak[1] > 0 && st.peak[1] <= 4);
    assert!(st.records[1] > 0 && st.records[0] == 0);
    assert!(
        st.summary_line(4)
            .ends_with(&format!(" records={}", st.records[1]))
    );
    let v = validate(30, Capacity::ram(4), plan).unwrap_err();
    assert!(matches!(
        v.rule,
        Rule::LevelFull {
            level: Level::Disk,
            capacity: 0
        }
    ));
}

#[test]
fn the_validator_rejects_misused_records() {
    let cap = Capacity::ram(2);
    #[allow(clippy::type_complexity)]
    let cases: &[(&str, u64, fn(&Rule) -> bool)] = &[
        // The unit count includes records.
        ("store 0 ram, record 0 ram", 1, |r| {
            matches!(r, Rule::DuplicateCheckpoint { step: 0, .. })
        }),
        (
            "store 0 ram, advance 0 1, record 1 ram, store 2 ram",
            3,
            |r| matches!(r, Rule::LevelFull { .. }),
        ),
        ("record 0 ram, record 1 ram, record 2 ram", 2, |r| {
            matches!(r, Rule::LevelFull { .. })
        }),
        ("record 1 ram", 0, |r| {
            matches!(
                r,
                Rule::WrongStep {
                    step: 1,
                    current: 0
                }
            )
        }),
        ("record 0 disk", 0, |r| matches!(r, Rule::LevelFull { .. })),
        // Recording the next step to reverse would move past it.
        ("advance 0 3, record 3 ram", 1, |r| {
            matches!(r, Rule::PastReversal { to: 4, limit: 3 })
        }),
        // A record is not a state.
        (
            "record 0 ram, advance 1 3, reverse 3, restore 0 ram",
            3,
            |r| matches!(r, Rule::RecordNotState { step: 0, .. }),
        ),
        // Reverse of a step neither recorded nor current.
        ("record 0 ram, advance 1 3, reverse 3, reverse 2", 3, |r| {
            matches!(r, Rule::NoCurrentState)
        }),
        // A discarded record leaves its step without data or state.
        (
            "record 0 ram, store 1 ram, advance 1 3, reverse 3, restore 1 ram, advance 1 2, \
             reverse 2, restore 1 ram, free 1 ram, reverse 1, free 0 ram, reverse 0",
            11,
            |r| matches!(r, Rule::NoCurrentState),
        ),
        (
            "record 0 ram, record 1 ram, advance 2 3, reverse 3",
            4,
            |r| matches!(r, Rule::Unfinished { next: 2 }),
        ),
    ];
    for (text, index, pred) in cases {
        let v = validate(4, cap, parse(text)).unwrap_err();
        assert!(pred(&v.rule), "{text}: got {v}");
        assert_eq!(v.index, *index, "{text}: got {v}");
    }
    // The right use: records reversed without a state or a forward step.
    let good = "record 0 ram, store 1 ram, advance 1 3, reverse 3, restore 1 ram, free 1 ram, \
                record 1 ram, reverse 2, reverse 1, reverse 0";
    let st = validate(4, cap, parse(good)).unwrap();
    // advance 2 + records 2 + the taped reverse of 3 and 2 (not recorded): 6.
    assert_eq!(
        (st.forward, st.records[0], st.peak[0], st.reverse),
        (6, 2, 2, 4)
    );
}

#[test]
fn mutated_schedules_are_rejected() {
    let plan: Vec<Action> = Mixed::new(40, 5).unwrap().collect();
    let st = validate(40, Capacity::ram(5), plan.iter().copied()).unwrap();
    // One unit fewer than the schedule's peak.
    let v = validate(40, Capacity::ram(st.peak[0] - 1), plan.iter().copied()).unwrap_err();
    assert!(matches!(v.rule, Rule::LevelFull { .. }), "{v}");
    // A record replaced by a plain advance: its reverse has no state.
    let i = plan
        .iter()
        .position(|a| matches!(a, Action::Record { .. }))
        .unwrap();
    let Action::Record { step, .. } = plan[i] else {
        unreachable!()
    };
    let mut bad = plan.clone();
    bad[i] = Action::Advance {
        from: step,
        to: step + 1,
    };
    let v = validate(40, Capacity::ram(5), bad).unwrap_err();
    assert!(
        matches!(
            v.rule,
            Rule::NoCurrentState | Rule::WrongStep { .. } | Rule::EmptyAdvance { .. }
        ),
        "{v}"
    );
    // A record dropped: the schedule no longer starts where its next action expects.
    let mut bad = plan.clone();
    bad.remove(i);
    assert!(validate(40, Capacity::ram(5), bad).is_err());
}

#[test]
fn the_text_format_round_trips_through_the_validator() {
    let plan: Vec<Action> = Mixed::new(25, 3).unwrap().collect();
    let text: Vec<String> = plan.iter().map(|a| a.to_string()).collect();
    assert!(text.iter().any(|l| l.starts_with("record ")));
    let back: Vec<Action> = text.iter().map(|l| l.parse().unwrap()).collect();
    assert_eq!(back, plan);
}

/// A toy whose state records its step: u = [k, k^2 mod 7].
#[allow(clippy::ptr_arg)]
fn fwd(u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
    assert_eq!(u[0], from as f64);
    for _ in from..to {
        u[0] += 1.0;
        u[1] = (u[0] * u[0]) % 7.0;
    }
    Ok(())
}

/// The reverse checks it saw u_k and logs k.
#[allow(clippy::ptr_arg)]
fn rev(u: &Vec<f64>, log: &mut Vec<u64>, k: u64) -> Result<(), String> {
    if u[0] != k as f64 || u[1] != ((k * k) % 7) as f64 {
        return Err(format!("reverse {k} got state {u:?}"));
    }
    log.push(k);
    Ok(())
}

#[test]
fn the_revolver_drives_a_mixed_schedule_with_the_default_record() {
    for (n, s) in [(1u64, 1u64), (2, 1), (7, 2), (30, 3), (64, 6)] {
        for level in Level::ALL {
            let plan = Mixed::new(n, s).unwrap().at_level(level);
            let want = validate(n, plan.capacity(), plan.clone()).unwrap();
            let mut u = vec![0.0, 0.0];
            let disk = revolve::RamStore::new(s as usize, &u);
            let mut rv = Revolver::for_schedule_with_disk(plan, fwd, rev, &u, disk).unwrap();
            rv.apply_forward(&mut u).unwrap();
            assert_eq!(u[0], n as f64);
            let mut log = Vec::new();
            rv.apply_reverse(&mut log).unwrap();
            assert_eq!(log, (0..n).rev().collect::<Vec<_>>(), "n={n} s={s}");
            let st = rv.stats();
            assert_eq!(st.schedule, want);
            assert_eq!(
                st.forward_steps,
                want.advanced + want.records[0] + want.records[1] + 1
            );
            assert_eq!(st.reverse_steps, n);
            assert_eq!(rv.ram().len(), 0);
        }
    }
}

/// A forward operator that records the step's "tape" (here: the pair (k, u_k[1]) negated) and
/// counts how often each operator runs; the reverse of a recorded step must get the tape.
struct Taping {
    records: u64,
}

impl ForwardOperator<Vec<f64>> for Taping {
    type Error = Infallible;
    fn advance(&mut self, u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
        fwd(u, from, to)
    }
    fn record(&mut self, u: &mut Vec<f64>, tape: &mut Vec<f64>, k: u64) -> Result<(), Infallible> {
        self.records += 1;
        tape[0] = -u[0];
        tape[1] = -u[1];
        fwd(u, k, k + 1)
    }
}

struct TapeReverse {
    from_tape: u64,
}

impl ReverseOperator<Vec<f64>, Vec<u64>> for TapeReverse {
    type Error = String;
    fn reverse(&mut self, u: &Vec<f64>, log: &mut Vec<u64>, k: u64) -> Result<(), String> {
        rev(u, log, k)
    }
    fn reverse_recorded(&mut self, t: &Vec<f64>, log: &mut Vec<u64>, k: u64) -> Result<(), String> {
        self.from_tape += 1;
        rev(&vec![-t[0], -t[1]], log, k)
    }
}

#[test]
fn a_recording_operator_gets_its_own_data_back() {
    let (n, s) = (50u64, 4u64);
    let plan = Mixed::new(n, s).unwrap();
    let want = validate(n, plan.capacity(), plan.clone()).unwrap();
    let mut u = vec![0.0, 0.0];
    let mut rv = Revolver::for_schedule(
        plan,
        Taping { records: 0 },
        TapeReverse { from_tape: 0 },
        &u,
    )
    .unwrap();
    rv.apply_forward(&mut u).unwrap();
    let mut log = Vec::new();
    rv.apply_reverse(&mut log).unwrap();
    assert_eq!(log, (0..n).rev().collect::<Vec<_>>());
    assert_eq!(rv.forward_operator().records, want.records[0]);
    assert_eq!(rv.reverse_operator().from_tape, want.records[0]);
    assert!(want.records[0] > 0);
    assert_eq!(
        rv.stats().schedule.forward,
        Mixed::optimal_forward(n, s).unwrap()
    );
}
