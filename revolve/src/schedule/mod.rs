//! Schedules: pure planners that emit [`Action`](crate::Action)s and do no I/O.

pub mod binomial;
pub mod cost_aware;
pub mod multistage;
pub mod online;
mod split_run;
