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

/// The lower-case words (runs of letters and digits) of `text`.
fn words(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Tool descriptions and the descriptions of their arguments, by tool
/// name and argument.
fn descriptions(loaded: &mcpgen::LoadedIr) -> Vec<(String, String)> {
    let up = loaded.server.upstream.as_ref().expect("upstream");
    let mut out = Vec::new();
    for t in &up.tools {
        let d = Value::Object(t.descriptor.clone());
        let name = d["name"].as_str().unwrap_or_default().to_string();
        if let Some(text) = d["description"].as_str() {
            out.push((name.clone(), text.to_string()));
        }
        if let Some(props) = d["inputSchema"]["properties"].as_object() {
            for (arg, schema) in props {
                if let Some(text) = schema["description"].as_str() {
                    out.push((format!("{name}.{arg}"), text.to_string()));
                }
            }
        }
    }
    out
}

/// The description clean-up (on by default) loses nothing a model can use:
/// on every corpus document, each tool and argument description keeps
/// every word and every URL of the raw one (`--raw-descriptions`); only
/// repetitions, markup and whitespace go. Prints what it saves.
#[test]
fn cleaned_descriptions_keep_every_word_and_url() {
    let Some(dir) = common::corpus() else {
        eprintln!("note: no OpenAPI corpus next to the workspace; skipping");
        return;
    };
    for path in common::openapi_documents(&dir) {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let load = |raw: bool| {
            let opts = mcpgen::OpenApiOptions {
                raw_descriptions: raw,
                ..Default::default()
            };
            mcpgen::load_ir(&Options::new(&path).openapi(opts))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
        };
        let (raw, clean) = (descriptions(&load(true)), descriptions(&load(false)));
        let mut changed = 0;
        let (mut raw_bytes, mut clean_bytes) = (0, 0);
        let clean_by_key: std::collections::HashMap<&str, &str> = clean
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (key, r) in &raw {
            raw_bytes += r.len();
            let Some(c) = clean_by_key.get(key.as_str()) else {
                assert!(
                    r.trim().is_empty(),
                    "{file}: {key} lost its description {r:?}"
                );
                continue;
            };
            clean_bytes += c.len();
            changed += usize::from(r != c);
            assert_eq!(
                words(r),
                words(c),
                "{file}: {key}\nraw: {r:?}\nclean: {c:?}"
            );
            for url in r.split_whitespace().filter(|w| w.contains("://")) {
                let url = url.trim_matches(|c: char| "()[]<>.,;'\"".contains(c));
                assert!(c.contains(url), "{file}: {key} lost {url}\nclean: {c:?}");
            }
            assert!(
                c.len() <= r.len(),
                "{file}: {key} grew\nraw: {r:?}\nclean: {c:?}"
            );
        }
        eprintln!(
            "{file}: {} descriptions, {changed} changed; {raw_bytes} → {clean_bytes} bytes",
            raw.len()
        );
    }
}
