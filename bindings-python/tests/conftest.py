"""Shared fixtures: the shipped corpus and a real Prometheus on 127.0.0.1 (Debian's
package), started on port 0 for the session. A missing Prometheus fails, never skips."""

from __future__ import annotations

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
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)
