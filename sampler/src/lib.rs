//! Rare-event sampling: Trajectory-Adaptive Multilevel Splitting (TAMS) and plain Monte Carlo.
#![deny(missing_docs)]
