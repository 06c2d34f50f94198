//! Subcommands of the `retrace` binary. Each returns a [`CliError`]; `main` prints it on one line.

pub(crate) mod db;
#[cfg(feature = "zarr")]
pub(crate) mod db_paths;
pub(crate) mod demo;
pub(crate) mod output;
#[cfg(feature = "parquet")]
pub(crate) mod parquet;
pub(crate) mod plan;
pub(crate) mod schedule;
pub(crate) mod signals;
pub(crate) mod tams;

use std::io::{self, Write};
use std::process::ExitCode;

/// A failure to report on one line, with its exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad arguments or input (exit 2).
    Usage(String),
    /// The run itself failed (exit 1).
    Failed(String),
    /// stdout was closed (e.g. piped into `head`): stop quietly (exit 0).
    BrokenPipe,
}

impl CliError {
    /// A usage error from anything printable.
    pub(crate) fn usage(e: impl std::fmt::Display) -> Self {
        CliError::Usage(e.to_string())
    }
    /// A run failure from anything printable.
    pub(crate) fn failed(e: impl std::fmt::Display) -> Self {
        CliError::Failed(e.to_string())
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Failed(format!("i/o error: {e}"))
        }
    }
}

/// Result of a subcommand.
pub(crate) type CliResult = Result<(), CliError>;

/// Turn a subcommand's result into an exit code, printing the error on one line.
pub(crate) fn finish(result: CliResult) -> ExitCode {
    signals::wait_if_ending();
    match result {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Usage(m)) => {
            eprintln!("error: {}", one_line(&m));
            ExitCode::from(2)
        }
        Err(CliError::Failed(m)) => {
            eprintln!("error: {}", one_line(&m));
            ExitCode::from(1)
        }
    }
}

/// Print clap's help/version as usual; print argument errors as one line and exit 2.
pub(crate) fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            let mut first = first.strip_prefix("error: ").unwrap_or(first).to_string();
            if first.ends_with(':') {
                // e.g. "the following required arguments were not provided:" + indented names
                let names: Vec<&str> = text
                    .lines()
                    .skip_while(|l| !l.trim_end().ends_with(':'))
                    .skip(1)
                    .take_while(|l| l.starts_with(' '))
                    .map(str::trim)
                    .collect();
                first = format!("{first} {}", names.join(" "));
            }
            // e.g. "invalid value 'x' for '--table <TABLE>'": name the accepted values.
            if e.kind() == ErrorKind::InvalidValue
                && let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue)
            {
                first = format!("{first}; expected one of: {}", valid.join(", "));
            }
            eprintln!("error: {first} (see --help)");
            ExitCode::from(2)
        }
    }
}

fn one_line(m: &str) -> String {
    m.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A buffered, locked stdout whose write errors become [`CliError`]s (broken pipes end quietly).
pub(crate) fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Flush a writer, mapping errors.
pub(crate) fn flush(mut w: impl Write) -> CliResult {
    w.flush().map_err(CliError::from)
}
