//! The Burgers adjoint through the Revolver: bitwise equal to store-everything, matches finite
//! differences, counts equal the validator's, operator errors propagate.

use ndarray::Array1;
use retrace_demo::burgers::{
    Burgers, BurgersError, checkpointed_gradient, gradient_store_all, objective_after,
};
use revolve::{Action, Binomial, Capacity, Error, cost::optimal_forward, validate};

fn model(points: usize) -> Burgers {
    Burgers::with_stable_dt(points, 0.02, 2.0, 0.9).unwrap()
}

const CASES: &[(u64, u64)] = &[
    (1, 1),
    (2, 1),
    (9, 1),
    (10, 3),
    (37, 2),
    (60, 4),
    (100, 5),
    (50, 49),
    (50, 50),
    (30, 200),
];

#[test]
fn checkpointed_gradient_is_bitwise_store_all() {
    let m = model(256);
    let u0 = m.initial_condition();
    for &(n, s) in CASES {
        let (j_ref, g_ref) = gradient_store_all(&m, &u0, n).unwrap();
        let g =
            checkpointed_gradient(&m, &u0, Binomial::new(n, s).unwrap(), s as usize, None).unwrap();
        assert_eq!(g.objective.to_bits(), j_ref.to_bits(), "n={n} s={s}");
        assert!(
            g.gradient
                .iter()
                .zip(&g_ref)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "Vec gradient differs for n={n} s={s}"
        );
        // The same with ndarray states.
        let a0 = Array1::from(u0.clone());
        let ga =
            checkpointed_gradient(&m, &a0, Binomial::new(n, s).unwrap(), s as usize, None).unwrap();
        assert_eq!(ga.objective.to_bits(), j_ref.to_bits());
        assert!(
            ga.gradient
                .iter()
                .zip(&g_ref)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "ndarray gradient differs for n={n} s={s}"
        );
        assert_eq!(ga.stats, g.stats);
    }
}

/// What should serve each store and restore of `Binomial(n, s)`, read off the schedule: the next
/// action is a reverse (a view), a free of the same step (a hand-over) or an advance (out of
/// place). Returns (views, hand-overs, out-of-place advances).
fn expected_reuse(n: u64, s: u64) -> (u64, u64, u64) {
    let plan: Vec<Action> = Binomial::new(n, s).unwrap().collect();
    let (mut views, mut handovers, mut oop) = (0, 0, 0);
    for w in plan.windows(2) {
        let (Action::Store { step, .. } | Action::Restore { step, .. }) = w[0] else {
            continue;
        };
        match w[1] {
            Action::Reverse { .. } => views += 1,
            Action::Free { step: f, .. } if f == step => {
                if matches!(w[0], Action::Restore { .. }) {
                    handovers += 1;
                }
            }
            Action::Advance { .. } => oop += 1,
            _ => {}
        }
    }
    (views, handovers, oop)
}

#[test]
fn revolver_counts_equal_the_validators() {
    let m = model(64);
    let u0 = m.initial_condition();
    for &(n, s) in CASES {
        let want = validate(n, Capacity::ram(s), Binomial::new(n, s).unwrap()).unwrap();
        let g =
            checkpointed_gradient(&m, &u0, Binomial::new(n, s).unwrap(), s as usize, None).unwrap();
        let st = g.stats;
        assert_eq!(st.schedule, want, "n={n} s={s}");
        assert_eq!(st.schedule.forward, optimal_forward(n, s).unwrap());
        assert_eq!(
            st.forward_steps,
            want.advanced + 1,
            "one extra step gives u_n"
        );
        assert_eq!(st.reverse_steps, n);
        // The Burgers forward operator runs out of place: every store hands its buffer in, every
        // restore is served by a view, a hand-over or an out-of-place advance, and u_{n-1} is
        // kept by a swap: no state is ever copied.
        assert_eq!(st.copies, 0, "n={n} s={s}: {st:?}");
        assert_eq!(st.handover_stores, want.stores[0]);
        let (views, handovers, oop) = expected_reuse(n, s);
        assert_eq!(
            (st.views, st.handovers, st.out_of_place),
            (views, handovers, oop),
            "n={n} s={s}: {st:?}"
        );
    }
}

