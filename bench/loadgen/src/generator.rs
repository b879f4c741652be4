//! Generator figures: `mcpgen generate` wall time and peak memory on the
//! largest documents of the shared OpenAPI corpus, and (opt-in, slow) the
//! cold build time of a generated crate next to a 1-tool crate.

use crate::Error;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A corpus document: its name, entry file and operation count.
#[derive(Debug, Clone)]
pub struct CorpusDoc {
    pub name: String,
    pub entry: PathBuf,
    pub operations: usize,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The corpus documents (files `A*`, or directories `A*` with
/// `spec/openapi.yaml`, as scripts/openapi-corpus.sh reads them), largest
/// operation count first.
pub fn corpus_docs(dir: &Path) -> Result<Vec<CorpusDoc>, Error> {
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.starts_with('A') {
            continue;
        }
        let entry = if path.is_dir() {
            path.join("spec/openapi.yaml")
        } else {
            path
        };
        if !entry.is_file() {
            continue;
        }
        let operations = count_operations(&entry)?;
        docs.push(CorpusDoc {
            name,
            entry,
            operations,
        });
    }
    docs.sort_by(|a, b| b.operations.cmp(&a.operations).then(a.name.cmp(&b.name)));
    Ok(docs)
}

/// Operations = method keys of the `paths` items (JSON is YAML too).
fn count_operations(file: &Path) -> Result<usize, Error> {
    let text = std::fs::read_to_string(file)?;
    let doc: Value =
        serde_yaml::from_str(&text).map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
    let Some(paths) = doc.get("paths").and_then(Value::as_mapping) else {
        return Ok(0);
    };
    Ok(paths
        .values()
        .filter_map(Value::as_mapping)
        .map(|item| {
            item.keys()
                .filter(|k| k.as_str().is_some_and(|k| METHODS.contains(&k)))
                .count()
        })
        .sum())
}

/// Wall time and peak RSS (KiB; None without /usr/bin/time) of one command.
pub struct Measured {
    pub wall: Duration,
    pub peak_kib: Option<u64>,
}

/// Run `cmd` (quietly) under `/usr/bin/time` when there is one; fail when it fails.
pub fn measure(cmd: &mut Command, scratch: &Path) -> Result<Measured, Error> {
    let time_bin = Path::new("/usr/bin/time");
    let report = scratch.join("time.out");
    let mut full = if time_bin.is_file() {
        let mut c = Command::new(time_bin);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            c.current_dir(dir);
        }
        c
    } else {
        std::mem::replace(cmd, Command::new("true"))
    };
    let t0 = Instant::now();
    let out = full
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    let wall = t0.elapsed();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        return Err(Error::new(format!(
            "{:?} failed: {}\n{tail}",
            full.get_program(),
            out.status
        )));
    }
    let peak_kib = std::fs::read_to_string(&report)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    Ok(Measured { wall, peak_kib })
}
