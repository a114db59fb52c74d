//! The admin token a first start creates in the data directory, so that operator
//! commands on the same machine work without configuring one.
//!
//! The file holds one line: 64 hexadecimal digits from the operating system's
//! random source. It is created with mode 0600, so only the account that runs
//! Airlock (and root) can read it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// The token file's name inside the data directory.
pub(crate) const FILE_NAME: &str = "admin-token";

/// The token file of `data_dir`.
pub(crate) fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// The token stored in `data_dir`, created (mode 0600) when there is none yet.
pub(crate) fn load_or_create(data_dir: &Path) -> anyhow::Result<String> {
    if let Some(token) = read(data_dir)? {
        return Ok(token);
    }
    std::fs::create_dir_all(data_dir).with_context(|| {
        format!(
            "could not create the data directory `{}`",
            data_dir.display()
        )
    })?;
    let token = fresh_token()?;
    let file = path(data_dir);
    match create_private(&file) {
        Ok(mut handle) => {
            handle
                .write_all(format!("{token}\n").as_bytes())
                .and_then(|()| handle.sync_all())
                .with_context(|| format!("could not write the admin token `{}`", file.display()))?;
            Ok(token)
        }
        // Another process created it between the read and the create: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read(data_dir)?
            .with_context(|| format!("the admin token `{}` vanished", file.display())),
        Err(error) => Err(error)
            .with_context(|| format!("could not create the admin token `{}`", file.display())),
    }
}

/// The token stored in `data_dir`, if a server created one there.
pub(crate) fn read(data_dir: &Path) -> anyhow::Result<Option<String>> {
    let file = path(data_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error)
                .with_context(|| format!("could not read the admin token `{}`", file.display()));
        }
    };
    let token = text.trim();
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        bail!(
            "the admin token file `{}` does not hold one token\nhint: delete it and restart `airlock serve` to make a new one, or configure `admin.token`",
            file.display()
        );
    }
    Ok(Some(token.to_owned()))
}

fn fresh_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())
        .context("the operating system gave no random bytes for the admin token")?;
    Ok(hex::encode(bytes))
}

#[cfg(unix)]
fn create_private(file: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
}

#[cfg(not(unix))]
fn create_private(file: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_call_creates_a_private_token_and_later_ones_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert_eq!(read(&data).unwrap(), None);
        let token = load_or_create(&data).unwrap();
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(load_or_create(&data).unwrap(), token);
        assert_eq!(read(&data).unwrap(), Some(token.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path(&data)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create(other.path()).unwrap(), token);
    }

    #[test]
    fn a_damaged_token_file_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "\n").unwrap();
        let error = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(error.contains("does not hold one token"), "{error}");
        assert!(error.contains("delete it"), "{error}");
    }
}
