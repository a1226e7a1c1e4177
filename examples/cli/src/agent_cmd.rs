//! `ipocket agent`: scrape exporters, buffer every scrape durably on disk, push to the ingest
//! endpoint, over `ipocket-connectors`' agent.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use ipocket_connectors::agent::{Agent, AgentConfig, DiskBuffer};

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
}

pub(crate) fn run(args: AgentArgs) -> Result<ExitCode> {
    let config = AgentConfig::from_file(&args.config)?;
    if args.check {
        let endpoints: Vec<_> = config
            .scrapers
            .prometheus
            .endpoints
            .iter()
            .map(|e| serde_json::json!({"name": e.name, "url": e.url, "interval_ms": e.interval.0.as_millis() as u64}))
            .collect();
        let out = serde_json::json!({
            "server_id": config.agent.server_id,
            "server": config.server.endpoint,
            "timeout_ms": config.server.timeout.0.as_millis() as u64,
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
    let mut agent = Agent::new(config).context("starting the agent")?;
    let report = agent.open_report();
    eprintln!(
        "ipocket agent: buffer has {} scrape(s) from an earlier run; {} torn write(s) removed",
        report.recovered, report.torn_removed
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        if let Some(addr) = agent.bind_metrics().await? {
            eprintln!("ipocket agent: msg=\"Listening on\" address={addr}");
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let run = tokio::spawn(agent.run(stop_rx));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("ipocket agent: stopping");
        let _ = stop_tx.send(true);
        run.await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
