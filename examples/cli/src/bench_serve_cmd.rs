//! `ipocket bench-serve`: a load bench of `ipocket serve` on 127.0.0.1 (a benchmark, never a
//! test). Seeds a fresh database with N synthetic IP assets through the import engine, starts
//! this binary's server on it, and drives each endpoint with keep-alive HTTP/1.1 connections
//! for a fixed time; prints requests/s and latency percentiles. The load loop drives hyper's
//! connection-level client on purpose (one connection per task, no pool); the login goes
//! through the shared client. The peer in the same run is
//! Debian's node_exporter serving its own `/metrics` under the same load generator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use ipocket_core::import::synthetic_bundle_json;
use ipocket_core::{parse_bundle_json, Actor, AssetFilter, ImportOptions, Page};
use ipocket_http::{HttpClient, Method};

#[derive(Args)]
pub(crate) struct BenchServeArgs {
    /// IP assets in the seeded database.
    #[arg(long, default_value_t = 100_000)]
    assets: usize,
    /// Concurrent keep-alive connections per endpoint.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of load per endpoint (after one second of warm-up).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// node_exporter binary for the peer figures; `none` skips the peer.
    #[arg(long, default_value = "/usr/bin/prometheus-node-exporter")]
    node_exporter: String,
    /// Use (and keep) this database, a SQLite file or a PostgreSQL URL (an existing
    /// database); seeded only when it has no IP asset yet.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Only seed the database (with --db), do not run the load.
    #[arg(long, requires = "db")]
    seed_only: bool,
}

/// Kills a child process on drop (the server, the peer).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Stats {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
    body_bytes: usize,
}

impl Stats {
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn seed(db: &Path, n: usize) -> Result<()> {
    let started = Instant::now();
    let mut inv = crate::db_path::open_inventory(db, true)?;
    let have = inv
        .list_ip_assets(&AssetFilter::default(), Page::number(1, 1))?
        .total;
    if have > 0 {
        outln!(
            "{} already holds {have} IP assets: not seeded",
            db.display()
        )?;
        return Ok(());
    }
    let bundle = parse_bundle_json(&synthetic_bundle_json(n, "bench"))?;
    let plan = inv.plan(bundle, &ImportOptions::default())?;
    inv.apply(&Actor::system(), &plan)?;
    outln!(
        "seeded {n} IP assets in {:.1} s",
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

fn start_server(db: &Path, password: &str) -> Result<(Reaped, String)> {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", "--quiet", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env("IPOCKET_ADMIN_PASSWORD", password)
        .env_remove("IPOCKET_PUBLIC_READS")
        .env_remove("IPOCKET_SD_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting ipocket serve")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let child = Reaped(child);
    let mut lines = std::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next().transpose()? {
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, addr));
        }
    }
    bail!("ipocket serve exited before listening")
}

