//! `retrace demo` (in progress).

use super::{CliError, CliResult};

/// Arguments of `retrace demo`.
#[derive(clap::Args)]
pub struct Args {}

/// Run `retrace demo`.
pub fn run(_args: Args) -> CliResult {
    Err(CliError::Failed("`retrace demo` is not built yet".into()))
}
