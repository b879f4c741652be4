//! Every document of the shared OpenAPI corpus (`../shared/corpus/openapi`
//! next to the workspace) must generate a crate, with one tool per
//! operation, whose descriptors a runtime `Server` accepts. Skipped, with a
//! note, when the corpus is absent. Compiling the generated crates is
//! `scripts/openapi-corpus.sh`.

mod common;

use std::collections::HashSet;
use std::path::Path;

use mcpgen::Options;
use serde_json::Value;

/// `file` → number of operations, from SOURCES.tsv.
fn sources(dir: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(dir.join("SOURCES.tsv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((cols.first()?.to_string(), cols.get(3)?.parse().ok()?))
        })
        .collect()
}

/// Documents expected to stop with a diagnostic (none so far), with a
/// fragment of the expected message.
const EXPECTED_DIAGNOSTICS: &[(&str, &str)] = &[];

#[test]
fn every_corpus_document_generates() {
    let Some(dir) = common::corpus() else {
        eprintln!("note: no OpenAPI corpus next to the workspace; skipping the corpus test");
        return;
    };
    let docs = sources(&dir);
    assert!(!docs.is_empty(), "SOURCES.tsv lists no documents");
    for (file, n_ops) in docs {
        let path = dir.join(&file);
        let options = Options::new(&path).runtime_path("../../../runtime");
        let expected = EXPECTED_DIAGNOSTICS.iter().find(|(f, _)| *f == file);
        let loaded = match (mcpgen::load_ir(&options), expected) {
            (Ok(l), None) => l,
            (Err(e), Some((_, fragment))) => {
                let text = e.to_string();
                assert!(text.contains(fragment), "{file}: {text}");
                continue;
            }
            (Ok(_), Some(_)) => panic!("{file}: expected a diagnostic"),
            (Err(e), None) => panic!("{file}:\n{e}"),
        };
        let up = loaded
            .server
            .upstream
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: no upstream"));
        assert_eq!(up.tools.len(), n_ops, "{file}: one tool per operation");
        let mut names = HashSet::new();
        for t in &up.tools {
            let d = Value::Object(t.descriptor.clone());
            let name = d["name"].as_str().unwrap();
            assert!(
                !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{file}: bad tool name {name:?}"
            );
            assert!(names.insert(name.to_string()), "{file}: duplicate {name}");
            assert_eq!(d["inputSchema"]["type"], "object", "{file}: {name}");
            assert!(t.operation.path.starts_with('/'), "{file}: {name}");
        }
        // The server the generated crate would build must start.
        common::start_upstream(&loaded.server).unwrap_or_else(|e| panic!("{file}: {e}"));
        let krate = mcpgen::generate_ir(loaded).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(krate.file("src/generated.rs").is_some());
    }
}
