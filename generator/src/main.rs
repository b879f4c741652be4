//! The `mcpgen` command: everything is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    mcpgen::cli::main()
}
