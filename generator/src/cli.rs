//! The `mcpgen` command line: a thin front end over the library.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{Error, Options, Plan, WriteAction, WriteOptions};

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
        /// Spec files (or OpenAPI descriptions).
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        #[command(flatten)]
        openapi: OpenApiArgs,
    },
    /// Generate (or update) the server crate for a spec.
    Generate {
        /// The spec file, or an OpenAPI description (Swagger 2.0, OpenAPI
        /// 3.0/3.1; JSON or YAML).
        spec: PathBuf,
        #[command(flatten)]
        openapi: OpenApiArgs,
        /// Directory of the generated crate.
        #[arg(short, long)]
        output: PathBuf,
        /// Depend on mcpgen-runtime by this path (relative to the output
        /// directory). Default: the runtime sources this mcpgen was built
        /// from, when they still exist (the runtime is not on crates.io
        /// yet), else the registry version.
        #[arg(long, conflicts_with = "runtime_version")]
        runtime_path: Option<String>,
        /// Depend on this crates.io version of mcpgen-runtime (e.g. `0.1`)
        /// instead of a path.
        #[arg(long, value_name = "VERSION")]
        runtime_version: Option<String>,
        /// Write nothing; exit 1 and print a unified diff when the crate on
        /// disk is not what generating would make of the spec (for CI).
        #[arg(long)]
        check: bool,
        /// Write even into a directory that holds files mcpgen did not
        /// generate (a foreign Cargo.toml, a non-empty directory). Your
        /// `src/handlers.rs` is still never overwritten.
        #[arg(long, conflicts_with = "check")]
        force: bool,
    },
    /// Write a starter spec, DIR/mcpgen.yaml, that validates and generates
    /// as it is (optionally importing an OpenAPI description).
    Init {
        /// Directory for the spec (created if needed).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Server (and package) name; default: the directory's name.
        #[arg(long)]
        name: Option<String>,
        /// Import this OpenAPI description: its operations become tools.
        #[arg(long, value_name = "FILE")]
        from_openapi: Option<PathBuf>,
        /// Overwrite an existing DIR/mcpgen.yaml.
        #[arg(long)]
        force: bool,
    },
    /// Compare two versions of a spec as MCP clients see them: tools,
    /// resources, templates and prompts added, removed or renamed, schema
    /// changes classified as breaking, behavioural or compatible. Exits 1
    /// when a change is at least as severe as --fail-on (default: breaking).
    Diff {
        /// The old version of the spec.
        old: PathBuf,
        /// The new version of the spec.
        new: PathBuf,
        /// Output for people (`text`) or programs (`json`, see the README).
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Exit 1 when a change is at least this severe.
        #[arg(long, value_enum, default_value_t = FailOn::Breaking)]
        fail_on: FailOn,
        /// How OpenAPI input becomes tools, for both versions.
        #[command(flatten)]
        openapi: OpenApiArgs,
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

/// How OpenAPI input becomes tools (for an OpenAPI description given as
/// the spec, or a spec's `openapi` import, whose own settings win).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "OpenAPI input")]
pub struct OpenApiArgs {
    /// Server (and package) name; default: from the description's title.
    #[arg(long)]
    pub name: Option<String>,
    /// Base URL of the API built into the server (default: its first server).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Prefix of the credential environment variables (default: the server
    /// name in SHOUTY_SNAKE_CASE).
    #[arg(long, value_name = "PREFIX")]
    pub env_prefix: Option<String>,
    /// Expose GET operations whose only required inputs are path parameters
    /// as resources and resource templates.
    #[arg(long)]
    pub get_as_resources: bool,
    /// Inline non-recursive `$ref`s in tool schemas (for clients that cannot
    /// follow references).
    #[arg(long)]
    pub inline_refs: bool,
    /// Follow `$ref`s to other hosts (http/https).
    #[arg(long)]
    pub allow_remote_refs: bool,
    /// Leave out output schemas larger than this many bytes (default 65536;
    /// 0 leaves out every output schema).
    #[arg(long, value_name = "BYTES")]
    pub max_output_schema_bytes: Option<usize>,
    /// Keep descriptions as written (by default HTML becomes text, a
    /// summary repeated by the description is said once and large example
    /// blobs are left out).
    #[arg(long)]
    pub raw_descriptions: bool,
    /// Keep only operations with this tag (glob; repeatable).
    #[arg(long = "include-tag", value_name = "GLOB")]
    pub include_tags: Vec<String>,
    /// Keep only operations with this operationId or `METHOD /path` (glob; repeatable).
    #[arg(long = "include-operation", value_name = "GLOB")]
    pub include_operations: Vec<String>,
    /// Keep only operations under this path (glob: `*` within a segment, `**` across; repeatable).
    #[arg(long = "include-path", value_name = "GLOB")]
    pub include_paths: Vec<String>,
    /// Keep only operations with this HTTP method (repeatable).
    #[arg(long = "include-method", value_name = "METHOD")]
    pub include_methods: Vec<String>,
    /// Drop operations with this tag (glob; repeatable).
    #[arg(long = "exclude-tag", value_name = "GLOB")]
    pub exclude_tags: Vec<String>,
    /// Drop operations with this operationId or `METHOD /path` (glob; repeatable).
    #[arg(long = "exclude-operation", value_name = "GLOB")]
    pub exclude_operations: Vec<String>,
    /// Drop operations under this path (glob; repeatable).
    #[arg(long = "exclude-path", value_name = "GLOB")]
    pub exclude_paths: Vec<String>,
    /// Drop operations with this HTTP method (repeatable).
    #[arg(long = "exclude-method", value_name = "METHOD")]
    pub exclude_methods: Vec<String>,
    /// How tools/list presents the operations: every one (all), by toolset
    /// (toolsets), search/describe/call meta-tools (compact), or the first
    /// that keeps the list within about 25,000 tokens (auto). The server's
    /// --tool-surface flag overrides it at start-up.
    #[arg(long, value_enum, value_name = "SURFACE", default_value = "auto")]
    pub tool_surface: crate::spec::ToolSurface,
}

impl OpenApiArgs {
    pub fn to_options(&self) -> crate::OpenApiOptions {
        crate::OpenApiOptions {
            allow_remote_refs: self.allow_remote_refs,
            inline_refs: self.inline_refs,
            self_contained_schemas: false,
            get_as_resources: self.get_as_resources,
            base_url: self.base_url.clone(),
            name: self.name.clone(),
            env_prefix: self.env_prefix.clone(),
            include: crate::openapi::Filter {
                tags: self.include_tags.clone(),
                operations: self.include_operations.clone(),
                paths: self.include_paths.clone(),
                methods: self.include_methods.clone(),
            },
            exclude: crate::openapi::Filter {
                tags: self.exclude_tags.clone(),
                operations: self.exclude_operations.clone(),
                paths: self.exclude_paths.clone(),
                methods: self.exclude_methods.clone(),
            },
            overrides: Vec::new(),
            max_output_schema_bytes: self.max_output_schema_bytes,
            raw_descriptions: self.raw_descriptions,
            tool_surface: self.tool_surface,
            toolsets: Vec::new(),
        }
    }
}

/// Print warnings (OpenAPI input) to standard error.
fn print_warnings(warnings: &[crate::Warning]) {
    for w in warnings {
        eprintln!("{w}");
    }
    if !warnings.is_empty() {
        let n = warnings.len();
        eprintln!("{n} warning{}", if n == 1 { "" } else { "s" });
    }
}

/// Output format of `mcpgen diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

/// The least severe change that makes `mcpgen diff` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Breaking changes only.
    Breaking,
    /// Breaking and behavioural changes.
    Behavioural,
    /// Any change at all.
    Any,
    /// Never: always exit 0 unless there is an error.
    Never,
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    run(Cli::parse())
}

