//! retrace-demo's integration tests: one test binary, one module per subject.

mod burgers_adjoint;
mod burgers_disk_adjoint;
mod burgers_mixed;
