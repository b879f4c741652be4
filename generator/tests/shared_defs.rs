//! One definitions table per document (`ir::defs`): a server built from the
//! shared table lists exactly the tools, byte for byte, that it lists from
//! per-tool `$defs` (the front end's `self_contained_schemas`), for the
//! repository's OpenAPI descriptions and, when the shared corpus is on this
//! machine, a few of its documents (Figma, Kubernetes, Twilio).

mod common;

use std::path::{Path, PathBuf};

use common::{corpus, openapi_documents, repo};
use mcpgen::{OpenApiOptions, Options};
use mcpgen_runtime::{Server, ServerBuilder, testing::TestClient};

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

/// The server of `ir`, its tools either as the front end made them or
/// through the shared table, as the generated crate registers them.
fn server(ir: &mcpgen::ir::Server, shared: bool) -> Server {
    let up = ir.upstream.as_ref().unwrap();
    let mut b: ServerBuilder = Server::builder(&json(&ir.info_json)).upstream(&json(&up.config));
    if shared {
        let s = up.shared();
        b = b.upstream_defs(&json(&s.table));
        for (t, d) in up.tools.iter().zip(&s.tools) {
            b = b.upstream_tool(&json(d), &json(&t.operation));
        }
    } else {
        for t in &up.tools {
            b = b.upstream_tool(&json(&t.descriptor), &json(&t.operation));
        }
    }
    b.build().unwrap_or_else(|e| panic!("{e}"))
}

/// The server of a generated crate whose upstream descriptors are data
/// files (`src/upstream/*.jsonl`, `tools.index`), read as its `server()`
/// reads them (listing a tool checks that its descriptor bears the name the
/// index gives); None when the crate has its descriptors in `generated.rs`.
fn data_file_server(ir: &mcpgen::ir::Server, generated: &mcpgen::GeneratedCrate) -> Option<Server> {
    // The crate's files are static text; a test leaks its copy.
    let file = |path: &str| -> Option<&'static str> {
        let f = generated.files.iter().find(|f| f.path == Path::new(path))?;
        Some(Box::leak(f.contents.clone().into_boxed_str()))
    };
    let defs = file("src/upstream/defs.jsonl")?.lines().nth(1)?;
    let up = ir.upstream.as_ref().unwrap();
    let b = Server::builder(&json(&ir.info_json))
        .upstream(&json(&up.config))
        .upstream_defs(defs)
        .upstream_tools_data(
            file("src/upstream/tools.index")?,
            file("src/upstream/tools.jsonl")?,
        );
    Some(b.build().unwrap_or_else(|e| panic!("{e}")))
}

fn tools_list(server: Server) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = TestClient::connect(server).await.unwrap();
        json(&client.list_all("tools/list", "tools").await.unwrap())
    })
}

/// Descriptor bytes of the tools without (`whole`, each schema with its
/// own `$defs`) and with the shared table.
fn sizes(whole: &mcpgen::ir::Server, ir: &mcpgen::ir::Server) -> (usize, usize) {
    let up = whole.upstream.as_ref().unwrap();
    let whole: usize = up.tools.iter().map(|t| json(&t.descriptor).len()).sum();
    let s = ir.upstream.as_ref().unwrap().shared();
    let shared = json(&s.table).len() + s.tools.iter().map(|d| json(d).len()).sum::<usize>();
    (whole, shared)
}

fn documents() -> Vec<PathBuf> {
    let mut docs = openapi_documents(&repo().join("specs/openapi"));
    docs.push(repo().join("specs/openapi/petstore-multifile/spec/openapi.yaml"));
    docs.sort();
    let corpus = corpus();
    match corpus {
        Some(dir) => {
            for f in [
                "A12_figma_oas31.yaml",
                "A13_kubernetes_swagger20.yaml",
                "A15_twilio_api_oas301.json",
            ] {
                docs.push(dir.join(f));
            }
        }
        None => {
            eprintln!("note: no shared OpenAPI corpus; checking the repository's descriptions only")
        }
    }
    docs
}

#[test]
fn shared_definitions_give_clients_the_same_tools_list() {
    let mut shrunk = 0;
    let mut data_files = 0;
    for path in documents() {
        let ir = mcpgen::load_ir(&Options::new(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if ir.server.upstream.is_none() {
            continue;
        }
        let self_contained = OpenApiOptions {
            self_contained_schemas: true,
            ..OpenApiOptions::default()
        };
        let whole = mcpgen::load_ir(&Options::new(&path).openapi(self_contained))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            whole.server.upstream.as_ref().unwrap().defs.is_empty(),
            "{}: self-contained schemas need no table",
            path.display()
        );
        // The table is the one moving every tool's own `$defs` into one
        // gives, in the same order: generated crates do not change.
        assert_eq!(
            json(&whole.server.upstream.as_ref().unwrap().shared().table),
            json(&ir.server.upstream.as_ref().unwrap().shared().table),
            "{}: another table",
            path.display()
        );
        let before = tools_list(server(&whole.server, false));
        let after = tools_list(server(&ir.server, true));
        assert!(
            before == after,
            "{}: tools/list differs with the shared table",
            path.display()
        );
        let generated =
            mcpgen::generate_ir(ir.clone()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(server) = data_file_server(&ir.server, &generated) {
            assert!(
                tools_list(server) == before,
                "{}: tools/list differs with the data files",
                path.display()
            );
            data_files += 1;
        }
        let (whole, shared) = sizes(&whole.server, &ir.server);
        // An empty table (`{}`) is all a document without definitions adds.
        assert!(
            shared <= whole + 2,
            "{}: {shared} > {whole} bytes",
            path.display()
        );
        shrunk += usize::from(shared < whole);
        eprintln!("{}: descriptors {whole} -> {shared} bytes", path.display());
    }
    // The repository's descriptions with shared schemas (petstore, circular…).
    assert!(shrunk >= 3, "only {shrunk} documents got smaller");
    // Kubernetes' descriptors are larger than `generated.rs` takes.
    if corpus().is_some() {
        assert!(data_files >= 1, "no crate with upstream data files");
    }
}

#[test]
fn a_missing_shared_definition_stops_the_server() {
    let path = repo().join("specs/openapi/petstore-oas30.json");
    let ir = mcpgen::load_ir(&Options::new(&path)).unwrap().server;
    let up = ir.upstream.as_ref().unwrap();
    let mut s = up.shared();
    let name = s
        .table
        .keys()
        .next()
        .cloned()
        .expect("petstore shares definitions");
    s.table.shift_remove(&name);
    // References are checked when a tool is assembled: all of them in
    // `build()` with `check_schemas` (a dangling one is refused there).
    let mut b = Server::builder(&json(&ir.info_json))
        .check_schemas(true)
        .upstream(&json(&up.config))
        .upstream_defs(&json(&s.table));
    for (t, d) in up.tools.iter().zip(&s.tools) {
        b = b.upstream_tool(&json(d), &json(&t.operation));
    }
    let err = b.build().err().expect("a dangling reference is refused");
    let want = format!("no shared definition {name:?}");
    assert!(err.to_string().contains(&want), "{err}");
}
