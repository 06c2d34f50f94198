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
    /// directory itself. A failure is a usage error naming the option and the path.
    pub(crate) fn check(flag: &str, path: &Path) -> Result<Target, CliError> {
        if path.as_os_str() == "-" {
            return Ok(Target::Stdout);
        }
        let bad = |why: String| {
            CliError::Usage(format!("{flag} {}: cannot write: {why}", path.display()))
        };
        if path.is_dir() {
            return Err(bad("it is a directory".into()));
        }
        // An existing path: follow symbolic links, so the file they name is replaced (not the
        // link), and write devices and FIFOs in place.
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                return Ok(Target::Special(path.to_path_buf()));
            }
            if let Ok(real) = std::fs::canonicalize(path) {
                let parent = parent_of(&real);
                temp_in(parent).map_err(|e| bad(format!("directory {}: {e}", parent.display())))?;
                return Ok(Target::File(real));
            }
        }
        let parent = parent_of(path);
        if !parent.is_dir() {
            return Err(bad(format!(
                "directory {} does not exist",
                parent.display()
            )));
        }
        // The only reliable test of "may create files here" (permissions, read-only mounts,
        // ACLs): create a temporary file there; it is removed when dropped.
        temp_in(parent).map_err(|e| bad(format!("directory {}: {e}", parent.display())))?;
        Ok(Target::File(path.to_path_buf()))
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
