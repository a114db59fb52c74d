//! A tarball unpacked for the sandbox: regular files and directories only, under the
//! package directory, within size limits. Links, devices and paths that climb out
//! are left out (npm itself refuses most of them).

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use crate::Error;

/// Bytes unpacked at most (all files together).
const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
const MAX_ENTRIES: usize = 50_000;

/// Unpacks `tgz` into `into` (the package directory), dropping the first path
/// component as npm does; returns the manifest's bytes.
pub(crate) fn unpack(tgz: &[u8], into: &Path) -> Result<Vec<u8>, Error> {
    let decoder = flate2::read::GzDecoder::new(tgz);
    let mut archive = tar::Archive::new(decoder);
    let mut total = 0u64;
    let mut manifest = None;
    let entries = archive.entries().map_err(Error::tarball)?;
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(Error::Tarball(format!("more than {MAX_ENTRIES} entries")));
        }
        let mut entry = entry.map_err(Error::tarball)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        let Some(relative) = inside(&entry.path().map_err(Error::tarball)?) else {
            continue;
        };
        let target = into.join(&relative);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(Error::io(&target))?;
            continue;
        }
        total = total.saturating_add(entry.size());
        if total > MAX_TOTAL_BYTES {
            return Err(Error::Tarball(format!(
                "more than {} MiB unpacked",
                MAX_TOTAL_BYTES / 1024 / 1024
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        (&mut entry)
            .take(MAX_TOTAL_BYTES)
            .read_to_end(&mut bytes)
            .map_err(Error::tarball)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(&target, &bytes).map_err(Error::io(&target))?;
        // A file that starts with `#!` is meant to run: archives rebuilt by hand
        // often lose the mode bit that the published tarball had.
        let executable =
            entry.header().mode().is_ok_and(|mode| mode & 0o111 != 0) || bytes.starts_with(b"#!");
        set_mode(&target, if executable { 0o755 } else { 0o644 })?;
        if relative == Path::new("package.json") {
            manifest = Some(bytes);
        }
    }
    manifest.ok_or_else(|| Error::Tarball("no package.json".into()))
}

/// The path below the first component, when it stays inside.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut components = path.components();
    components.next()?;
    let mut relative = PathBuf::new();
    for component in components {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!relative.as_os_str().is_empty()).then_some(relative)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_package_are_kept() {
        assert_eq!(
            inside(Path::new("package/lib/a.js")),
            Some(PathBuf::from("lib/a.js"))
        );
        assert_eq!(inside(Path::new("package/../../etc/passwd")), None);
        assert_eq!(inside(Path::new("package")), None);
    }
}
