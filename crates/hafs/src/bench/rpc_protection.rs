//! `hafs bench rpcprotection`: what Kerberos costs on Hadoop IPC. One echo protocol on
//! a loopback IPC server, driven by concurrent callers over one connection, measured
//! with SIMPLE authentication (the baseline, in the same run) and with Kerberos at each
//! `hadoop.rpc.protection` — authentication, integrity, privacy — through the real
//! code: the MIT library from a throwaway KDC, the GSSAPI mechanism, WRAP framing. It
//! reports calls per second and payload MB/s for small and large calls, and the time to
//! open an authenticated connection (the SASL exchange with its ticket requests).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use hafs_cluster::Kdc;
use hafs_ipc::auth::kerberos::{ClientLogin, KerberosClient, KerberosMethod};
use hafs_ipc::auth::{ClientAuth, ServerAuth};
use hafs_ipc::{CallContext, ClientConfig, Connection, RpcError, RpcService, Server, ServerConfig};
use hafs_security::gssapi::{Credential, InitiatorSource};
use hafs_security::kerberos_name::AuthToLocal;
use hafs_security::sasl::Qop;

use super::report::{ratio, thousands};

const USAGE: &str = "\
Usage: hafs bench rpcprotection [-calls N] [-size BYTES] [-threads N] [-connects N]

  -calls    calls per measurement (default 20000; large calls: a tenth)
  -size     payload of the large calls (default 1048576); small calls carry 64 bytes
  -threads  concurrent callers on the connection (default 8)
  -connects fresh connections timed for the handshake (default 50)

Needs the MIT Kerberos KDC and tools (Debian krb5-kdc, krb5-admin-server, krb5-user):
a throwaway realm is started in a temporary directory.";

const PROTOCOL: &str = "org.hafs.bench.EchoProtocol";

struct Echo;

#[async_trait::async_trait]
impl RpcService for Echo {
    fn protocol_name(&self) -> &'static str {
        PROTOCOL
    }
    async fn call(
        &self,
        _ctx: &CallContext,
        _method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError> {
        Ok(request)
    }
}

struct Settings {
    calls: usize,
    size: usize,
    threads: usize,
    connects: usize,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Settings>> {
    let mut s = Settings {
        calls: 20_000,
        size: 1 << 20,
        threads: 8,
        connects: 50,
    };
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| -> anyhow::Result<usize> {
            args.get(i + 1)
                .with_context(|| format!("{} needs a value", args[i]))?
                .parse()
                .with_context(|| format!("{} needs a number", args[i]))
        };
        match args[i].as_str() {
            "-calls" => s.calls = value(i)?,
            "-size" => s.size = value(i)?,
            "-threads" => s.threads = value(i)?,
            "-connects" => s.connects = value(i)?,
            "-h" | "-help" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown option '{other}'\n{USAGE}"),
        }
        i += 2;
    }
    if s.calls == 0 || s.threads == 0 || s.size == 0 {
        bail!("-calls, -size and -threads must be at least 1");
    }
    Ok(Some(s))
}

/// One protection level's setup: how the server and the client authenticate.
struct Mode {
    name: &'static str,
    server: ServerAuth,
    client: ClientAuth,
}

struct Measured {
    small_calls_per_s: f64,
    large_mb_per_s: f64,
    connect_ms: f64,
}