/// Exit status of a command that could not do its job (unreadable or
/// invalid input, usage errors); 1 means "the check found something".
pub const EXIT_ERROR: u8 = 2;

/// Run a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", render_error(&e));
            ExitCode::from(EXIT_ERROR)
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
        Command::Validate { specs, openapi } => Ok(validate(&specs, &openapi)),
        Command::Generate {
            spec,
            openapi,
            output,
            runtime_path,
            runtime_version,
            check,
            force,
        } => {
            // Without either option: (the default runtime, what to say of it).
            let (runtime_path, note) = match (runtime_path, &runtime_version) {
                (None, None) => default_runtime(),
                (path, _) => (path, None),
            };
            let options = Options {
                spec,
                runtime_path,
                runtime_version,
                openapi: openapi.to_options(),
            };
            generate(&options, &output, check, &WriteOptions { force }, note)
        }
        Command::Init {
            dir,
            name,
            from_openapi,
            force,
        } => init(&crate::init::InitOptions {
            dir,
            name,
            from_openapi,
            force,
        }),
        Command::Diff {
            old,
            new,
            format,
            fail_on,
            openapi,
        } => diff(&old, &new, format, fail_on, &openapi),
        Command::Schema { output, check } => schema(output, check),
    }
}

/// The runtime a crate depends on when no option says: the runtime sources
/// this mcpgen was built from (`<repo>/runtime`, an absolute path) while
/// they exist, so that `cargo install --path generator` then `mcpgen
/// generate` makes a crate that builds although mcpgen-runtime is not on
/// crates.io yet; else the registry version. With the note that says which.
fn default_runtime() -> (Option<String>, Option<String>) {
    match built_from_runtime() {
        Some(path) => {
            let note = format!(
                "note: the crate depends on mcpgen-runtime at {path} (the sources this mcpgen was \
                 built from; the runtime is not on crates.io yet); use --runtime-path DIR for \
                 another copy or --runtime-version VERSION for a registry version"
            );
            (Some(path), Some(note))
        }
        None => {
            let version = crate::RUNTIME_VERSION;
            let note =
                format!("note: the crate depends on mcpgen-runtime {version} from crates.io");
            (None, Some(note))
        }
    }
}

