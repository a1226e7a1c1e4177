"""ipocket.connectors against a real Prometheus on 127.0.0.1, the seed's command line, and
the file_sd writer. Fake addresses appear only in label values (label_replace)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import ipocket
from ipocket import Inventory
from ipocket.connectors import RemoteInventory, prometheus_fetch, sd_write

from conftest import ADMIN_PASSWORD

# Three samples with addresses in `instance`, one loopback, one without the label.
QUERY = (
    'label_replace(vector(1), "instance", "10.20.30.40:9100", "", "")'
    ' or label_replace(vector(2), "instance", "10.20.30.41:9100", "", "")'
    ' or label_replace(vector(3), "instance", "127.0.0.1:9100", "", "")'
    ' or label_replace(vector(4), "other", "x", "", "")'
)


def test_fetch_extracts_addresses_from_the_real_prometheus(prometheus) -> None:  # type: ignore[no-untyped-def]
    x = prometheus_fetch(prometheus.url, QUERY, "instance", asset_type="VM", tags=["found"])
    assert x.samples == 4
    assert sorted(i["ip"] for i in x.ips) == ["10.20.30.40", "10.20.30.41"]
    assert any("loopback" in w for w in x.warnings)
    assert any("missing" in w for w in x.warnings)
    bundle = x.bundle()
    asset = bundle["data"]["ip_assets"][0]
    assert asset["type"] == "VM" and asset["tags"] == ["found"] and asset["preserve_existing_notes"] is True
    inv = Inventory()
    plan = x.plan(inv)
    assert plan.summary["ip_assets"]["create"] == 2
    lines = x.dry_run_report(plan)
    assert lines[0].startswith("Dry-run IP preview (2)")
    assert lines[-1] == "Import mode: dry-run. Summary create=2, update=0, skip=0."
    inv.apply(plan)
    assert inv.ip_asset("10.20.30.40")["tags"] == ["found"]


def test_fetch_releases_the_gil() -> None:
    # The Prometheus API is served by a Python thread: it can only answer while the fetch
    # in the main thread runs without the GIL (else the fetch times out).
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"instance": "10.5.0.1:9100"}, "value": [1, "1"]}]}}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        x = prometheus_fetch(url, "up", "instance", timeout=5, retries=0)
        assert [i["ip"] for i in x.ips] == ["10.5.0.1"]
    finally:
        server.shutdown()
        server.server_close()


def test_hard_failures_are_classified_by_kind(prometheus) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ipocket.UnavailableError) as e:
        prometheus_fetch(prometheus.url, "rate(up[5m]", "instance")
    assert e.value.kind == "unavailable" and e.value.status == 400
    with pytest.raises(ipocket.UnavailableError) as e:
        prometheus_fetch(prometheus.url, "1", "instance")
    assert "resultType" in e.value.message and e.value.status is None
    with pytest.raises(ConnectionError) as c:
        prometheus_fetch("http://127.0.0.1:1", "up", "instance", timeout=2, retries=0)
    assert isinstance(c.value, ipocket.UnavailableError) and c.value.status is None
    with pytest.raises(ipocket.InvalidInputError) as i:
        prometheus_fetch(prometheus.url, " ", "instance")
    assert i.value.kind == "invalid"


def test_unknown_project_is_refused_by_the_import_engine(prometheus) -> None:  # type: ignore[no-untyped-def]
    x = prometheus_fetch(prometheus.url, QUERY, "instance", project_name="nope")
    with pytest.raises(ipocket.ImportValidationError) as e:
        x.plan(Inventory())
    assert "nope" in str(e.value)


def cli(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "ipocket.connectors.prometheus", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_cli_accepts_the_seed_flags_in_every_mode(prometheus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    common = ["--prometheus-url", prometheus.url, "--query", QUERY, "--ip-label", "instance",
              "--asset-type", "OTHER"]
    out = tmp_path / "prometheus-bundle.json"
    r = cli(*common, "--mode", "file", "--output", str(out))
    assert r.returncode == 0, r.stderr
    bundle = json.loads(out.read_text())
    assert [a["ip_address"] for a in bundle["data"]["ip_assets"]] == ["10.20.30.40", "10.20.30.41"]
    assert "warning: " in r.stderr

    db = tmp_path / "ipocket.db"
    Inventory(db)
    r = cli(*common, "--token", "prom_user:prom_pass", "--mode", "dry-run", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "- [CREATE] 10.20.30.40: type=OTHER" in r.stdout
    assert Inventory(db).list_ip_assets()["total"] == 0
    r = cli(*common, "--mode", "apply", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "Import mode: apply" in r.stdout and "create=2" in r.stdout
    assert "dry-run" not in r.stdout.lower(), r.stdout
    assert Inventory(db).list_ip_assets()["total"] == 2

    r = cli(*common, "--mode", "file")
    assert r.returncode == 1 and "--output" in r.stderr
    r = cli("--prometheus-url", prometheus.url, "--query", "1", "--ip-label", "instance",
            "--mode", "file", "--output", "-")
    assert r.returncode == 1 and "Unsupported Prometheus resultType 'scalar'" in r.stderr


def test_sd_write_writes_targets_atomically(tmp_path: Path) -> None:
    db = tmp_path / "ipocket.db"
    inv = Inventory(db)
    inv.create_ip_asset("10.3.0.1", "VM")
    targets = tmp_path / "targets.json"
    r = sd_write(db, targets, labels={"job": "node"})
    assert r == {"groups": 1, "targets": 1, "written": True}
    groups = json.loads(targets.read_text())
    assert groups[0]["targets"] == ["10.3.0.1:9100"]
    assert groups[0]["labels"]["__metrics_path__"] == "/metrics"
    assert sd_write(db, targets, labels={"job": "node"})["written"] is False
    with pytest.raises(ipocket.NotFoundError):
        sd_write(tmp_path / "missing.db", targets)
    assert json.loads(targets.read_text()) == groups, "a failed cycle leaves the file alone"


def viewer_and_editor(server) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Creates a Viewer and an Editor on a fresh server; returns their login tokens."""
    admin = server.login("admin", ADMIN_PASSWORD)
    for name, role in (("vi", "Viewer"), ("ed", "Editor")):
        server.call("POST", "/api/v1/users", {"username": name, "password": "secret-pw-1", "role": role}, admin)
    return server.login("vi", "secret-pw-1"), server.login("ed", "secret-pw-1")


