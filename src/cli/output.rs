//! Output files of the CLI (`tams --json`, `db export`, `db plot --svg`, `plan --svg`): checked
//! before any work starts, written atomically (a temporary file in the same directory, then
//! renamed over the target), so a failed write leaves neither a truncated file nor a temporary
//! one. `-` means stdout.

use super::{CliError, CliResult};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where an output goes: stdout (`-`) or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Standard output.
    Stdout,
    /// A regular file (existing or new), replaced atomically.
    File(PathBuf),
    /// An existing file that is not a regular one (`/dev/stdout`, a FIFO, a device): written in
    /// place, since renaming over it would replace the device instead of writing to it.
    Special(PathBuf),
}

impl Target {
    /// Check that `path` (the value of option `flag`; `-`: stdout) can be written, before the
    /// work producing it starts: its directory exists and accepts new files, and it is not a
    /// directory itself. A failure is a usage error naming the option and the path. Use
    /// [`Outputs::check`] where a command has several outputs or a run directory.
    pub(crate) fn check(flag: &str, path: &Path) -> Result<Target, CliError> {
        Outputs::default().check(flag, path)
    }

    /// Write `bytes` to stdout or, atomically, to the file.
    pub(crate) fn write(&self, bytes: &[u8]) -> CliResult {
        match self {
            Target::Stdout => {
                let mut out = super::stdout();
                out.write_all(bytes)?;
                super::flush(out)
            }
            Target::File(path) => write_atomic(path, bytes),
            Target::Special(path) => {
                let cannot = |e: std::io::Error| {
                    CliError::Failed(format!("cannot write {}: {e}", path.display()))
                };
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(cannot)?;
                f.write_all(bytes).and_then(|()| f.flush()).map_err(cannot)
            }
        }
    }

    /// Whether this is stdout.
    pub(crate) fn is_stdout(&self) -> bool {
        *self == Target::Stdout
    }
}

/// The outputs of one command, checked together: none may be inside a run directory (one
/// holding `run.sqlite`), inside the command's own `--db` directory, or be another output of the
/// same command. Paths are compared resolved (symbolic links, `..`).
#[derive(Default)]
pub(crate) struct Outputs {
    /// The `--db` directory of the command (resolved), if any.
    db: Option<PathBuf>,
    /// The outputs checked so far: option and resolved path.
    seen: Vec<(String, PathBuf)>,
}

impl Outputs {
    /// Outputs of a command writing the run directory `db` (none: a command writing none).
    pub(crate) fn new(db: Option<&Path>) -> Outputs {
        Outputs {
            db: db.and_then(|d| resolve(d).ok()),
            seen: Vec::new(),
        }
    }

    /// Check output `path` of option `flag` (see [`Target::check`] and the type's comment).
    pub(crate) fn check(&mut self, flag: &str, path: &Path) -> Result<Target, CliError> {
        if path.as_os_str() == "-" {
            return Ok(Target::Stdout);
        }
        let bad = |why: String| {
            CliError::Usage(format!("{flag} {}: cannot write: {why}", path.display()))
        };
        if path.is_dir() {
            return Err(bad("it is a directory".into()));
        }
        let meta = std::fs::metadata(path).ok();
        // An existing file that is not a regular one (`/dev/stdout`, a FIFO): written in place.
        if meta.as_ref().is_some_and(|m| !m.is_file()) {
            return Ok(Target::Special(path.to_path_buf()));
        }
        let parent = parent_of(path);
        if meta.is_none() && !parent.is_dir() {
            return Err(bad(format!(
                "directory {} does not exist",
                parent.display()
            )));
        }
        // Symbolic links followed: the file they name is replaced (not the link).
        let real = resolve(path).map_err(|e| bad(e.to_string()))?;
        for kernel in ["/proc", "/sys"] {
            if real.starts_with(kernel) {
                return Err(bad(format!(
                    "{} is in {kernel}, a kernel file system, not a place for output files",
                    real.display()
                )));
            }
        }
        if let Some(run) = real.ancestors().skip(1).find(|a| a.join(RUN_FILE).exists()) {
            return Err(bad(format!(
                "{} is inside run directory {} (it holds {RUN_FILE}); write outputs elsewhere",
                real.display(),
                run.display()
            )));
        }
        if let Some(db) = &self.db
            && real.starts_with(db)
        {
            return Err(bad(format!(
                "{} is inside the run directory {} of --db",
                real.display(),
                db.display()
            )));
        }
        if let Some((other, _)) = self.seen.iter().find(|(_, p)| *p == real) {
            return Err(bad(format!("it is also the output of {other}")));
        }
        let dir = parent_of(&real);
        if meta.is_some() {
            temp_in(dir).map_err(|e| bad(format!("directory {}: {e}", dir.display())))?;
        } else {
            // Create the file itself (then remove it): the only reliable test of the name
            // (length, characters) and of "may create files here" (permissions, read-only
            // mounts, ACLs) before the work starts.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&real)
                .map_err(|e| bad(e.to_string()))?;
            std::fs::remove_file(&real).map_err(|e| bad(e.to_string()))?;
        }
        self.seen.push((flag.to_owned(), real.clone()));
        Ok(Target::File(real))
    }
}

/// The file marking a run directory.
const RUN_FILE: &str = "run.sqlite";

/// `path` made absolute with symbolic links and `..` resolved: the whole path if it exists, else
/// its directory (which must exist) joined with its name.
pub(crate) fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(real) = std::fs::canonicalize(path) {
        return Ok(real);
    }
    match path.file_name() {
        Some(name) => Ok(std::fs::canonicalize(parent_of(path))?.join(name)),
        None => std::fs::canonicalize(path),
    }
}

/// The directory a file `path` goes into (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".retrace-")
        .suffix(".tmp")
        .tempfile_in(dir)
}

/// Write `bytes` to `path` atomically: a temporary file next to it, synced, then renamed over
/// it. On any error the temporary file is removed and `path` is untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> CliResult {
    let cannot =
        |e: std::io::Error| CliError::Failed(format!("cannot write {}: {e}", path.display()));
    let mut tmp = temp_in(parent_of(path)).map_err(cannot)?;
    #[cfg(unix)]
    {
        // tempfile creates 0600; an output is as readable as any other file written.
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(perms).map_err(cannot)?;
    }
    tmp.write_all(bytes).map_err(cannot)?;
    tmp.as_file().sync_all().map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_writes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.json");
        assert_eq!(
            Target::check("--json", Path::new("-")).unwrap(),
            Target::Stdout
        );
        let t = Target::check("--json", &file).unwrap();
        assert!(!file.exists(), "the check creates nothing");
        t.write(b"one").unwrap();
        t.write(b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        let missing = dir.path().join("no/such/out.json");
        let e = Target::check("--json", &missing).unwrap_err();
        assert!(
            matches!(&e, CliError::Usage(m) if m.contains("does not exist")),
            "{e:?}"
        );
        let e = Target::check("--json", dir.path()).unwrap_err();
        assert!(
            matches!(&e, CliError::Usage(m) if m.contains("is a directory")),
            "{e:?}"
        );
        // A failed write leaves nothing behind.
        assert!(write_atomic(&missing, b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only out.json: {names:?}");
    }
}