/// `<repo>/runtime` of the build, if it still holds mcpgen-runtime (`None`
/// for a build from a registry package).
fn built_from_runtime() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    if !manifest.contains("name = \"mcpgen-runtime\"") {
        return None;
    }
    Some(dir.canonicalize().ok()?.to_str()?.to_string())
}

/// 0 when nothing failed, 1 when the check found something.
fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn write_stdout(text: &str) -> Result<(), Error> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        })
}

/// What a server offers, upstream (OpenAPI) items included.
struct Counts {
    tools: usize,
    resources: usize,
    templates: usize,
    prompts: usize,
}

impl Counts {
    fn of(s: &crate::ir::Server) -> Counts {
        let up = |f: fn(&crate::ir::Upstream) -> usize| s.upstream.as_ref().map_or(0, f);
        Counts {
            tools: s.tools.len() + up(|u| u.tools.len()),
            resources: s.resources.len() + up(|u| u.resources.len()),
            templates: s.templates.len() + up(|u| u.templates.len()),
            prompts: s.prompts.len(),
        }
    }
}

/// `mcpgen validate`: every spec is checked, even after one fails.
fn validate(specs: &[PathBuf], openapi: &OpenApiArgs) -> ExitCode {
    let mut failed = false;
    for spec in specs {
        match crate::load_ir(&Options::new(spec).openapi(openapi.to_options())) {
            Ok(loaded) => {
                print_warnings(&loaded.warnings);
                let c = Counts::of(&loaded.server);
                println!(
                    "{}: ok ({} tools, {} resources, {} resource templates, {} prompts)",
                    spec.display(),
                    c.tools,
                    c.resources,
                    c.templates,
                    c.prompts
                );
            }
            Err(e) => {
                eprintln!("{}", render_error(&e));
                failed = true;
            }
        }
    }
    exit(failed)
}

