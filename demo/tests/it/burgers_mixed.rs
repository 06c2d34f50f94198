//! The Burgers adjoint through the mixed schedule (units holding states or recorded steps):
//! bitwise equal to store-everything, with the dynamic programme's forward steps, and no state
//! copied (records are kept by buffer swaps, reversed from views).

use retrace_demo::burgers::{Burgers, checkpointed_gradient, gradient_store_all};
use revolve::{Mixed, Schedule, validate};

#[test]
fn mixed_gradient_is_bitwise_store_all_with_the_optimal_forward_steps() {
    let m = Burgers::with_stable_dt(256, 0.02, 2.0, 0.9).unwrap();
    let u0 = m.initial_condition();
    for (n, s) in [
        (1u64, 1u64),
        (2, 1),
        (9, 1),
        (10, 3),
        (37, 2),
        (60, 4),
        (100, 5),
        (50, 49),
    ] {
        let (j_ref, g_ref) = gradient_store_all(&m, &u0, n).unwrap();
        let plan = Mixed::new(n, s).unwrap();
        let want = validate(n, plan.capacity(), plan.clone()).unwrap();
        let slots = plan.units().max(1) as usize;
        let g = checkpointed_gradient(&m, &u0, plan, slots, None).unwrap();
        assert_eq!(g.objective.to_bits(), j_ref.to_bits(), "n={n} s={s}");
        assert!(
            g.gradient
                .iter()
                .zip(&g_ref)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "gradient differs for n={n} s={s}"
        );
        let st = g.stats;
        assert_eq!(st.schedule, want, "n={n} s={s}");
        assert_eq!(st.schedule.forward, Mixed::optimal_forward(n, s).unwrap());
        assert_eq!(st.forward_steps, want.advanced + want.records[0] + 1);
        assert_eq!(st.reverse_steps, n);
        assert_eq!(st.copies, 0, "n={n} s={s}: {st:?}");
        if n > s + 1 {
            assert!(want.records[0] > 0, "n={n} s={s}");
        }
    }
}
