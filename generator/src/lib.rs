//! mcpgen: generate a complete Rust MCP server crate from a YAML spec.
//!
//! The pipeline is spec → IR → files:
//!
//! * [`spec`]: the YAML format (serde + schemars types), positioned parsing
//!   ([`spec::locate`]) and semantic checks ([`spec::validate`]); every
//!   problem is reported with its line and column;
//! * [`ir`]: identifiers, Rust types and MCP descriptor JSON, computed once;
//! * [`emit`]: minijinja templates → `syn` → `prettyplease`;
//! * [`files`]: the crate in memory and the `write` step.
//!
//! ```no_run
//! let crate_ = mcpgen::generate(&mcpgen::Options::new("specs/example.yaml").runtime_path("../../runtime"))?;
//! crate_.write(std::path::Path::new("examples/notes"))?;
//! # Ok::<(), mcpgen::Error>(())
//! ```

pub mod cli;
pub mod emit;
pub mod error;
pub mod files;
pub mod ir;
pub mod spec;

use std::path::{Path, PathBuf};

pub use error::{Diagnostic, Diagnostics, Error, Problem};
pub use files::{GeneratedCrate, GeneratedFile, WriteAction};
pub use ir::RuntimeDep;
pub use spec::{LoadedSpec, Spec};

/// The version requirement generated crates use for `mcpgen-runtime` when
/// no path is given.
pub const RUNTIME_VERSION: &str = "0.1";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The spec file.
    pub spec: PathBuf,
    /// Depend on the runtime by this path (relative to the generated crate's
    /// directory, written as given) instead of by version.
    pub runtime_path: Option<String>,
}

impl Options {
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Options {
            spec: spec.into(),
            runtime_path: None,
        }
    }

    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = Some(path.into());
        self
    }

    fn runtime(&self) -> RuntimeDep {
        match &self.runtime_path {
            Some(path) => RuntimeDep::Path { path: path.clone() },
            None => RuntimeDep::Version {
                version: RUNTIME_VERSION.to_string(),
            },
        }
    }
}

/// Load and validate a spec; every problem is in the error.
pub fn validate(spec: &Path) -> Result<LoadedSpec, Error> {
    spec::load(spec)
}

/// Generate the crate described by `options.spec`, in memory.
pub fn generate(options: &Options) -> Result<GeneratedCrate, Error> {
    let loaded = spec::load(&options.spec)?;
    generate_loaded(&loaded, options.runtime())
}

/// Generate from an already loaded spec.
pub fn generate_loaded(loaded: &LoadedSpec, runtime: RuntimeDep) -> Result<GeneratedCrate, Error> {
    let server = ir::build(loaded, runtime);
    let files = emit::emit(&server)?;
    Ok(GeneratedCrate {
        package: server.package,
        files,
    })
}
