//! revolve's integration tests: one test binary, one module per subject.

mod adjust;
mod binomial_optimal;
mod cost_aware_schedule;
mod cost_aware_search;
mod counting;
mod disk_codec;
mod disk_store;
mod disk_zfp;
mod mixed;
mod multistage_schedule;
mod online_schedule;
mod planner;
mod revolver_no_alloc;
mod revolver_reuse;
mod units;
