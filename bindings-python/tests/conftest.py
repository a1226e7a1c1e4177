"""Shared fixtures: the shipped corpus, a real Prometheus on 127.0.0.1 (Debian's package),
started on port 0 for the session, and the liveness stack (Prometheus scraping the real
node_exporter and closed ports). A missing peer fails, never skips."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = "/usr/bin/prometheus"


def corpus_dir() -> Path:
    """The corpus beside the repository (../shared/corpus), as CI lays it out."""
    for base in (REPO.parent / "shared" / "corpus", Path("/work/shared/corpus")):
        if base.is_dir():
            return base
    raise AssertionError("shared/corpus is missing: expected ../shared/corpus beside the repository")


def stop(proc: "subprocess.Popen[bytes]") -> None:
    """Stops a peer process: SIGTERM, then SIGKILL after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_dir()


class Prometheus:
    """A running Prometheus with its work folder, rule folder and base URL."""

    def __init__(self, work: Path, proc: "subprocess.Popen[bytes]", url: str) -> None:
        self.work = work
        self.rules_dir = work / "rules"
        self.proc = proc
        self.url = url


def spawn_listening(cmd: list[str], log_path: Path) -> "tuple[subprocess.Popen[bytes], str]":
    """Starts a peer that listens on 127.0.0.1:0 and logs `msg="Listening on" address=…`
    (Prometheus, node_exporter); returns it and its base URL once it logged the port."""
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"{cmd[0]} exited early:\n{log_path.read_text()}"
            m = re.search(rb'msg="Listening on" address=(127\.0\.0\.1:\d+)', log_path.read_bytes())
            if m:
                return proc, "http://" + m.group(1).decode()
            time.sleep(0.02)
        raise AssertionError(f"{cmd[0]} did not say which port it listens on within 30 s")
    except BaseException:
        stop(proc)
        raise