/// `mcpgen generate`: write the crate, or with `--check` compare it.
fn generate(
    options: &Options,
    output: &Path,
    check: bool,
    write_options: &WriteOptions,
    runtime_note: Option<String>,
) -> Result<ExitCode, Error> {
    let loaded = crate::load_ir(options)?;
    print_warnings(&loaded.warnings);
    let name_note = derived_name_note(options, &loaded.server);
    let surface_note = loaded.server.upstream.as_ref().map(|u| {
        format!(
            "note: tool surface `{}`: {} (the server's --tool-surface overrides it)",
            u.surface.surface, u.surface.reason
        )
    });
    let generated = crate::generate_ir(loaded)?;
    if check {
        let plan = generated.plan_with(output, write_options)?;
        return Ok(report_check(&plan, options, output, runtime_note.is_some()));
    }
    for (path, action) in generated.write_with(output, write_options)? {
        let what = match action {
            WriteAction::Written => "wrote",
            WriteAction::Unchanged => "unchanged",
            WriteAction::KeptUserFile => "kept (yours)",
            WriteAction::Removed => "removed",
        };
        println!("{what:>12} {}", output.join(path).display());
    }
    for note in name_note.iter().chain(&runtime_note).chain(&surface_note) {
        eprintln!("{note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// An OpenAPI description names no server: say which name was derived and
/// how to choose another (a YAML spec's name is the user's own).
fn derived_name_note(options: &Options, server: &crate::ir::Server) -> Option<String> {
    let text = std::fs::read(&options.spec).unwrap_or_default();
    if options.openapi.name.is_some() || !crate::openapi::sniff(&String::from_utf8_lossy(&text)) {
        return None;
    }
    let from = match &server.title {
        Some(title) => format!("from the title {title:?}"),
        None => String::from("from the file name"),
    };
    Some(format!(
        "note: named the server and package `{}` ({from}); pass --name NAME to choose another",
        server.package
    ))
}

/// `--check`: up to date, or a unified diff and the command that updates.
/// `runtime_defaulted`: the runtime options were not given, so the command
/// leaves them out too.
fn report_check(
    plan: &Plan,
    options: &Options,
    output: &Path,
    runtime_defaulted: bool,
) -> ExitCode {
    let spec = options.spec.display();
    if plan.is_empty() {
        println!("{}: up to date with {spec}", output.display());
        return ExitCode::SUCCESS;
    }
    print!("{}", plan.unified_diff(output));
    let mut command = format!("mcpgen generate {spec} -o {}", output.display());
    let runtime_flag = match (&options.runtime_path, &options.runtime_version) {
        _ if runtime_defaulted => None,
        (Some(path), _) => Some(format!(" --runtime-path {path}")),
        (None, Some(version)) => Some(format!(" --runtime-version {version}")),
        (None, None) => None,
    };
    command.extend(runtime_flag);
    eprintln!("error: {} is out of date with {spec}:", output.display());
    for line in plan.summary(output) {
        eprintln!("  {line}");
    }
    eprintln!("run `{command}` to update it");
    ExitCode::FAILURE
}

/// `mcpgen init`: a starter spec, and what to run next.
fn init(options: &crate::init::InitOptions) -> Result<ExitCode, Error> {
    let spec = crate::init::init(options)?;
    let dir = options.dir.display();
    println!("wrote {}", spec.display());
    println!("next:");
    println!("  mcpgen generate {} -o {dir}", spec.display());
    println!("  cd {dir} && cargo run -- --transport stdio");
    Ok(ExitCode::SUCCESS)
}

/// `mcpgen diff`: the report, and 1 when a change is as severe as `fail_on`.
fn diff(
    old: &Path,
    new: &Path,
    format: DiffFormat,
    fail_on: FailOn,
    openapi: &OpenApiArgs,
) -> Result<ExitCode, Error> {
    let load = |spec: &Path| crate::load_ir(&Options::new(spec).openapi(openapi.to_options()));
    let (old_ir, new_ir) = (load(old)?, load(new)?);
    let report = crate::diff::compare(&old_ir.server, &new_ir.server);
    let (old_name, new_name) = (old.display().to_string(), new.display().to_string());
    let text = match format {
        DiffFormat::Text => report.to_text(&old_name, &new_name),
        DiffFormat::Json => {
            let mut t = serde_json::to_string_pretty(&report.to_json(&old_name, &new_name))
                .unwrap_or_default();
            t.push('\n');
            t
        }
    };
    write_stdout(&text)?;
    Ok(exit(match fail_on {
        FailOn::Breaking => report.has_at_least(crate::diff::Severity::Breaking),
        FailOn::Behavioural => report.has_at_least(crate::diff::Severity::Behavioural),
        FailOn::Any => !report.changes.is_empty(),
        FailOn::Never => false,
    }))
}

/// `mcpgen schema`: print, write or check the spec format's JSON Schema.
fn schema(output: Option<PathBuf>, check: bool) -> Result<ExitCode, Error> {
    let schema = crate::spec::json_schema();
    match (output, check) {
        (None, _) => write_stdout(&schema)?,
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
