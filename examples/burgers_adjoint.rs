//! Gradient of `J = 1/2 ||u_n||^2` with respect to the initial state of a 1D viscous Burgers
//! simulation, through the optimal binomial checkpointing schedule: only `snaps` states are kept
//! in memory instead of all `steps + 1`.
//!
//! Run: `cargo run --release --example burgers_adjoint -- [points] [steps] [snaps]`
//! (defaults 10000 1000 20).

use retrace_demo::burgers::{Burgers, BurgersAdjoint, BurgersForward, objective_after};
use revolve::{Binomial, RamStore, Revolver, cost::optimal_forward};
use std::time::Instant;

fn arg(i: usize, default: u64) -> Result<u64, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("argument {i} `{s}` is not a count")),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let points = usize::try_from(arg(1, 10_000)?)?;
    let steps = arg(2, 1000)?;
    let snaps = arg(3, 20)?;

    // The model: 2 pi periodic grid, viscosity 0.002, dt at 90% of the explicit stability limit.
    let model = Burgers::with_stable_dt(points, 2e-3, 2.0, 0.9)?;
    let u0 = model.initial_condition();

    // 1. The schedule (it knows its steps and slots); here the optimal binomial one.
    let schedule = Binomial::new(steps, snaps)?;
    // 2. The Revolver: schedule + forward operator + reverse operator + RAM checkpoint slots.
    let mut revolver = Revolver::new(
        schedule,
        BurgersForward::<Vec<f64>>::new(model.clone()),
        BurgersAdjoint::<Vec<f64>>::new(model.clone()),
        RamStore::new(usize::try_from(snaps)?, &u0),
    )?;

    let t = Instant::now();
    // 3. Forward: `u` ends at step n.
    let mut u = u0.clone();
    revolver.apply_forward(&mut u)?;
    let j = Burgers::objective(&u);
    // 4. Seed the adjoint with dJ/du_n = u_n and run the reverse sweep: it ends as dJ/du_0.
    let mut grad = u;
    revolver.apply_reverse(&mut grad)?;
    let secs = t.elapsed().as_secs_f64();

    let st = revolver.stats();
    println!(
        "points={points} steps={steps} snaps={snaps} dt={:.3e}",
        model.dt()
    );
    println!(
        "J(u_n) = {j:.12e}, |dJ/du0| = {:.6e}",
        grad.iter().map(|g| g * g).sum::<f64>().sqrt()
    );
    println!(
        "forward steps {} (optimum T(n,s) = {}), reverse {}, stores {}, restores {}, copies {}, \
         hand-overs {}, views {}, out-of-place advances {}; {secs:.3} s",
        st.schedule.forward,
        optimal_forward(steps, snaps)?,
        st.schedule.reverse,
        st.schedule.stores[0],
        st.schedule.restores[0],
        st.copies,
        st.handovers,
        st.views,
        st.out_of_place,
    );

    // 5. Check: directional derivative against central finite differences.
    let v: Vec<f64> = (0..points).map(|i| (0.37 * i as f64).sin()).collect();
    let eps = 1e-4;
    let at = |t: f64| -> Vec<f64> { u0.iter().zip(&v).map(|(a, b)| a + t * b).collect() };
    let fd = (objective_after(&model, &at(eps), steps)?
        - objective_after(&model, &at(-eps), steps)?)
        / (2.0 * eps);
    let adj: f64 = grad.iter().zip(&v).map(|(a, b)| a * b).sum();
    println!(
        "dJ.v: adjoint {adj:.12e}, finite differences {fd:.12e}, relative {:.2e}",
        ((adj - fd) / fd).abs()
    );
    Ok(())
}
