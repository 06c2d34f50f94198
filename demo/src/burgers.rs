//! 1D viscous Burgers equation `u_t + (u^2 / 2)_x = nu u_xx` on a periodic grid, explicit Euler
//! with a central flux and central diffusion, and its hand-derived discrete adjoint.
//!
//! One step, with `a = dt / (4 dx)` and `b = nu dt / dx^2`:
//! `u'[i] = u[i] - a (u[i+1]^2 - u[i-1]^2) + b (u[i+1] - 2 u[i] + u[i-1])`.
//! Its adjoint (transpose of the Jacobian at `u`) maps `l'` (at step k+1) to
//! `l[j] = (1 - 2b) l'[j] + b (l'[j-1] + l'[j+1]) + 2 a u[j] (l'[j+1] - l'[j-1])`.
//!
//! [`BurgersForward`] and [`BurgersAdjoint`] are the operators a
//! [`revolve::Revolver`] drives; [`checkpointed_gradient`] runs the whole
//! `J = 1/2 ||u_n||^2`, `dJ/du_0` computation through a schedule.
//!
//! ```
//! use retrace_demo::burgers::{Burgers, gradient_store_all};
//! let model = Burgers::new(64, 0.05, 1e-3).unwrap();
//! let u0 = model.initial_condition();
//! let (j, grad) = gradient_store_all(&model, &u0, 10).unwrap();
//! assert!(j > 0.0 && grad.len() == 64);
//! ```

use revolve::revolver::{ForwardOperator, ReverseOperator, RevolverStats};
use revolve::{CheckpointStore, NoDisk, RamStore, Revolver, Schedule, State};
use std::f64::consts::PI;

/// What can go wrong setting up or stepping the Burgers model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BurgersError {
    /// A parameter is out of range.
    #[error("bad Burgers parameter {name} = {value}: {reason}")]
    Parameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The allowed range.
        reason: &'static str,
    },
    /// A state or adjoint has the wrong number of grid points.
    #[error("field has {found} points, the model has {expected}")]
    Size {
        /// Grid points of the model.
        expected: usize,
        /// Points found.
        found: usize,
    },
    /// A field is not contiguous in memory.
    #[error("field is not contiguous in memory")]
    Layout,
    /// A step produced a NaN or infinity (the time step is unstable for this state).
    #[error("step {step} produced a non-finite value (unstable time step?)")]
    NonFinite {
        /// The step that produced it.
        step: u64,
    },
}

/// A grid field the operators work on: `Vec<f64>` or a 1-D `ndarray` array.
pub trait Field: State {
    /// The values, if contiguous.
    fn values(&self) -> Option<&[f64]>;
    /// The values, mutable, if contiguous.
    fn values_mut(&mut self) -> Option<&mut [f64]>;
}

impl Field for Vec<f64> {
    fn values(&self) -> Option<&[f64]> {
        Some(self)
    }
    fn values_mut(&mut self) -> Option<&mut [f64]> {
        Some(self)
    }
}

impl Field for ndarray::Array1<f64> {
    fn values(&self) -> Option<&[f64]> {
        self.as_slice()
    }
    fn values_mut(&mut self) -> Option<&mut [f64]> {
        self.as_slice_mut()
    }
}

/// The discretised model: grid, viscosity, time step.
#[derive(Clone, Debug, PartialEq)]
pub struct Burgers {
    points: usize,
    nu: f64,
    dt: f64,
    dx: f64,
    a: f64,
    b: f64,
}

/// Length of the periodic domain, `2 pi`.
pub const LENGTH: f64 = 2.0 * PI;

impl Burgers {
    /// A model on `points >= 3` grid points over `[0, 2 pi)`, viscosity `nu > 0`, time step
    /// `dt > 0` within the diffusive limit `nu dt / dx^2 <= 1/2`.
    pub fn new(points: usize, nu: f64, dt: f64) -> Result<Self, BurgersError> {
        if points < 3 {
            return Err(BurgersError::Parameter {
                name: "points",
                value: points as f64,
                reason: "need at least 3 grid points",
            });
        }
        if !(nu.is_finite() && nu > 0.0) {
            return Err(BurgersError::Parameter {
                name: "nu",
                value: nu,
                reason: "viscosity must be positive and finite",
            });
        }
        let dx = LENGTH / points as f64;
        let b = nu * dt / (dx * dx);
        if !(dt.is_finite() && dt > 0.0) || b > 0.5 {
            return Err(BurgersError::Parameter {
                name: "dt",
                value: dt,
                reason: "time step must be positive with nu dt / dx^2 <= 1/2",
            });
        }
        Ok(Burgers {
            points,
            nu,
            dt,
            dx,
            a: dt / (4.0 * dx),
            b,
        })
    }

