//! Server processes of the suite: started pinned to a core (`taskset`, when
//! there is one), measured from `/proc`, and always killed, also when the
//! suite fails half-way (`Drop`).

use crate::Error;
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

/// How to start a server: the program and its arguments, where `{addr}` is
/// replaced by the address it must listen on.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Launch {
    pub fn new(program: impl Into<String>, args: &[&str]) -> Launch {
        Launch {
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Launch {
        self.env.push((key.into(), value.into()));
        self
    }
}

impl Server {
    /// Start `launch` on a free port of 127.0.0.1, on CPU `core` if given;
    /// its stderr goes to `log`.
    pub fn start(launch: &Launch, core: Option<usize>, log: &Path) -> Result<Server, Error> {
        let addr = free_addr()?;
        let args: Vec<String> = launch
            .args
            .iter()
            .map(|a| a.replace("{addr}", &addr.to_string()))
            .collect();
        let mut cmd = match core.filter(|_| has_taskset()) {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(core.to_string()).arg(&launch.program);
                c
            }
            None => Command::new(&launch.program),
        };
        cmd.args(&args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log)?);
        let child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("starting {}: {e}", launch.program)))?;
        // taskset execs the program, so the pid is the server's own.
        Ok(Server { child, addr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fail if the process has exited (it crashed or refused its arguments).
    pub fn alive(&mut self) -> Result<(), Error> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(Error::new(format!("server exited: {status}"))),
        }
    }

    /// Wait until the port accepts connections (at most `limit`).
    pub fn wait_port(&mut self, limit: Duration) -> Result<(), Error> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            self.alive()?;
            if std::net::TcpStream::connect(self.addr).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(Error::new(format!(
            "server did not listen on {} within {limit:?}",
            self.addr
        )))
    }

    /// User + system CPU time of the whole process so far.
    pub fn cpu(&self) -> Result<Duration, Error> {
        cpu_time(self.pid())
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::new("no VmRSS in /proc/PID/status"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of `pid` from /proc/PID/stat (fields 14 and 15, counted
/// after the parenthesised command name, which may contain spaces).
pub fn cpu_time(pid: u32) -> Result<Duration, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| Error::new("malformed /proc/PID/stat"))?;
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64, Error> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| Error::new("malformed /proc/PID/stat"))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / clock_ticks() as f64))
}

/// The kernel's clock ticks per second (USER_HZ), 100 unless getconf says.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

fn has_taskset() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        Command::new("taskset")
            .arg("-p")
            .arg(std::process::id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Whether servers get pinned (for the report).
pub fn pinning() -> bool {
    has_taskset()
}

/// A port the kernel considers free right now (racy only in theory).
fn free_addr() -> Result<SocketAddr, Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}
