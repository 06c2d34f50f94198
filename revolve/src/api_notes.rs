//! What the public API no longer offers, and which enums may grow; each block must fail to
//! compile (checked by `cargo test --doc -p revolve`).
//!
//! Removed as unused (nothing in the workspace called them):
//! ```compile_fail,E0599
//! # use revolve::{Binomial, Revolver};
//! # let fwd = |u: &mut f64, _: u64, _: u64| -> Result<(), std::convert::Infallible> { Ok(()) };
//! # let rev = |_: &f64, _: &mut f64, _: u64| -> Result<(), std::convert::Infallible> { Ok(()) };
//! let mut rv = Revolver::for_schedule(Binomial::new(4, 2).unwrap(), fwd, rev, &0.0).unwrap();
//! rv.disk_mut();
//! ```
//! ```compile_fail,E0599
//! let dir = tempfile::tempdir().unwrap();
//! let mut s = revolve::DiskStore::builder(1).dir(dir.path()).build(&0.0f64).unwrap();
//! s.set_keep_files(true);
//! ```
//! ```compile_fail,E0599
//! let m = revolve::Machine::new(3, revolve::Capacity::ram(1));
//! m.next_to_reverse();
//! ```
//! ```compile_fail,E0425
//! revolve::cost::optimal_advances(10, 3);
//! ```
//! ```compile_fail,E0599
//! use revolve::schedule::two_level::TwoLevel;
//! let t = TwoLevel::new(100, 2, 3, revolve::Costs::default()).unwrap();
//! t.disk_segments();
//! ```
//! ```compile_fail,E0599
//! use revolve::schedule::two_level::TwoLevel;
//! let t = TwoLevel::new(100, 2, 3, revolve::Costs::default()).unwrap();
//! t.last_segment();
//! ```
//!
//! Internal to the planner: its online work limit and the conversion to pricing costs (there is
//! one [`Costs`](crate::Costs) now, no `planner::Costs`).
//! ```compile_fail,E0603
//! let _ = revolve::planner::ONLINE_WORK;
//! ```
//! ```compile_fail,E0425
//! let p = revolve::planner::Problem::new(10, 8, 80, 0);
//! revolve::planner::pricing_costs(&p);
//! ```
//! ```compile_fail,E0432
//! use revolve::planner::Costs;
//! ```
//! The four-number `Costs::new(uf, ub, wd, rd)` of per-checkpoint seconds is gone (`Costs::new(uf,
//! ub)` then `with_disk` or `with_disk_seconds`):
//! ```compile_fail,E0061
//! revolve::Costs::new(1.0, 2.0, 3.0, 4.0);
//! ```
//! A planner row's config is typed, not a string:
//! ```compile_fail,E0308
//! let plan = revolve::planner::plan(&revolve::planner::Problem::new(10, 8, 80, 0)).unwrap();
//! let config: String = plan.rows[0].config;
//! ```
//!
//! `#[non_exhaustive]` (may grow: a new strategy, rule, source of counts, search result or
//! parse error): [`Error`](crate::Error), [`Rule`](crate::Rule),
//! [`ParseActionError`](crate::ParseActionError), `planner::{Strategy, Config, Source,
//! PlanError}`, `schedule::cost_aware::Best`, `units::UnitError`. A match needs a `_` arm:
//! ```compile_fail,E0004
//! use revolve::planner::Strategy;
//! fn name(s: Strategy) -> &'static str {
//!     match s {
//!         Strategy::StoreAll | Strategy::Periodic | Strategy::Binomial => "a",
//!         Strategy::Multistage | Strategy::CostAware | Strategy::Online => "b",
//!     }
//! }
//! ```
//! ```compile_fail,E0004
//! use revolve::planner::Source;
//! fn name(s: Source) -> u8 {
//!     match s {
//!         Source::Validated => 0,
//!         Source::ClosedForm => 1,
//!     }
//! }
//! ```
//! ```compile_fail,E0004
//! use revolve::schedule::cost_aware::Best;
//! fn name(b: &Best) -> u8 {
//!     match b {
//!         Best::Exact(_) => 0,
//!         Best::TwoLevel(_) => 1,
//!         Best::Multistage(..) => 2,
//!     }
//! }
//! ```
//! ```compile_fail,E0004
//! use revolve::Rule;
//! fn name(r: &Rule) -> u8 {
//!     match r {
//!         Rule::NoSteps | Rule::AfterEnd | Rule::NoCurrentState => 0,
//!         Rule::WrongStep { .. } | Rule::EmptyAdvance { .. } | Rule::PastReversal { .. } => 1,
//!         Rule::ReverseOrder { .. } | Rule::MissingCheckpoint { .. } => 2,
//!         Rule::DuplicateCheckpoint { .. } | Rule::LevelFull { .. } => 3,
//!         Rule::Unfinished { .. } | Rule::Leftover { .. } => 4,
//!     }
//! }
//! ```
//! Not `#[non_exhaustive]`, by design: [`Action`](crate::Action) (the instruction set every
//! driver and validator must execute in full) and [`Level`](crate::Level) (RAM and disk; every
//! store, capacity and count is indexed by it), and `planner::Outcome` (planned or skipped). A
//! driver matches them without a `_` arm, so a new variant is a compile error where it must be
//! handled:
//! ```
//! use revolve::{Action, Level};
//! fn level(a: Action) -> Option<Level> {
//!     match a {
//!         Action::Store { level, .. }
//!         | Action::Restore { level, .. }
//!         | Action::Free { level, .. }
//!         | Action::Record { level, .. } => Some(level),
//!         Action::Advance { .. } | Action::Reverse { .. } => None,
//!     }
//! }
//! assert_eq!(level(Action::Reverse { step: 0 }), None);
//! ```