def wait_ready(url: str) -> None:
    """Polls Prometheus's `/-/ready` for 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("Prometheus was not ready within 30 s")


def require(binary: str, package: str) -> None:
    assert os.path.exists(binary), (
        f"{binary} is missing: these tests need the real peer; install Debian's "
        f"package: apt-get install -y --no-install-recommends {package}"
    )


def start_prometheus(work: Path, config: str) -> "tuple[subprocess.Popen[bytes], str]":
    """Prometheus with `config` in `work` (its data and log there), ready."""
    require(PROMETHEUS, "prometheus")
    (work / "data").mkdir()
    (work / "prometheus.yml").write_text(config)
    proc, url = spawn_listening(
        [
            PROMETHEUS,
            f"--config.file={work}/prometheus.yml",
            f"--storage.tsdb.path={work}/data",
            "--web.listen-address=127.0.0.1:0",
            "--web.enable-lifecycle",
        ],
        work / "prometheus.log",
    )
    try:
        wait_ready(url)
    except BaseException:
        stop(proc)
        raise
    return proc, url


@pytest.fixture(scope="session")
def prometheus() -> Iterator[Prometheus]:
    work = Path(tempfile.mkdtemp(prefix="ipocket-py-prom-"))
    (work / "rules").mkdir()
    try:
        proc, url = start_prometheus(
            work,
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n  - {work}/rules/*.yml\n"
            "scrape_configs: []\n",
        )
        try:
            yield Prometheus(work, proc, url)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"

# The liveness stack (as infra/testkit/src/liveness.rs): the instance-relabel trick gives
# loopback targets inventory-style addresses.
UP_IP, DOWN_IP, UNSCRAPED_IP, STRAY_IP = "10.9.8.7", "10.9.8.8", "10.9.8.9", "10.9.8.20"
LIVE_INVENTORY = {
    "app": "ipocket",
    "schema_version": "1",
    "data": {
        "projects": [{"name": "core"}],
        "ip_assets": [
            {"ip_address": UP_IP, "type": "OS", "project_name": "core"},
            {"ip_address": DOWN_IP, "type": "VM"},
            {"ip_address": UNSCRAPED_IP, "type": "VM"},
        ],
    },
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _job(name: str, target: str, instance: str, labels: str) -> str:
    return (
        f"  - job_name: {name}\n    static_configs:\n      - targets: ['{target}']\n"
        f"        labels: {{{labels}}}\n    relabel_configs:\n      - target_label: instance\n"
        f"        replacement: '{instance}'\n"
    )


def _query(url: str, q: str) -> list:  # type: ignore[type-arg]
    with urllib.request.urlopen(url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}), timeout=5) as r:
        return json.loads(r.read())["data"]["result"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def live_stack() -> Iterator[str]:
    """The real node_exporter and a Prometheus scraping it every second as job `node`
    (10.9.8.7:9100, labels project=web host=node-01, up) and `stray` (10.9.8.20:9100, up),
    and two closed ports as `wrongport` (10.9.8.7:9999) and `gone` (10.9.8.8:9100), both
    down; yields Prometheus's URL once every job was scraped and "last seen up" is known."""
    require(NODE_EXPORTER, "prometheus-node-exporter")
    work = Path(tempfile.mkdtemp(prefix="ipocket-py-live-"))
    try:
        node, node_url = spawn_listening(
            [NODE_EXPORTER, "--web.listen-address=127.0.0.1:0", "--no-collector.systemd"],
            work / "node.log",
        )
        try:
            node_addr = node_url.removeprefix("http://")
            config = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
            config += _job("node", node_addr, f"{UP_IP}:9100", "project: web, host: node-01")
            config += _job("wrongport", f"127.0.0.1:{closed_port()}", f"{UP_IP}:9999", "")
            config += _job("gone", f"127.0.0.1:{closed_port()}", f"{DOWN_IP}:9100", "")
            config += _job("stray", node_addr, f"{STRAY_IP}:9100", "")
            prom_work = work / "prometheus"
            prom_work.mkdir()
            proc, url = start_prometheus(prom_work, config)
            try:
                deadline = time.monotonic() + 30
                for q in (
                    "count(up == 1) == 2 and count(up == 0) == 2",
                    "count(last_over_time(timestamp(up == 1)[1h:1s])) == 2",
                ):
                    while not _query(url, q):
                        assert time.monotonic() < deadline, f"{q} not true within 30 s"
                        time.sleep(0.2)
                yield url
            finally:
                stop(proc)
        finally:
            stop(node)
    finally:
        shutil.rmtree(work, ignore_errors=True)


ADMIN_PASSWORD = "py-admin-password-1"


def ipocket_binary() -> Path:
    """The `ipocket` binary that `cargo test`/`cargo build` made (IPOCKET_BIN overrides)."""
    if os.environ.get("IPOCKET_BIN"):
        return Path(os.environ["IPOCKET_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "ipocket"


class IpocketServer:
    """A running `ipocket serve` on 127.0.0.1 with its SQLite file and base URL."""

    def __init__(self, proc: "subprocess.Popen[bytes]", url: str, db: Path) -> None:
        self.proc = proc
        self.url = url
        self.db = db

    def call(self, method: str, path: str, body: object, token: str = "") -> dict:  # type: ignore[type-arg]
        req = urllib.request.Request(
            self.url + path, method=method, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json",
                     **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def login(self, username: str, password: str) -> str:
        return str(self.call("POST", "/api/v1/auth/login",
                             {"username": username, "password": password})["access_token"])


@pytest.fixture()
def ipocket_server(tmp_path: Path) -> Iterator[IpocketServer]:
    """The real server from this repository on port 0 with a fresh SQLite file; fails when
    the binary was not built (`cargo build -p ipocket-cli`)."""
    binary = ipocket_binary()
    assert binary.exists(), f"{binary} is missing: build it with `cargo build -p ipocket-cli`"
    db = tmp_path / "server.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPOCKET_")}
    env["IPOCKET_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", "127.0.0.1:0", "--quiet", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for raw in proc.stdout:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", raw.decode())
            if m:
                url = m.group(1)
                break
        assert url, "ipocket serve exited before it listened"
        yield IpocketServer(proc, url, db)
    finally:
        stop(proc)