    /// A model with `dt` at `safety` (in `(0, 1]`) times the explicit stability limit for
    /// speeds up to `umax`: `min(dx^2 / (2 nu), 2 nu / umax^2)`.
    pub fn with_stable_dt(
        points: usize,
        nu: f64,
        umax: f64,
        safety: f64,
    ) -> Result<Self, BurgersError> {
        if !(safety > 0.0 && safety <= 1.0) {
            return Err(BurgersError::Parameter {
                name: "safety",
                value: safety,
                reason: "safety factor must lie in (0, 1]",
            });
        }
        let dx = LENGTH / points.max(1) as f64;
        let mut dt = dx * dx / (2.0 * nu);
        if umax > 0.0 {
            dt = dt.min(2.0 * nu / (umax * umax));
        }
        Self::new(points, nu, safety * dt)
    }

    /// Grid points.
    pub fn points(&self) -> usize {
        self.points
    }
    /// Viscosity.
    pub fn nu(&self) -> f64 {
        self.nu
    }
    /// Time step.
    pub fn dt(&self) -> f64 {
        self.dt
    }
    /// Grid spacing.
    pub fn dx(&self) -> f64 {
        self.dx
    }

    /// A smooth initial state: `sin x + 0.5 sin(2x + 1) + 0.25 cos(5x)`.
    pub fn initial_condition(&self) -> Vec<f64> {
        self.initial_block(0, self.points)
    }

    /// Grid points `lo..hi` of [`Burgers::initial_condition`] (the same bits), for a rank that
    /// owns only that block.
    pub fn initial_block(&self, lo: usize, hi: usize) -> Vec<f64> {
        (lo..hi.min(self.points))
            .map(|i| {
                let x = i as f64 * self.dx;
                x.sin() + 0.5 * (2.0 * x + 1.0).sin() + 0.25 * (5.0 * x).cos()
            })
            .collect()
    }

    fn check_len(&self, found: usize) -> Result<(), BurgersError> {
        if found == self.points {
            Ok(())
        } else {
            Err(BurgersError::Size {
                expected: self.points,
                found,
            })
        }
    }

    /// One forward step `u -> out` (step number `step`, for error reports).
    pub fn step(&self, u: &[f64], out: &mut [f64], step: u64) -> Result<(), BurgersError> {
        self.check_len(u.len())?;
        self.check_len(out.len())?;
        let n = u.len();
        self.step_block(u[n - 1], u, u[0], out);
        if !all_finite(out) {
            return Err(BurgersError::NonFinite { step });
        }
        Ok(())
    }

    /// One forward step on a contiguous block of the grid: `out[i]` is the new value at `u[i]`,
    /// with `left` and `right` the old values just outside the block (its halo). Every point is
    /// the same expression [`Burgers::step`] evaluates, so a grid split into blocks steps to the
    /// same bits. `out` must be as long as `u`; no finiteness check.
    pub fn step_block(&self, left: f64, u: &[f64], right: f64, out: &mut [f64]) {
        let (a, b) = (self.a, self.b);
        let f = |l: f64, c: f64, r: f64| c - a * (r * r - l * l) + b * (r - 2.0 * c + l);
        let m = u.len().min(out.len());
        match m {
            0 => {}
            1 => out[0] = f(left, u[0], right),
            _ => {
                for (o, w) in out[1..m - 1].iter_mut().zip(u.windows(3)) {
                    *o = f(w[0], w[1], w[2]);
                }
                out[0] = f(left, u[0], u[1]);
                out[m - 1] = f(u[m - 2], u[m - 1], right);
            }
        }
    }

