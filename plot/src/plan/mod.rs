//! Rendering a [`Plan`](revolve::planner::Plan): the text table of `retrace plan` and its SVG
//! trade-off plot (recompute factor and modelled time against checkpoint memory). Used by the CLI
//! and by the Python package's `retrace.plan(..., svg=True)`.

use revolve::planner::{self, Plan};

mod svg;
mod table;

/// The table `retrace plan` prints: one row per strategy, then the notes.
pub fn table(plan: &Plan) -> String {
    table::table(plan)
}

/// The SVG trade-off plot of `plan`, with the binomial curve sampled at about 200 points.
pub fn svg(plan: &Plan) -> String {
    let curve = planner::tradeoff_curve(plan.problem.steps, plan.problem.state_bytes, 200);
    svg::svg(plan, &curve)
}
