"""Shared fixtures: the shipped corpus and a real Prometheus on 127.0.0.1 (Debian's
package), started on port 0 for the session. A missing Prometheus fails, never skips."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
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


@pytest.fixture(scope="session")
def prometheus() -> Iterator[Prometheus]:
    assert os.path.exists(PROMETHEUS), (
        f"{PROMETHEUS} is missing: these tests need the real Prometheus; install Debian's "
        "package: apt-get install -y --no-install-recommends prometheus"
    )
    work = Path(tempfile.mkdtemp(prefix="ipocket-py-prom-"))
    (work / "rules").mkdir()
    (work / "data").mkdir()
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {work}/rules/*.yml\n"
        "scrape_configs: []\n"
    )
    log = open(work / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={work}/prometheus.yml",
            f"--storage.tsdb.path={work}/data",
            "--web.listen-address=127.0.0.1:0",
            "--web.enable-lifecycle",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = ""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and not url:
            assert proc.poll() is None, (work / "prometheus.log").read_text()
            m = re.search(rb'msg="Listening on" address=(127\.0\.0\.1:\d+)', (work / "prometheus.log").read_bytes())
            if m:
                url = "http://" + m.group(1).decode()
            time.sleep(0.02)
        assert url, "Prometheus did not say which port it listens on within 30 s"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("Prometheus was not ready within 30 s")
        yield Prometheus(work, proc, url)
    finally:
        stop(proc)
        log.close()
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