    /// The adjoint of step `u -> u'`: `lam = J(u)^T lam_next`.
    pub fn adjoint_step(
        &self,
        u: &[f64],
        lam_next: &[f64],
        lam: &mut [f64],
    ) -> Result<(), BurgersError> {
        self.check_len(u.len())?;
        self.check_len(lam_next.len())?;
        self.check_len(lam.len())?;
        let n = u.len();
        self.adjoint_block(u, lam_next[n - 1], lam_next, lam_next[0], lam);
        Ok(())
    }

    /// The adjoint step on a contiguous block: `lam[j]` from the state `u[j]` and `lam_next` at
    /// `j - 1, j, j + 1`, with `left` and `right` the values of `lam_next` just outside the block.
    /// The same expression per point as [`Burgers::adjoint_step`]. `u`, `lam_next` and `lam`
    /// must have the same length.
    pub fn adjoint_block(
        &self,
        u: &[f64],
        left: f64,
        lam_next: &[f64],
        right: f64,
        lam: &mut [f64],
    ) {
        let (a2, b) = (2.0 * self.a, self.b);
        let g =
            |uj: f64, l: f64, c: f64, r: f64| (1.0 - 2.0 * b) * c + b * (l + r) + a2 * uj * (r - l);
        let m = u.len().min(lam_next.len()).min(lam.len());
        match m {
            0 => {}
            1 => lam[0] = g(u[0], left, lam_next[0], right),
            _ => {
                for ((o, w), &uj) in lam[1..m - 1]
                    .iter_mut()
                    .zip(lam_next.windows(3))
                    .zip(&u[1..m - 1])
                {
                    *o = g(uj, w[0], w[1], w[2]);
                }
                lam[0] = g(u[0], left, lam_next[0], lam_next[1]);
                lam[m - 1] = g(u[m - 1], lam_next[m - 2], lam_next[m - 1], right);
            }
        }
    }

    /// `J(u) = 1/2 sum u_i^2`; its gradient is `u` itself.
    pub fn objective(u: &[f64]) -> f64 {
        0.5 * Self::sum_squares(0.0, u)
    }

    /// `acc + u_0^2 + u_1^2 + ...`, added left to right: a grid split into blocks gives the
    /// serial sum bit for bit when each block continues the previous block's total.
    pub fn sum_squares(acc: f64, u: &[f64]) -> f64 {
        u.iter().fold(acc, |s, &x| s + x * x)
    }
}

/// `true` if no value is NaN or infinite.
pub fn all_finite(values: &[f64]) -> bool {
    !values.iter().fold(0.0, |s, &x| s + x * 0.0).is_nan()
}

fn slice<S: Field>(s: &S) -> Result<&[f64], BurgersError> {
    s.values().ok_or(BurgersError::Layout)
}

fn slice_mut<S: Field>(s: &mut S) -> Result<&mut [f64], BurgersError> {
    s.values_mut().ok_or(BurgersError::Layout)
}

/// The forward operator: advances a field in place (ping-pong with one scratch field, allocated
/// on first use) or out of place.
#[derive(Clone, Debug)]
pub struct BurgersForward<S> {
    model: Burgers,
    scratch: Option<S>,
}

impl<S: Field> BurgersForward<S> {
    /// The forward operator of `model`.
    pub fn new(model: Burgers) -> Self {
        BurgersForward {
            model,
            scratch: None,
        }
    }
}

impl<S: Field> ForwardOperator<S> for BurgersForward<S> {
    type Error = BurgersError;

    fn advance(&mut self, state: &mut S, from: u64, to: u64) -> Result<(), BurgersError> {
        let scratch = self.scratch.get_or_insert_with(|| state.clone());
        for k in from..to {
            self.model.step(slice(state)?, slice_mut(scratch)?, k)?;
            std::mem::swap(state, scratch);
        }
        Ok(())
    }

    fn out_of_place(&self) -> bool {
        true
    }

    fn advance_from(
        &mut self,
        src: &S,
        dst: &mut S,
        from: u64,
        to: u64,
    ) -> Result<(), BurgersError> {
        if to > from {
            self.model.step(slice(src)?, slice_mut(dst)?, from)?;
            self.advance(dst, from + 1, to)?;
        }
        Ok(())
    }
}

