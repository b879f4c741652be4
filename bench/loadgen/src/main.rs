//! mcpbench: the closed-loop MCP load generator and the benchmark suite's
//! driver. `scripts/bench.sh` builds everything and runs `mcpbench suite`;
//! see docs/benchmarks.md for what is measured and how.
//!
//! ```text
//! mcpbench suite [--root DIR] [--target-dir DIR] [--profile release|debug] [--smoke]
//!                [--rounds N] [--calls N] [--seconds S] [--warmup N] [--workers N]
//!                [--sessions N] [--idle-sessions N] [--proxy-calls N]
//!                [--server-core N] [--client-core N] [--corpus DIR] [--cold-build]
//! mcpbench load --addr HOST:PORT [--path /mcp] [--workers N] [--sessions N] [--calls N]
//!               [--seconds S] [--tool NAME] [--arguments JSON] [--expect TEXT]
//!               [--version REV] [--bare]
//! mcpbench corpus-largest DIR      # prints the entry file of the largest document
//! ```

mod generator;
mod http;
mod load;
mod mcp;
mod process;
mod proxy;
mod report;
mod run;
mod suite;

use std::collections::HashMap;
use std::fmt;
use std::process::ExitCode;

/// Every failure of the suite: a message saying what and where.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error(format!("I/O: {e}"))
    }
}

impl From<hyper::Error> for Error {
    fn from(e: hyper::Error) -> Error {
        Error(format!("HTTP: {e}"))
    }
}

/// `--key value` options and `--flag`s of one subcommand.
pub struct Opts {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

/// Options that take no value.
const FLAGS: [&str; 3] = ["--smoke", "--cold-build", "--bare"];

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, Error> {
        let mut opts = Opts {
            values: HashMap::new(),
            flags: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(key) = it.next() {
            if FLAGS.contains(&key.as_str()) {
                opts.flags.push(key.clone());
            } else if key.starts_with("--") {
                let value = it
                    .next()
                    .ok_or_else(|| Error::new(format!("{key} needs a value")))?;
                opts.values.insert(key.clone(), value.clone());
            } else {
                return Err(Error::new(format!("unexpected argument {key:?}")));
            }
        }
        Ok(opts)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A number option, `default` when absent, an error when not a number.
    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, Error> {
        match self.values.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::new(format!("{key} {v}: not a number"))),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("suite") => Opts::parse(&args[1..]).and_then(|o| block_on(run::suite(o))),
        Some("load") => Opts::parse(&args[1..]).and_then(|o| block_on(run::load(o))),
        Some("corpus-largest") if args.len() == 2 => {
            generator::corpus_docs(std::path::Path::new(&args[1])).and_then(|docs| {
                match docs.first() {
                    Some(d) => {
                        println!("{}", d.entry.display());
                        Ok(())
                    }
                    None => Err(Error::new("no corpus documents")),
                }
            })
        }
        _ => Err(Error::new(
            "usage: mcpbench suite|load|corpus-largest … (see the module docs)",
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcpbench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The load generator is one thread (scripts/bench.sh pins it to its own
/// core): a current-thread runtime, no cross-thread wake-ups.
fn block_on<F: std::future::Future<Output = Result<(), Error>>>(f: F) -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
