//! `retrace tams` (in progress).

use super::{CliError, CliResult};

/// Arguments of `retrace tams`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `retrace tams`.
pub fn run(_args: Args) -> CliResult {
    Err(CliError::Failed("`retrace tams` is not built yet".into()))
}