#[test]
fn large_grid_matches_store_all() {
    let m = model(10_000);
    let u0 = m.initial_condition();
    let (n, s) = (120, 6);
    let (j_ref, g_ref) = gradient_store_all(&m, &u0, n).unwrap();
    let g = checkpointed_gradient(&m, &u0, Binomial::new(n, s).unwrap(), s as usize, None).unwrap();
    assert_eq!(g.objective.to_bits(), j_ref.to_bits());
    assert!(
        g.gradient
            .iter()
            .zip(&g_ref)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn directional_derivative_matches_central_differences() {
    let m = model(1_000);
    let u0 = m.initial_condition();
    let n = 300;
    let g = checkpointed_gradient(&m, &u0, Binomial::new(n, 7).unwrap(), 7, None).unwrap();
    let v: Vec<f64> = (0..u0.len())
        .map(|i| ((i * 7919 % 1000) as f64 / 1000.0 - 0.5) * (1.0 + (i as f64 * 0.01).cos()))
        .collect();
    let adj: f64 = g.gradient.iter().zip(&v).map(|(a, b)| a * b).sum();
    let eps = 1e-5;
    let shifted = |t: f64| -> Vec<f64> { u0.iter().zip(&v).map(|(u, d)| u + t * d).collect() };
    let jp = objective_after(&m, &shifted(eps), n).unwrap();
    let jm = objective_after(&m, &shifted(-eps), n).unwrap();
    let fd = (jp - jm) / (2.0 * eps);
    let rel = ((adj - fd) / fd).abs();
    assert!(
        rel < 1e-6,
        "adjoint {adj} vs finite differences {fd}: relative error {rel:e}"
    );
    // The check discriminates: an adjoint fed stale states (u_0 at every step) fails it.
    let mut fwd = retrace_demo::burgers::BurgersForward::<Vec<f64>>::new(m.clone());
    let mut un = u0.clone();
    revolve::ForwardOperator::advance(&mut fwd, &mut un, 0, n).unwrap();
    let (mut l, mut tmp) = (un, vec![0.0; u0.len()]);
    for _ in 0..n {
        m.adjoint_step(&u0, &l, &mut tmp).unwrap();
        std::mem::swap(&mut l, &mut tmp);
    }
    let stale: f64 = l.iter().zip(&v).map(|(a, b)| a * b).sum();
    let stale_rel = ((stale - fd) / fd).abs();
    eprintln!("adjoint {adj}, fd {fd} (rel {rel:e}), stale-state adjoint rel {stale_rel:e}");
    assert!(
        stale_rel > 1e-4,
        "stale-state adjoint too close: {stale_rel:e}"
    );
}

#[test]
fn operator_errors_propagate() {
    let m = model(128);
    // A state of the wrong size: the forward operator refuses it at step 0.
    let bad = vec![0.1; 129];
    let e = checkpointed_gradient(&m, &bad, Binomial::new(10, 3).unwrap(), 3, None).unwrap_err();
    match &e {
        Error::Operator {
            operator: "forward",
            step: 0,
            source,
        } => {
            let be = source.downcast_ref::<BurgersError>().unwrap();
            assert_eq!(
                *be,
                BurgersError::Size {
                    expected: 128,
                    found: 129
                }
            );
        }
        other => panic!("expected a forward operator error, got {other}"),
    }
    // An amplitude the time step cannot carry blows up: a non-finite value is reported with its
    // step, not returned as a gradient.
    let huge: Vec<f64> = m.initial_condition().iter().map(|x| x * 1e200).collect();
    let e = checkpointed_gradient(&m, &huge, Binomial::new(10, 3).unwrap(), 3, None).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Operator {
                operator: "forward",
                ..
            }
        ),
        "expected a forward operator error, got {e}"
    );
    assert!(e.to_string().contains("non-finite"), "{e}");
    // Too few RAM slots for the schedule: a bad schedule, not a panic.
    let u0 = m.initial_condition();
    let e = checkpointed_gradient(&m, &u0, Binomial::new(10, 3).unwrap(), 2, None).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BadSchedule {
                rule: revolve::Rule::LevelFull { capacity: 2, .. },
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_parameters_are_errors() {
    assert!(matches!(
        Burgers::new(2, 0.1, 1e-3),
        Err(BurgersError::Parameter { name: "points", .. })
    ));
    assert!(matches!(
        Burgers::new(100, -1.0, 1e-3),
        Err(BurgersError::Parameter { name: "nu", .. })
    ));
    assert!(matches!(
        Burgers::new(100, 0.1, 1.0),
        Err(BurgersError::Parameter { name: "dt", .. })
    ));
    assert!(matches!(
        Burgers::with_stable_dt(100, 0.1, 1.0, 1.5),
        Err(BurgersError::Parameter { name: "safety", .. })
    ));
}
