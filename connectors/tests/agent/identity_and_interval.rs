//! Seed 003's agent: `agent.interval` is honoured, a server id is generated once and kept.

use super::*;

/// The seed's `agent.interval` ("how often to scrape and push") was ignored: an endpoint
/// without its own interval was scraped every 15 s whatever the file said.
#[test]
fn agent_interval_is_the_interval_of_endpoints_without_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = StubExporter::start();
    let server = ingest_server("127.0.0.1:0", &dir.path().join("samples.db"));
    server
        .store
        .lock()
        .unwrap()
        .register_server("web-01", None)
        .unwrap();
    let yaml = format!(
        "{}server:\n  endpoint: \"{}\"\nagent:\n  server_id: web-01\n  interval: 200ms\nbuffer:\n  path: {}\n",
        stub_endpoint(&exporter),
        server.endpoint(),
        dir.path().join("buffer").display()
    );
    let cfg = AgentConfig::from_yaml(&yaml).unwrap();
    assert_eq!(
        cfg.scrapers.prometheus.endpoints[0].interval(),
        Duration::from_millis(200)
    );
    let agent = Agent::new(cfg).unwrap();
    let metrics = agent.metrics();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let handle = rt.spawn(agent.run(stop_rx));
    std::thread::sleep(Duration::from_millis(1100));
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    let elapsed = started.elapsed();
    let scrapes = metrics.endpoints[0].scrapes.load(Ordering::Relaxed);
    // One at once, then one every 200 ms: 6 in 1.1 s (a slow CI machine may lose one or two,
    // the old 15 s default gives 1).
    let expected = 1 + (elapsed.as_millis() / 200) as u64;
    assert!(
        (4..=expected).contains(&scrapes),
        "{scrapes} scrapes in {elapsed:?}"
    );
    wait_until("the pushes", Duration::from_secs(10), || {
        server.store.lock().unwrap().count(Some("web-01")).unwrap() > 0
    });
}

/// No `server_id` (or the seed's placeholder): a random UUID is generated on the first run,
/// saved in the state folder, used for every push and kept by the next run.
#[test]
fn a_missing_server_id_is_generated_once_saved_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = StubExporter::start();
    let server = ingest_server("127.0.0.1:0", &dir.path().join("samples.db"));
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let yaml = |id_line: &str| {
        format!(
            "{}server:\n  endpoint: \"{}\"\nagent:\n  {id_line}\n  interval: 100ms\n  state_dir: {}\nbuffer:\n  path: {}\n",
            stub_endpoint(&exporter),
            server.endpoint(),
            state.display(),
            dir.path().join("buffer").display()
        )
    };
    let cfg = AgentConfig::from_yaml(&yaml("server_id: auto-generated-uuid")).unwrap();
    let mut agent = Agent::new(cfg).unwrap();
    assert_eq!(agent.server_id(), (None, false), "nothing written by new()");
    assert!(!state.join("server_id").exists());
    let (id, generated) = agent.ensure_server_id().unwrap();
    assert!(generated);
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(parts[2].starts_with('4'), "version 4: {id}");
    assert_eq!(
        std::fs::read_to_string(state.join("server_id")).unwrap(),
        format!("{id}\n")
    );
    server
        .store
        .lock()
        .unwrap()
        .register_server(&id, None)
        .unwrap();
    let metrics = agent.metrics();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    wait_until(
        "pushes as the generated id",
        Duration::from_secs(20),
        || metrics.push.sent.load(Ordering::Relaxed) >= 2,
    );
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    assert!(server.store.lock().unwrap().count(Some(&id)).unwrap() > 0);

    // The next run (no server_id key at all) reads the saved id and generates nothing.
    let cfg = AgentConfig::from_yaml(&yaml("")).unwrap();
    let mut again = Agent::new(cfg).unwrap();
    assert_eq!(again.server_id(), (Some(id.as_str()), false));
    assert_eq!(again.ensure_server_id().unwrap(), (id.clone(), false));

    // A configured id wins over the saved one.
    let cfg = AgentConfig::from_yaml(&yaml("server_id: web-07")).unwrap();
    assert_eq!(Agent::new(cfg).unwrap().server_id().0, Some("web-07"));

    // A saved file that is not an id is an error naming the file, never silently replaced.
    std::fs::write(state.join("server_id"), "not an id!\n").unwrap();
    let cfg = AgentConfig::from_yaml(&yaml("")).unwrap();
    let e = Agent::new(cfg).unwrap_err().to_string();
    assert!(e.contains("server_id") && e.contains("not an id!"), "{e}");
}
