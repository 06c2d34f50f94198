//! `retrace schedule` (in progress).

use super::{CliError, CliResult};

/// Arguments of `retrace schedule`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `retrace schedule`.
pub fn run(_args: Args) -> CliResult {
    Err(CliError::Failed(
        "`retrace schedule` is not built yet".into(),
    ))
}
