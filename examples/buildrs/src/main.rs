fn main() -> std::process::ExitCode {
    mcpgen_runtime::cli::run(buildrs_example::server)
}
