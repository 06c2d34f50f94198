//! The sampler's integration tests: one binary, one module per subject.

mod kill_restart;
