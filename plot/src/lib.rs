//! retrace-plot: the figures of retrace as SVG text, with no dependency on the CLI.
//!
//! - [`plan`]: the table and the trade-off plot of a checkpointing [`Plan`](revolve::planner::Plan)
//!   (`retrace plan`, `--svg`; Python's `retrace.plan(..., svg=True)`).
//! - [`run`]: the four-panel figure of a TAMS run database (`retrace db plot`).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod axes;
pub mod plan;
pub mod run;