pub async fn run(args: &[String]) -> anyhow::Result<i32> {
    let Some(settings) = parse(args)? else {
        return Ok(0);
    };
    let dir = tempdir()?;
    let kdc = Kdc::start(&dir).context("starting a KDC for the benchmark")?;
    // This process is the realm's client and server: its MIT library must find the
    // realm before the first Kerberos call, and nothing reads the environment meanwhile.
    for (k, v) in kdc.env() {
        std::env::set_var(k, v);
    }
    let keytab = kdc.add_service("nn", "localhost")?;
    let user_keytab = kdc.add_user_keytab("alice")?;
    let to_local = Arc::new(AuthToLocal::parse("DEFAULT", kdc.realm())?);
    let credential = Arc::new(Credential::initiator(&InitiatorSource::ClientKeytab {
        keytab: user_keytab.display().to_string(),
        principal: kdc.principal("alice"),
    })?);
    let principal = format!("nn/localhost@{}", kdc.realm());
    let mut modes = vec![Mode {
        name: "simple",
        server: ServerAuth::default(),
        client: ClientAuth::default(),
    }];
    for (name, qop) in [
        ("authentication", Qop::Authentication),
        ("integrity", Qop::Integrity),
        ("privacy", Qop::Privacy),
    ] {
        let method = KerberosMethod::new(&principal, &keytab, &[qop], to_local.clone())?;
        let pattern = format!("nn/_HOST@{}", kdc.realm());
        let client = KerberosClient::new(
            ClientLogin::Keytab(credential.clone()),
            Arc::new(move |_: &str| Some(pattern.clone())),
            &[qop],
        );
        modes.push(Mode {
            name,
            server: ServerAuth {
                methods: vec![Arc::new(method)],
                ..Default::default()
            },
            client: ClientAuth {
                mechanisms: vec![Arc::new(client)],
            },
        });
    }
    println!(
        "rpcprotection: {} small calls (64 B) and {} large calls ({} B), {} callers on one connection; {} fresh connections",
        settings.calls,
        (settings.calls / 10).max(1),
        settings.size,
        settings.threads,
        settings.connects
    );
    let mut results = Vec::new();
    for mode in &modes {
        let m = measure(mode, &settings).await?;
        results.push((mode.name, m));
    }
    let base = &results[0].1;
    println!(
        "{:<16} {:>14} {:>8} {:>12} {:>8} {:>12}",
        "protection", "small calls/s", "vs simple", "large MB/s", "vs simple", "connect ms"
    );
    for (name, m) in &results {
        println!(
            "{:<16} {:>14} {:>8} {:>12.1} {:>8} {:>12.2}",
            name,
            thousands(m.small_calls_per_s),
            ratio(m.small_calls_per_s / base.small_calls_per_s),
            m.large_mb_per_s,
            ratio(m.large_mb_per_s / base.large_mb_per_s),
            m.connect_ms
        );
    }
    drop(kdc);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(0)
}

async fn measure(mode: &Mode, s: &Settings) -> anyhow::Result<Measured> {
    let mut config = ServerConfig::new(([127, 0, 0, 1], 0).into());
    config.auth = mode.server.clone();
    let server = Server::bind(config, vec![Arc::new(Echo)]).await?;
    // By name, so that the client's `_HOST` is `localhost`, the service's host.
    let addr = format!("localhost:{}", server.local_addr().port());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async {
        let _ = stop_rx.await;
    }));
    let mut cfg = ClientConfig::new("alice");
    cfg.auth = mode.client.clone();
    cfg.call_timeout = Duration::from_secs(120);

    let started = Instant::now();
    for _ in 0..s.connects {
        let conn = Connection::connect(&addr, PROTOCOL, &cfg).await?;
        call(&conn, Bytes::from_static(b"hello")).await?;
    }
    let connect_ms = started.elapsed().as_secs_f64() * 1000.0 / s.connects.max(1) as f64;

    let conn = Arc::new(Connection::connect(&addr, PROTOCOL, &cfg).await?);
    let small = Bytes::from(vec![7u8; 64]);
    let elapsed = run_calls(&conn, small, s.calls, s.threads).await?;
    let small_calls_per_s = s.calls as f64 / elapsed.as_secs_f64();
    let large_calls = (s.calls / 10).max(1);
    let large = Bytes::from(
        (0..s.size)
            .map(|i| (i * 31 % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let elapsed = run_calls(&conn, large, large_calls, s.threads).await?;
    let large_mb_per_s = (large_calls * s.size) as f64 / elapsed.as_secs_f64() / 1e6;
    drop(conn);
    let _ = stop_tx.send(());
    let _ = serving.await;
    Ok(Measured {
        small_calls_per_s,
        large_mb_per_s,
        connect_ms,
    })
}

async fn call(conn: &Connection, payload: Bytes) -> anyhow::Result<()> {
    let echoed = conn
        .call_raw(
            "echo",
            payload.clone(),
            hafs_ipc::next_call_id(),
            0,
            Duration::from_secs(120),
        )
        .await?;
    if echoed != payload {
        bail!(
            "the echo came back different ({} bytes sent, {} received)",
            payload.len(),
            echoed.len()
        );
    }
    Ok(())
}

async fn run_calls(
    conn: &Arc<Connection>,
    payload: Bytes,
    calls: usize,
    threads: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..threads {
        let n = calls / threads + usize::from(t < calls % threads);
        let conn = conn.clone();
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                call(&conn, payload.clone()).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "hafs-bench-rpcprotection-{}-{}",
        std::process::id(),
        hafs_util::uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
