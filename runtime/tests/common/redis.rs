//! A real `redis-server` for the tests that share state through Redis
//! (`scripts/setup.sh` installs it).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Upper bound on starting Redis: reaching it means something is wrong.
const HANG: Duration = Duration::from_secs(10);

/// A `redis-server` on 127.0.0.1 and a free port, no persistence; killed
/// when dropped.
pub(crate) struct Redis {
    pub(crate) child: Child,
    pub(crate) port: u16,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Redis {
    pub(crate) async fn start() -> Redis {
        Redis::start_on(free_port()).await
    }

    /// On a given port (a restart on the port of one stopped).
    pub(crate) async fn start_on(port: u16) -> Redis {
        let dir = std::env::temp_dir().join(format!("mcpgen-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): run scripts/setup.sh, which installs it")
            });
        let redis = Redis {
            child,
            port,
            _dir: TempDir(dir),
        };
        let deadline = Instant::now() + HANG;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
