//! The binomial schedule is valid, optimal (forward steps = T(n, s)) and takes the fewest stores
//! among optimal schedules, checked by the independent validator and a dynamic-programming oracle.

use revolve::cost::optimal_forward;
use revolve::{Action, Binomial, Capacity, Error, Level, Machine, Stats, validate};

/// Validate the schedule for `(n, s)`, check its counts and that every `free` immediately follows
/// a restore of the same checkpoint (the hand-over rule). Returns the validator's counts.
fn check(n: u64, s: u64) -> Stats {
    let schedule = Binomial::new(n, s).unwrap();
    let (want_stores, want_forward) = (schedule.stores(), schedule.forward());
    let mut machine = Machine::new(n, Capacity::ram(s));
    let mut prev: Option<Action> = None;
    for (i, a) in schedule.enumerate() {
        if let Err(rule) = machine.execute(a) {
            panic!("n={n} s={s}: action {i} `{a}`: {rule}");
        }
        match a {
            Action::Free { step, .. } => assert_eq!(
                prev,
                Some(Action::Restore {
                    step,
                    level: Level::Ram
                }),
                "n={n} s={s}: action {i} `{a}` does not follow its last restore"
            ),
            Action::Store { level, .. } | Action::Restore { level, .. } => {
                assert_eq!(level, Level::Ram)
            }
            _ => {}
        }
        prev = Some(a);
    }
    let stats = machine
        .finish()
        .unwrap_or_else(|r| panic!("n={n} s={s}: {r}"));
    assert_eq!(
        stats.forward,
        optimal_forward(n, s).unwrap(),
        "n={n} s={s}: not optimal"
    );
    assert_eq!(stats.forward, want_forward, "n={n} s={s}");
    assert_eq!(
        stats.stores[0], want_stores,
        "n={n} s={s}: stores vs closed form"
    );
    assert_eq!(stats.restores[0], n - 1, "n={n} s={s}: restores");
    assert!(stats.peak[0] <= s);
    stats
}

#[test]
fn all_small_cases_valid_and_optimal() {
    // 1 <= n <= 1000, 1 <= s <= min(n, 40), split over two threads.
    std::thread::scope(|scope| {
        for part in 0..2u64 {
            scope.spawn(move || {
                for n in (1..=1000u64).filter(|n| n % 2 == part) {
                    for s in 1..=n.min(40) {
                        check(n, s);
                    }
                }
            });
        }
    });
}

/// Fewest stores over all optimal nested schedules, by dynamic programming over every split:
/// `fw[l][s]` optimal forward steps of a segment of `l` steps with `s` slots whose start is held,
/// `st[l][s]` the fewest stores among the splits reaching `fw`. A right part of length 1 needs
/// no store (and no slot); longer ones store their start.
fn oracle(nmax: usize, smax: usize) -> Vec<Vec<u64>> {
    const INF: u64 = u64::MAX / 4;
    let mut fw = vec![vec![INF; smax + 1]; nmax + 1];
    let mut st = vec![vec![INF; smax + 1]; nmax + 1];
    for s in 0..=smax {
        fw[1][s] = 1;
        st[1][s] = 0;
    }
    for l in 2..=nmax {
        for s in 1..=smax {
            let (mut best, mut stores) = (INF, INF);
            for m in 1..l {
                let right = l - m;
                if right >= 2 && s < 2 {
                    continue;
                }
                let f = m as u64 + fw[right][s - 1] + fw[m][s];
                let w = u64::from(right >= 2) + st[right][s - 1] + st[m][s];
                if f < best || (f == best && w < stores) {
                    (best, stores) = (f, w);
                }
            }
            fw[l][s] = best;
            st[l][s] = stores;
        }
    }
    // Total: the initial state is stored once if n >= 2.
    for s in 1..=smax {
        for l in 2..=nmax {
            st[l][s] += 1;
            assert_eq!(fw[l][s], optimal_forward(l as u64, s as u64).unwrap());
        }
    }
    st
}

#[test]
fn fewest_stores_match_the_oracle() {
    let (nmax, smax) = (150, 8);
    let st = oracle(nmax, smax);
    for (n, row) in st.iter().enumerate().skip(1) {
        for (s, &fewest) in row.iter().enumerate().skip(1) {
            let stats = check(n as u64, s as u64);
            assert_eq!(stats.stores[0], fewest, "n={n} s={s}");
        }
    }
}

