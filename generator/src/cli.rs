//! The `mcpgen` command line: a thin front end over the library.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{Error, Options, WriteAction};

#[derive(Debug, Parser)]
#[command(
    name = "mcpgen",
    version,
    about = "Generate a Rust MCP server crate from a YAML spec"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs and report every problem with file, line and column.
    Validate {
        /// Spec files.
        #[arg(required = true)]
        specs: Vec<PathBuf>,
    },
    /// Generate (or update) the server crate for a spec.
    Generate {
        /// The spec file.
        spec: PathBuf,
        /// Directory of the generated crate.
        #[arg(short, long)]
        output: PathBuf,
        /// Depend on mcpgen-runtime by this path (relative to the output
        /// directory) instead of by version.
        #[arg(long)]
        runtime_path: Option<String>,
        /// Write nothing; fail if the generated files on disk are out of date.
        #[arg(long)]
        check: bool,
    },
    /// Print the JSON Schema of the spec format.
    Schema {
        /// Write it to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write nothing; fail if the file differs from the current schema.
        #[arg(long, requires = "output")]
        check: bool,
    },
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    run(Cli::parse())
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", render_error(&e));
            ExitCode::FAILURE
        }
    }
}

/// How an error is shown: spec diagnostics as `file:line:col: error: ...`
/// lines plus a count, anything else as `error: ...`.
pub fn render_error(e: &Error) -> String {
    match e.diagnostics() {
        Some(d) => {
            let n = d.0.len();
            format!("{d}\n{n} error{} found", if n == 1 { "" } else { "s" })
        }
        None => format!("error: {e}"),
    }
}

fn execute(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Validate { specs } => {
            let mut failed = false;
            for spec in specs {
                match crate::validate(&spec) {
                    Ok(loaded) => {
                        let s = &loaded.spec;
                        println!(
                            "{}: ok ({} tools, {} resources, {} resource templates, {} prompts)",
                            spec.display(),
                            s.tools.len(),
                            s.resources.len(),
                            s.resource_templates.len(),
                            s.prompts.len()
                        );
                    }
                    Err(e) => {
                        eprintln!("{}", render_error(&e));
                        failed = true;
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Generate {
            spec,
            output,
            runtime_path,
            check,
        } => {
            let options = Options { spec, runtime_path };
            let generated = crate::generate(&options)?;
            if check {
                let stale = generated.stale_files(&output)?;
                if stale.is_empty() {
                    println!("{}: up to date", output.display());
                    return Ok(ExitCode::SUCCESS);
                }
                for path in stale {
                    eprintln!("{}: out of date", output.join(path).display());
                }
                return Ok(ExitCode::FAILURE);
            }
            for (path, action) in generated.write(&output)? {
                let what = match action {
                    WriteAction::Written => "wrote",
                    WriteAction::Unchanged => "unchanged",
                    WriteAction::KeptUserFile => "kept (yours)",
                };
                println!("{what:>12} {}", output.join(path).display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { output, check } => {
            let schema = crate::spec::json_schema();
            match (output, check) {
                (None, _) => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(schema.as_bytes())
                        .map_err(|source| Error::Write {
                            path: PathBuf::from("<stdout>"),
                            source,
                        })?;
                }
                (Some(path), true) => {
                    if std::fs::read_to_string(&path).ok().as_deref() != Some(schema.as_str()) {
                        eprintln!(
                            "{} is out of date; run `mcpgen schema -o {}`",
                            path.display(),
                            path.display()
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                    println!("{}: up to date", path.display());
                }
                (Some(path), false) => {
                    std::fs::write(&path, &schema).map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
