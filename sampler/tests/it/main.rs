//! The sampler's integration tests: one binary, one module per subject.

mod api_checks;
mod db_compact_store;
mod db_foreign_files;
mod db_identity;
mod db_initial_journal;
mod db_journal_resume;
mod db_lock;
mod db_messages;
mod db_one_reader;
mod db_power_loss;
mod db_states;
mod distributed_local;
mod kill_restart;
mod limits;
mod run_api;
mod run_seeds;
mod tams_bounded;
mod tams_determinism;
mod tams_edge_cases;
mod tams_ndarray_state;
mod tams_random_initial;
mod tams_unbiased;
#[cfg(feature = "zarr")]
mod zarr_common;
#[cfg(feature = "zarr")]
mod zarr_ensemble;
#[cfg(feature = "zarr")]
mod zarr_ensemble_ranks;
#[cfg(feature = "zarr")]
mod zarr_paths;
