//! Generates `$OUT_DIR/mcpgen.rs` from `specs/greeter.yaml`. Cargo reruns
//! this (and so regenerates) whenever the spec or a file it bundles changes.

fn main() {
    if let Err(e) = mcpgen::build::Builder::new("specs/greeter.yaml").generate() {
        // Spec problems come out as `file:line:col: error: ...` lines.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
