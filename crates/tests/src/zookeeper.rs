//! A real standalone ZooKeeper server for the automatic-failover tests (Debian's
//! `zookeeper` package, run with Java) on a free loopback port, with its own data dir.
//! Missing ZooKeeper or Java fails loudly and names `scripts/test-deps.sh`.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hafs_cluster::{free_port, zookeeper};

/// A standalone ZooKeeper server; killed when dropped.
#[derive(Debug)]
pub struct ZkServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl ZkServer {
    /// Starts a server with its own data dir; panics (loudly) when ZooKeeper or Java is
    /// missing: run `bash scripts/test-deps.sh`.
    pub fn start(tick_ms: u32) -> ZkServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("hafs-zk-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = zookeeper::configure(&dir, port, tick_ms) {
            panic!("{e} (for the tests: run `bash scripts/test-deps.sh`)");
        }
        let mut s = ZkServer {
            port,
            dir,
            child: None,
        };
        s.spawn();
        s
    }

    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("zookeeper.log")).expect("zk log");
        let child = zookeeper::command(&self.dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("cannot run java: is a JRE installed? (scripts/test-deps.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.answers() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!(
                        "ZooKeeper exited at startup ({status}); log: {}",
                        std::fs::read_to_string(self.dir.join("zookeeper.log")).unwrap_or_default()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "ZooKeeper did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `srvr` answered: the server is serving.
    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"srvr").is_err() {
            return false;
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.contains("Mode: standalone")
    }

    /// kill -9: ZooKeeper is gone (sessions survive in its data dir).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port and data dir.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