fn start_node_exporter(bin: &str) -> Result<(Reaped, String)> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let child = Command::new(bin)
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| {
            format!("starting {bin} (install prometheus-node-exporter, or --node-exporter none)")
        })?;
    let child = Reaped(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_err() {
        if Instant::now() > deadline {
            bail!("{bin} did not listen on {addr} within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((child, addr))
}

/// How a request proves who sends it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    None,
    /// `Authorization: Bearer` (the API).
    Bearer,
    /// The web UI's session cookie (the same session token).
    Cookie,
}

/// One request; returns status and body.
async fn fetch(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    addr: &str,
    path: &str,
    token: Option<(Auth, &str)>,
    gzip: bool,
) -> Result<(u16, Bytes)> {
    let mut b = Request::builder().uri(path).header("host", addr);
    if gzip {
        b = b.header("accept-encoding", "gzip");
    }
    match token {
        Some((Auth::Bearer, t)) => b = b.header("authorization", format!("Bearer {t}")),
        Some((Auth::Cookie, t)) => b = b.header("cookie", format!("ipocket_session={t}")),
        _ => {}
    }
    sender.ready().await?;
    let resp = sender.send_request(b.body(Empty::new())?).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

async fn connect(addr: &str) -> Result<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Logs in as the admin through the shared HTTP client; returns the access token.
async fn login(addr: &str, password: &str) -> Result<String> {
    let body = serde_json::json!({"username": "admin", "password": password}).to_string();
    let url = HttpClient::parse_url(&format!("http://{addr}/api/v1/auth/login"))?;
    let r = HttpClient::new()
        .send_body_once_accept(
            Method::POST,
            &url,
            "application/json",
            &[("Content-Type", "application/json")],
            Bytes::from(body),
        )
        .await?;
    if r.status != 200 {
        bail!(
            "login answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body).context("login answer")?;
    v["access_token"]
        .as_str()
        .map(str::to_string)
        .context("no access_token in the login answer")
}

fn creds(token: &Option<(Auth, Arc<str>)>) -> Option<(Auth, &str)> {
    token.as_ref().map(|(a, t)| (*a, &**t))
}

/// Drives `path` with `connections` keep-alive connections for `seconds`.
async fn load(
    addr: Arc<str>,
    path: Arc<str>,
    token: Option<(Auth, Arc<str>)>,
    gzip: bool,
    connections: usize,
    seconds: f64,
) -> Result<Stats> {
    // Warm-up: fills caches and the connection pools of both sides.
    let warm_until = Instant::now() + Duration::from_secs(1);
    let mut sender = connect(&addr).await?;
    let (status, _) = fetch(&mut sender, &addr, &path, creds(&token), gzip).await?;
    if status != 200 {
        bail!("GET {path} answered {status} before the load");
    }
    while Instant::now() < warm_until {
        fetch(&mut sender, &addr, &path, creds(&token), gzip).await?;
    }
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, path, token) = (addr.clone(), path.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await?;
            let mut lat = Vec::new();
            let (mut errors, mut bytes) = (0usize, 0usize);
            while Instant::now() < until {
                let t = Instant::now();
                let (status, body) = fetch(&mut sender, &addr, &path, creds(&token), gzip).await?;
                lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if status != 200 {
                    errors += 1;
                }
                bytes = body.len();
            }
            anyhow::Ok((lat, errors, bytes))
        }));
    }
    let mut stats = Stats {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
        body_bytes: 0,
    };
    for t in tasks {
        let (lat, errors, bytes) = t.await??;
        stats.requests += lat.len();
        stats.errors += errors;
        stats.latencies_us.extend(lat);
        stats.body_bytes = stats.body_bytes.max(bytes);
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.latencies_us.sort_unstable();
    Ok(stats)
}

pub(crate) fn run(args: BenchServeArgs) -> Result<ExitCode> {
    if args.connections == 0 || args.seconds.is_nan() || args.seconds <= 0.0 {
        bail!("--connections and --seconds must be positive");
    }
    if let Some(db) = &args.db {
        return bench(&args, db);
    }
    let dir = std::env::temp_dir().join(format!("ipocket-bench-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench(&args, &dir.join("bench.db"));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(args: &BenchServeArgs, db: &Path) -> Result<ExitCode> {
    seed(db, args.assets)?;
    if args.seed_only {
        return Ok(ExitCode::SUCCESS);
    }
    let password = "bench-serve-password";
    let (_server, addr) = start_server(db, password)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let token: Arc<str> = runtime.block_on(login(&addr, password))?.into();
    let peer = match args.node_exporter.as_str() {
        "none" => None,
        bin => Some(start_node_exporter(bin)?),
    };
    let mut rows: Vec<(String, Stats)> = Vec::new();
    // (path, how it authenticates, with Accept-Encoding: gzip, one connection only). The web
    // UI's pages are also driven by one connection: their p50 is the render time a user sees.
    let targets = [
        ("/health", Auth::None, false, false),
        ("/metrics", Auth::Bearer, false, false),
        ("/sd/node", Auth::Bearer, false, false),
        ("/sd/node", Auth::Bearer, true, false),
        ("/api/v1/sd", Auth::Bearer, false, false),
        ("/api/v1/ip-assets?per_page=50", Auth::Bearer, false, false),
        (
            "/api/v1/ip-assets?per_page=50&page=1000",
            Auth::Bearer,
            false,
            false,
        ),
        ("/ui/ip-assets", Auth::Cookie, false, false),
        ("/ui/ip-assets", Auth::Cookie, false, true),
        (
            "/ui/ip-assets?per_page=100&page=500&sort=ip&dir=desc",
            Auth::Cookie,
            false,
            true,
        ),
        ("/ui/management", Auth::Cookie, false, true),
    ];
    let addr: Arc<str> = addr.into();
    for (path, auth, gzip, single) in targets {
        let connections = if single { 1 } else { args.connections };
        let stats = runtime.block_on(load(
            addr.clone(),
            path.into(),
            (auth != Auth::None).then(|| (auth, token.clone())),
            gzip,
            connections,
            args.seconds,
        ))?;
        let gz = if gzip { " (gzip)" } else { "" };
        let one = if single { " [1 conn]" } else { "" };
        rows.push((format!("ipocket {path}{gz}{one}"), stats));
    }
    if let Some((_child, peer_addr)) = &peer {
        let stats = runtime.block_on(load(
            peer_addr.as_str().into(),
            "/metrics".into(),
            None,
            false,
            args.connections,
            args.seconds,
        ))?;
        rows.push(("node_exporter /metrics (peer)".into(), stats));
    }
    outln!(
        "{} assets, {} connections, {} s per endpoint, load generator and server on the same {} cores",
        args.assets,
        args.connections,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    outln!(
        "{:<72} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>10}",
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "n",
        "body B"
    )?;
    for (name, s) in &rows {
        outln!(
            "{:<72} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>7} {:>10}",
            name,
            s.requests as f64 / s.seconds,
            s.percentile_ms(0.50),
            s.percentile_ms(0.99),
            s.percentile_ms(1.0),
            s.errors,
            s.requests,
            s.body_bytes
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
