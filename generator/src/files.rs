//! The generated crate in memory, and writing it to disk.

use std::path::{Component, Path, PathBuf};

use crate::error::Error;

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the crate directory, with `/` separators.
    pub path: PathBuf,
    pub contents: String,
    /// User-owned files (`src/handlers.rs`) are created once, never overwritten.
    pub user_owned: bool,
}

/// Every file of a generated crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCrate {
    /// The Cargo package name.
    pub package: String,
    pub files: Vec<GeneratedFile>,
}

/// What [`GeneratedCrate::write`] did to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAction {
    /// Written (new or changed).
    Written,
    /// Already up to date; left alone (its modification time too).
    Unchanged,
    /// A user-owned file that already exists; left alone.
    KeptUserFile,
}

impl GeneratedCrate {
    /// The file at `path` (relative, e.g. `src/generated.rs`).
    pub fn file(&self, path: &str) -> Option<&GeneratedFile> {
        self.files.iter().find(|f| f.path == Path::new(path))
    }

    /// Write the crate into `dir` (created if needed). Generated files are
    /// rewritten only when their contents changed; user-owned files only
    /// when they do not exist yet.
    pub fn write(&self, dir: &Path) -> Result<Vec<(PathBuf, WriteAction)>, Error> {
        let mut actions = Vec::new();
        for file in &self.files {
            let target = safe_join(dir, &file.path)?;
            let action = match std::fs::read(&target) {
                Ok(_) if file.user_owned => WriteAction::KeptUserFile,
                Ok(existing) if existing == file.contents.as_bytes() => WriteAction::Unchanged,
                _ => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                            path: parent.to_path_buf(),
                            source,
                        })?;
                    }
                    std::fs::write(&target, &file.contents).map_err(|source| Error::Write {
                        path: target.clone(),
                        source,
                    })?;
                    WriteAction::Written
                }
            };
            actions.push((file.path.clone(), action));
        }
        Ok(actions)
    }

    /// Generated (not user-owned) files whose contents on disk differ from
    /// this crate's: what `write` would change.
    pub fn stale_files(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut stale = Vec::new();
        for file in self.files.iter().filter(|f| !f.user_owned) {
            let target = safe_join(dir, &file.path)?;
            if std::fs::read(&target).ok().as_deref() != Some(file.contents.as_bytes()) {
                stale.push(file.path.clone());
            }
        }
        Ok(stale)
    }
}

fn safe_join(dir: &Path, relative: &Path) -> Result<PathBuf, Error> {
    let ok = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !ok || relative.as_os_str().is_empty() {
        return Err(Error::UnsafePath(relative.to_path_buf()));
    }
    Ok(dir.join(relative))
}