/// The reverse operator: one adjoint step in place (ping-pong with one scratch field).
#[derive(Clone, Debug)]
pub struct BurgersAdjoint<A> {
    model: Burgers,
    scratch: Option<A>,
}

impl<A: Field> BurgersAdjoint<A> {
    /// The adjoint operator of `model`.
    pub fn new(model: Burgers) -> Self {
        BurgersAdjoint {
            model,
            scratch: None,
        }
    }
}

impl<S: Field, A: Field> ReverseOperator<S, A> for BurgersAdjoint<A> {
    type Error = BurgersError;

    fn reverse(&mut self, state: &S, adjoint: &mut A, _step: u64) -> Result<(), BurgersError> {
        let scratch = self.scratch.get_or_insert_with(|| adjoint.clone());
        self.model
            .adjoint_step(slice(state)?, slice(adjoint)?, slice_mut(scratch)?)?;
        std::mem::swap(adjoint, scratch);
        Ok(())
    }
}

/// Result of a checkpointed gradient computation.
#[derive(Clone, Debug)]
pub struct Gradient<S> {
    /// `J(u_n) = 1/2 ||u_n||^2`.
    pub objective: f64,
    /// `dJ/du_0`.
    pub gradient: S,
    /// What the Revolver did.
    pub stats: RevolverStats,
}

/// `J = 1/2 ||u_n||^2` and `dJ/du_0` after the `n` steps of `schedule` from `u0`, with
/// `ram_slots` RAM checkpoints (and `disk`, if given, as the disk level).
pub fn checkpointed_gradient<S, P>(
    model: &Burgers,
    u0: &S,
    schedule: P,
    ram_slots: usize,
    disk: Option<Box<dyn CheckpointStore<S>>>,
) -> Result<Gradient<S>, revolve::Error>
where
    S: Field,
    P: Schedule,
{
    let steps = schedule.steps();
    let mut rv = Revolver::new(
        schedule,
        BurgersForward::<S>::new(model.clone()),
        BurgersAdjoint::<S>::new(model.clone()),
        RamStore::new(ram_slots, u0),
    )?
    .with_disk(disk.unwrap_or_else(|| Box::new(NoDisk)));
    let mut u = u0.clone();
    rv.apply_forward(&mut u)?;
    let values = u.values().ok_or_else(|| revolve::Error::Operator {
        operator: "forward",
        step: steps,
        source: Box::new(BurgersError::Layout),
    })?;
    let objective = Burgers::objective(values);
    // dJ/du_n = u_n: the final state seeds the adjoint.
    let mut lam = u;
    rv.apply_reverse(&mut lam)?;
    Ok(Gradient {
        objective,
        gradient: lam,
        stats: rv.stats(),
    })
}

/// `J` and `dJ/du_0` by storing every state (`steps + 1` fields in memory): the reference the
/// checkpointed gradient must equal bit for bit.
pub fn gradient_store_all(
    model: &Burgers,
    u0: &[f64],
    steps: u64,
) -> Result<(f64, Vec<f64>), BurgersError> {
    model.check_len(u0.len())?;
    let mut states = vec![u0.to_vec()];
    for k in 0..steps {
        let mut next = vec![0.0; u0.len()];
        model.step(&states[k as usize], &mut next, k)?;
        states.push(next);
    }
    let un = states.pop().unwrap_or_default();
    let objective = Burgers::objective(&un);
    let mut lam = un;
    let mut tmp = vec![0.0; u0.len()];
    for u in states.iter().rev() {
        model.adjoint_step(u, &lam, &mut tmp)?;
        std::mem::swap(&mut lam, &mut tmp);
    }
    Ok((objective, lam))
}

/// `J(u_n)` after `steps` steps from `u0` (no adjoint), for finite-difference checks.
pub fn objective_after(model: &Burgers, u0: &[f64], steps: u64) -> Result<f64, BurgersError> {
    let mut fwd = BurgersForward::<Vec<f64>>::new(model.clone());
    let mut u = u0.to_vec();
    if steps > 0 {
        fwd.advance(&mut u, 0, steps)?;
    }
    Ok(Burgers::objective(&u))
}
