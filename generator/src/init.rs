//! `mcpgen init`: a starter spec that validates and generates as it is.

use std::path::{Component, Path, PathBuf};

use crate::error::Error;
use crate::names;

/// The spec file `init` writes into its directory.
pub(crate) const SPEC_FILE: &str = "mcpgen.yaml";

/// What to start from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InitOptions {
    /// Directory for the spec (created if needed).
    pub dir: PathBuf,
    /// Server (and package) name; default: the directory's name.
    pub name: Option<String>,
    /// Import this OpenAPI description (its operations become tools).
    pub from_openapi: Option<PathBuf>,
    /// Overwrite an existing spec file.
    pub force: bool,
}

/// Write `<dir>/mcpgen.yaml` and check that it validates; returns its path.
pub(crate) fn init(options: &InitOptions) -> Result<PathBuf, Error> {
    let path = options.dir.join(SPEC_FILE);
    if path.exists() && !options.force {
        return Err(Error::Exists(path));
    }
    let name = match &options.name {
        Some(n) => n.clone(),
        None => default_name(&options.dir),
    };
    if let Err(reason) = names::package_name(&name) {
        return Err(Error::Init(format!(
            "cannot use {name:?} as the server name: {reason}; pass --name"
        )));
    }
    let text = match &options.from_openapi {
        None => starter(&name),
        Some(description) => openapi_starter(&name, &relative_to(&options.dir, description)?),
    };
    std::fs::create_dir_all(&options.dir).map_err(|source| Error::Write {
        path: options.dir.clone(),
        source,
    })?;
    // Write next to the final file (relative references resolve the same),
    // validate, and only then replace: an existing spec (with --force)
    // survives a starter that does not validate.
    let temp = options
        .dir
        .join(format!(".{SPEC_FILE}.{}.tmp", std::process::id()));
    std::fs::write(&temp, text).map_err(|source| Error::Write {
        path: temp.clone(),
        source,
    })?;
    // A starter that does not validate is a bug: leave nothing behind.
    if let Err(e) = crate::load_ir(&crate::Options::new(&temp)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    if let Err(source) = std::fs::rename(&temp, &path) {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::Write {
            path: path.clone(),
            source,
        });
    }
    Ok(path)
}

/// The directory's name as a server name (`my_dir` → `my-dir`), or `my-server`.
fn default_name(dir: &Path) -> String {
    let absolute = dir
        .canonicalize()
        .ok()
        .or_else(|| std::env::current_dir().ok().map(|c| c.join(dir)));
    absolute
        .as_deref()
        .and_then(|d| {
            d.components().rev().find_map(|c| match c {
                Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
        })
        .and_then(|n| names::package_name(&n).ok())
        .unwrap_or_else(|| String::from("my-server"))
}

/// `target` as a path relative to `dir` (both made absolute), with `/`.
fn relative_to(dir: &Path, target: &Path) -> Result<String, Error> {
    let absolute = |p: &Path| -> Result<PathBuf, Error> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|source| Error::Read {
                    path: PathBuf::from("."),
                    source,
                })?
                .join(p)
        };
        Ok(normalize(&p))
    };
    std::fs::metadata(target).map_err(|source| Error::Read {
        path: target.to_path_buf(),
        source,
    })?;
    let (dir, target) = (absolute(dir)?, absolute(target)?);
    let d: Vec<Component> = dir.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = d.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec![String::from(".."); d.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Ok(parts.join("/"))
}

/// Resolve `.` and `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// A YAML double-quoted string (JSON's syntax is valid YAML).
fn yaml_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn openapi_starter(name: &str, description: &str) -> String {
    format!(
        r#"# An MCP server spec for mcpgen (https://github.com/mcpgen/mcpgen).
#
#   mcpgen validate mcpgen.yaml
#   mcpgen generate mcpgen.yaml -o .      # or -o some/other/dir
#
# Every operation of the OpenAPI description below becomes a tool that calls
# the API (no code to write). Narrow it down with `include`/`exclude`, and add
# tools, resources and prompts of your own next to it: see the README of
# mcpgen for the format.

server:
  name: {name}
  version: 0.1.0

openapi:
  path: {description}
"#,
        name = yaml_string(name),
        description = yaml_string(description),
    )
}

fn starter(name: &str) -> String {
    format!(
        r#"# An MCP server spec for mcpgen (https://github.com/mcpgen/mcpgen).
#
#   mcpgen validate mcpgen.yaml
#   mcpgen generate mcpgen.yaml -o .      # or -o some/other/dir
#
# Then implement the `Handlers` trait in src/handlers.rs (yours: mcpgen never
# overwrites it) and `cargo run -- --transport stdio`. When you change this
# file, run `mcpgen diff` against the old version to see what your clients
# will notice, and `mcpgen generate` again: the compiler tells you which
# handler methods to add or remove.

server:
  name: {name}
  version: 0.1.0
  title: My MCP server
  description: What this server does, for people.
  instructions: Tell the model when to use the tools of this server.

tools:
  - name: greet
    title: Greet someone
    description: Return a greeting for a person.
    params:
      name: string                                     # required
      excited: {{type: boolean, default: false, description: End with an exclamation mark.}}
    outputSchema:
      type: object
      properties:
        greeting: {{type: string}}
      required: [greeting]
    annotations: {{readOnlyHint: true, openWorldHint: false}}

resources:
  - uri: info://about
    name: about
    mimeType: text/plain
    text: A server generated by mcpgen.

resourceTemplates:
  - uriTemplate: info://people/{{person}}
    name: person
    description: What the server knows about a person.
    mimeType: application/json

prompts:
  - name: welcome
    description: Welcome a new user.
    arguments:
      - {{name: user, required: true}}
    messages:
      - {{role: user, text: "Write a short welcome message for {{{{user}}}}."}}
"#,
        name = yaml_string(name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let d = std::env::temp_dir();
        let f = d.join("x.json");
        std::fs::write(&f, "{}").unwrap();
        assert_eq!(relative_to(&d.join("a/b"), &f).unwrap(), "../../x.json");
        assert_eq!(relative_to(&d, &f).unwrap(), "x.json");
        assert!(relative_to(&d, &d.join("missing-mcpgen-init.json")).is_err());
    }

    #[test]
    fn names_from_directories() {
        assert_eq!(default_name(Path::new("/tmp/My_Weather")), "my-weather");
        assert_eq!(default_name(Path::new("/")), "my-server");
    }
}