#[test]
fn reference_counts() {
    // C++ Revolve's trace for (10, 3): 25 forward, 6 stores, 9 restores; ours matches the counts.
    let s = check(10, 3);
    assert_eq!((s.forward, s.stores[0], s.restores[0]), (25, 6, 9));
    // checkpoint_schedules' optimal variants for (100, 5) take 61 and 44 stores.
    let s = check(100, 5);
    assert_eq!((s.forward, s.stores[0]), (416, 44));
    const CPP_10_3: &str = "store 0 ram, advance 0 4, store 4 ram, advance 4 7, store 7 ram, \
        advance 7 9, reverse 9, restore 7 ram, advance 7 8, reverse 8, restore 7 ram, reverse 7, \
        free 7 ram, restore 4 ram, advance 4 5, store 5 ram, advance 5 6, reverse 6, \
        restore 5 ram, reverse 5, free 5 ram, restore 4 ram, reverse 4, free 4 ram, \
        restore 0 ram, advance 0 1, store 1 ram, advance 1 2, store 2 ram, advance 2 3, \
        reverse 3, restore 2 ram, reverse 2, free 2 ram, restore 1 ram, reverse 1, free 1 ram, \
        restore 0 ram, reverse 0, free 0 ram";
    let cpp = CPP_10_3
        .split(',')
        .map(|l| l.trim().parse::<Action>().unwrap());
    let c = validate(10, Capacity::ram(3), cpp.clone()).unwrap();
    assert_eq!((c.forward, c.stores[0], c.restores[0]), (25, 6, 9));
    // Ours is the very same schedule, with each free moved right after its last restore.
    let without_frees = |v: Vec<Action>| -> Vec<Action> {
        v.into_iter()
            .filter(|a| !matches!(a, Action::Free { .. }))
            .collect()
    };
    let ours: Vec<Action> = Binomial::new(10, 3).unwrap().collect();
    assert_eq!(without_frees(ours), without_frees(cpp.collect()));
}

#[test]
fn larger_cases() {
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for s in [2, 3, 10, 100, 1000] {
                check(100_000, s);
            }
        });
        scope.spawn(|| {
            // C++ Revolve fails here (32-bit internals).
            let st = check(6402, 1);
            assert_eq!(st.forward, 6402 * 6403 / 2);
            check(100_000, 1);
            // More slots than steps: only what is needed is used.
            let st = check(50, 1000);
            assert_eq!((st.forward, st.stores[0], st.peak[0]), (99, 49, 49));
            check(1, 1);
            check(1, 5);
        });
    });
}

#[test]
fn huge_schedule_starts_validly() {
    let n = 1_000_000_000_000_000u64;
    let schedule = Binomial::new(n, 60).unwrap();
    assert_eq!(schedule.forward(), optimal_forward(n, 60).unwrap());
    let mut m = Machine::new(n, Capacity::ram(60));
    let mut reversed = 0;
    for a in schedule.take(20_000) {
        m.execute(a).unwrap();
        reversed += u64::from(matches!(a, Action::Reverse { .. }));
    }
    assert!(reversed > 1000);
    assert_eq!(m.stats().peak[0], 60);
    // Counts near the top of u64: T(10^17, 100) and T(2^63, 2^63) = 2^64 - 1 fit; the first
    // actions are valid.
    for (n, s) in [(100_000_000_000_000_000u64, 100u64), (1 << 63, 1 << 63)] {
        let schedule = Binomial::new(n, s).unwrap();
        assert_eq!(schedule.forward(), optimal_forward(n, s).unwrap());
        let mut m = Machine::new(n, Capacity::ram(s));
        for a in schedule.take(5_000) {
            m.execute(a).unwrap();
        }
    }
    assert_eq!(Binomial::new(1 << 63, 1 << 63).unwrap().forward(), u64::MAX);
}

#[test]
fn bad_input_is_an_error() {
    assert!(matches!(Binomial::new(0, 3), Err(Error::ZeroSteps)));
    assert!(matches!(Binomial::new(10, 0), Err(Error::ZeroSnaps)));
    // T(2^40, 1) = 2^40 (2^40 + 1) / 2 does not fit in 64 bits.
    assert!(matches!(
        Binomial::new(1 << 40, 1),
        Err(Error::Overflow { .. })
    ));
    assert!(matches!(
        Binomial::new(u64::MAX, u64::MAX),
        Err(Error::Overflow { .. })
    ));
    assert!(matches!(
        Binomial::new(u64::MAX / 4, 64),
        Err(Error::Overflow { .. })
    ));
    let b = Binomial::new(1 << 30, 1).unwrap();
    assert_eq!((b.steps(), b.snaps()), (1 << 30, 1));
}
