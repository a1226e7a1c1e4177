//! `ipocket agent`: scrape exporters, buffer every scrape durably on disk, push to the ingest
//! endpoint, over `ipocket-connectors`' agent.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use ipocket_connectors::agent::{
    saved_server_id, Agent, AgentConfig, DiskBuffer, RemoteWriteConfig, SERVER_ID_FILE,
};

#[derive(Args)]
pub(crate) struct AgentArgs {
    /// The agent's YAML configuration.
    #[arg(
        long,
        short,
        env = "IPOCKET_AGENT_CONFIG",
        default_value = "/etc/ipocket/agent.yml"
    )]
    config: PathBuf,
    /// Check the configuration, print it as understood, and exit.
    #[arg(long)]
    check: bool,
    /// Print the buffer's state (scrapes waiting, bytes, oldest, temp files) as JSON and exit;
    /// read-only, safe beside the running agent.
    #[arg(long, conflicts_with = "check")]
    status: bool,
    /// Also trust the PEM certificate(s) in this file for an https:// `server.endpoint`
    /// (overrides `server.ca_file`; the webpki roots and the system's CA bundle are trusted
    /// anyway).
    #[arg(long, env = "IPOCKET_AGENT_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// PEM client certificate for mutual TLS to the server (overrides `server.client_cert`).
    #[arg(long, env = "IPOCKET_AGENT_CLIENT_CERT", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert (overrides `server.client_key`).
    #[arg(long, env = "IPOCKET_AGENT_CLIENT_KEY", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Send every scrape to this remote-write receiver too (Prometheus with
    /// --web.enable-remote-write-receiver, Mimir, VictoriaMetrics, Thanos Receive), through a
    /// queue on disk (overrides `remote_write.url`).
    #[arg(long, env = "IPOCKET_AGENT_REMOTE_WRITE_URL")]
    remote_write_url: Option<String>,
    /// Credentials of the remote-write receiver: `user:password` for Basic auth, anything else
    /// is a Bearer token (overrides `remote_write.token`).
    #[arg(long, env = "IPOCKET_AGENT_REMOTE_WRITE_TOKEN", hide_env_values = true)]
    remote_write_token: Option<String>,
    /// Also trust the PEM certificate(s) in this file for an https:// remote-write receiver
    /// (overrides `remote_write.ca_file`).
    #[arg(long, env = "IPOCKET_AGENT_REMOTE_WRITE_CA_FILE")]
    remote_write_ca_file: Option<PathBuf>,
}

/// The flags win over the file.
fn apply_flags(config: &mut AgentConfig, args: &AgentArgs) -> Result<()> {
    if args.ca_file.is_some() || args.client_cert.is_some() {
        let server = config.server.as_mut().context(
            "--ca-file, --client-cert and --client-key need a server section in the configuration",
        )?;
        if let Some(ca) = &args.ca_file {
            server.ca_file = Some(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
            server.client_cert = Some(cert.clone());
            server.client_key = Some(key.clone());
        }
    }
    if let Some(url) = &args.remote_write_url {
        let rw = config
            .remote_write
            .get_or_insert_with(|| RemoteWriteConfig {
                url: String::new(),
                token: None,
                ca_file: None,
                buffer_path: None,
                max_size_mb: None,
            });
        rw.url = url.clone();
    }
    if args.remote_write_token.is_some() || args.remote_write_ca_file.is_some() {
        let rw = config.remote_write.as_mut().context(
            "--remote-write-token and --remote-write-ca-file need --remote-write-url or a remote_write section",
        )?;
        if let Some(t) = &args.remote_write_token {
            rw.token = Some(t.clone());
        }
        if let Some(ca) = &args.remote_write_ca_file {
            rw.ca_file = Some(ca.clone());
        }
    }
    config.check()?;
    Ok(())
}

pub(crate) fn run(args: AgentArgs) -> Result<ExitCode> {
    // Checked once the flags are applied: a file without a destination is fine with
    // --remote-write-url.
    let mut config = AgentConfig::read_unchecked(&args.config)?;
    apply_flags(&mut config, &args)?;
    if args.check {
        let endpoints: Vec<_> = config
            .scrapers
            .prometheus
            .endpoints
            .iter()
            .map(|e| serde_json::json!({"name": e.name, "url": e.url, "interval_ms": e.interval().as_millis() as u64}))
            .collect();
        // The id as the next run will use it; null: generated (and saved) on the first run.
        let server_id = saved_server_id(&config)?;
        let out = serde_json::json!({
            "server_id": server_id,
            "state_dir": config.state_dir(),
            "server": config.server.as_ref().map(|s| s.endpoint.clone()),
            "server_tls": config.server.as_ref().map(|s| serde_json::json!({
                "ca_file": s.ca_file, "client_cert": s.client_cert, "client_key": s.client_key,
            })),
            "remote_write": config.remote_write.as_ref().map(|rw| serde_json::json!({
                "url": rw.url,
                "auth": rw.token.as_deref().map(|t| if t.contains(':') { "basic" } else { "bearer" }),
                "ca_file": rw.ca_file,
                "buffer_path": config.remote_write_buffer(),
            })),
            "timeout_ms": config.timeout().as_millis() as u64,
            "endpoints": endpoints,
            "buffer": {
                "path": config.buffer.path,
                "retention_hours": config.buffer.retention_hours,
                "max_size_bytes": config.buffer.max_size_bytes(),
            },
            "metrics_listen": config.metrics.as_ref().map(|m| m.listen.clone()),
        });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.status {
        // Strictly read-only: the running agent owns the folder, and its writes in flight
        // are temp files that opening the buffer would remove as torn.
        let path = &config.buffer.path;
        let s = DiskBuffer::status(path)
            .with_context(|| format!("reading the buffer {}", path.display()))?;
        let out = serde_json::json!({
            "path": path,
            "scrapes": s.scrapes,
            "bytes": s.bytes,
            "oldest_ms": s.oldest_ms,
            "temp_files": s.temp_files,
        });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let state_file = config.state_dir().join(SERVER_ID_FILE);
    let mut agent = Agent::new(config).context("starting the agent")?;
    let report = agent.open_report();
    match agent.ensure_server_id()? {
        (id, true) => tracing::info!(
            server_id = %id,
            state_file = %state_file.display(),
            "generated server id {id} (saved in {}); register it on the server: POST /api/v1/servers {{\"server_id\":\"{id}\"}}",
            state_file.display()
        ),
        (id, false) => tracing::info!(server_id = %id, "server id {id}"),
    }
    tracing::info!(
        recovered = report.recovered,
        torn_removed = report.torn_removed,
        "buffer has {} scrape(s) from an earlier run; {} torn write(s) removed",
        report.recovered,
        report.torn_removed
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        if let Some(addr) = agent.bind_metrics().await? {
            tracing::info!(address = %addr, "Listening on {addr}");
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let run = tokio::spawn(agent.run(stop_rx));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("agent stopping");
        let _ = stop_tx.send(true);
        run.await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