def test_sd_write_from_a_remote_server(ipocket_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    viewer, editor = viewer_and_editor(ipocket_server)
    ipocket_server.call("POST", "/api/v1/ip-assets", {"ip_address": "10.4.0.1", "type": "VM"}, editor)
    server = RemoteInventory(ipocket_server.url, viewer)
    targets = tmp_path / "targets.json"
    assert sd_write(server, targets, labels={"job": "node"}) == {"groups": 1, "targets": 1, "written": True}
    local = tmp_path / "local.json"
    Inventory(ipocket_server.db)  # the same targets as a local cycle on the server's file
    sd_write(ipocket_server.db, local, labels={"job": "node"})
    assert json.loads(targets.read_text()) == json.loads(local.read_text())
    assert json.loads(targets.read_text())[0]["targets"] == ["10.4.0.1:9100"]
    assert sd_write(server, targets, labels={"job": "node"})["written"] is False
    with pytest.raises(ipocket.UnauthorizedError) as e:
        sd_write(RemoteInventory(ipocket_server.url, "wrong-token-1"), targets)
    assert e.value.status == 401
    assert json.loads(targets.read_text())[0]["targets"] == ["10.4.0.1:9100"], "a failed cycle leaves the file alone"


def test_remote_mode_against_a_real_ipocket_server(prometheus, ipocket_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    common = ["--prometheus-url", prometheus.url, "--query", QUERY, "--ip-label", "instance",
              "--asset-type", "OTHER"]
    viewer, editor = viewer_and_editor(ipocket_server)
    remote = ["--ipocket-url", ipocket_server.url]

    # The dry run lists the same lines as a local one and writes nothing on the server.
    local_db = tmp_path / "local.db"
    Inventory(local_db)
    local = cli(*common, "--mode", "dry-run", "--db", str(local_db))
    r = cli(*common, "--mode", "dry-run", *remote, "--ipocket-token", viewer)
    assert r.returncode == 0, r.stderr
    assert r.stdout == local.stdout
    assert "- [CREATE] 10.20.30.40: type=OTHER" in r.stdout
    assert Inventory(ipocket_server.db).list_ip_assets()["total"] == 0

    # A Viewer may not apply; a wrong token is refused; neither token shows in the error.
    r = cli(*common, "--mode", "apply", *remote, "--ipocket-token", viewer)
    assert r.returncode == 1 and "403" in r.stderr and viewer not in r.stderr
    r = cli(*common, "--mode", "apply", *remote, "--ipocket-token", "not-a-token-123")
    assert r.returncode == 1 and "401" in r.stderr and "not-a-token-123" not in r.stderr
    r = cli(*common, "--mode", "apply", *remote)
    assert r.returncode == 1 and "--ipocket-token" in r.stderr
    assert Inventory(ipocket_server.db).list_ip_assets()["total"] == 0

    # An Editor applies: the server's database has the addresses; a second dry run skips them.
    r = cli(*common, "--mode", "apply", *remote, "--ipocket-token", editor)
    assert r.returncode == 0, r.stderr
    assert "Import mode: apply (audit entry " in r.stdout and "create=2" in r.stdout
    assert Inventory(ipocket_server.db).ip_asset("10.20.30.41")["type"] == "OTHER"
    r = cli(*common, "--mode", "dry-run", *remote, "--ipocket-token", editor, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["ip_assets"]["skip"] == 2


def test_remote_inventory_errors_are_typed(prometheus, ipocket_server) -> None:  # type: ignore[no-untyped-def]
    x = prometheus_fetch(prometheus.url, QUERY, "instance", project_name="nope")
    server = RemoteInventory(ipocket_server.url, ipocket_server.login("admin", ADMIN_PASSWORD))
    with pytest.raises(ipocket.ImportValidationError) as e:
        server.plan(x.bundle())
    assert any("nope" in i.message for i in e.value.errors), e.value.errors
    with pytest.raises(ipocket.UnauthorizedError) as u:
        RemoteInventory(ipocket_server.url, "wrong-token-1").plan(x.bundle())
    assert u.value.kind == "unauthorized" and u.value.status == 401
    with pytest.raises(ipocket.UnavailableError) as h:
        RemoteInventory("http://127.0.0.1:9", "t", timeout=2).plan(x.bundle())
    assert h.value.kind == "unavailable" and h.value.status is None
