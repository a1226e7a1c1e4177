"""ipocket.liveness and ipocket.reconcile against the real Prometheus scraping the real
node_exporter (up) and closed loopback ports (down), with inventory-style addresses from the
instance-relabel trick (conftest.live_stack); and against a Prometheus that cannot answer."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import ipocket
from ipocket import InvalidInputError, Inventory, NotFoundError, Reconciliation, UnavailableError

from conftest import DOWN_IP, LIVE_INVENTORY, STRAY_IP, UNSCRAPED_IP, UP_IP, closed_port


# "Last seen up" at a 1 s resolution: with the default 5 min step, a Prometheus started
# seconds ago has no step point yet.
FAST: dict[str, Any] = {"window": "1h", "step": "1s"}


def documented(path: Path) -> Path:
    inv = Inventory(path)
    inv.apply(inv.plan_bundle(LIVE_INVENTORY))
    return path


def by_ip(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["ip"]: a for a in report["addresses"]}


def test_every_state_comes_from_the_real_stack(live_stack: str, tmp_path: Path) -> None:
    db = documented(tmp_path / "inv.db")
    report = ipocket.liveness(str(db), live_stack, **FAST)
    assert report["prometheus"]["reachable"] is True
    assert report["prometheus"]["error"] is None
    now = time.time()
    assert abs(report["prometheus"]["fetched_at"] - now) < 60
    a = by_ip(report)
    assert list(a) == [UP_IP, DOWN_IP, UNSCRAPED_IP, STRAY_IP], "IPv4 in numeric order"
    up = a[UP_IP]
    assert (up["state"], up["documented"]) == ("up", True)
    assert up["jobs"] == ["node", "wrongport"]
    assert up["instances"] == [f"{UP_IP}:9100", f"{UP_IP}:9999"]
    assert up["last_seen_up"] is not None and now - up["last_seen_up"] < 600
    assert (a[DOWN_IP]["state"], a[DOWN_IP]["last_seen_up"], a[DOWN_IP]["jobs"]) == ("down", None, ["gone"])
    assert (a[UNSCRAPED_IP]["state"], a[UNSCRAPED_IP]["jobs"]) == ("not_scraped", [])
    assert (a[STRAY_IP]["state"], a[STRAY_IP]["documented"]) == ("up", False)


def test_an_open_inventory_or_none(live_stack: str) -> None:
    inv = Inventory()
    inv.apply(inv.plan_bundle(LIVE_INVENTORY))
    assert by_ip(ipocket.liveness(inv, live_stack, **FAST))[UNSCRAPED_IP]["state"] == "not_scraped"
    # No inventory: only what Prometheus knows, all undocumented.
    alone = by_ip(ipocket.liveness(None, live_stack, matchers='job=~"node|gone"', **FAST))
    assert {ip: x["state"] for ip, x in alone.items()} == {UP_IP: "up", DOWN_IP: "down"}
    assert not any(x["documented"] for x in alone.values())


def test_the_three_lists_then_plan_and_apply_through_the_import_engine(live_stack: str, tmp_path: Path) -> None:
    db = documented(tmp_path / "inv.db")
    r = ipocket.reconcile(db, live_stack, down_days=0.01, **FAST)
    assert isinstance(r, Reconciliation)
    assert r.prometheus["reachable"] is True
    assert [u["ip"] for u in r.unknown] == [STRAY_IP]
    assert r.unknown[0]["jobs"] == ["stray"] and r.unknown[0]["archived"] is False
    assert [(x["ip"], x["state"]) for x in r.reclaimable] == [(DOWN_IP, "down"), (UNSCRAPED_IP, "not_scraped")]
    kinds = sorted((m["kind"], m["job"], m["inventory"], m["prometheus"]) for m in r.mismatch)
    assert kinds == [
        ("host", "node", None, "node-01"),
        ("never_up", "wrongport", None, "never up"),
        ("project", "node", "core", "web"),
    ]
    assert r.down_after_seconds == 864
    assert r.to_dict()["unknown"] == r.unknown
    assert "unknown=1, reclaimable=2, mismatch=3" in repr(r)

    taken = r.plan("mismatch")
    assert taken.source == "reconcile:mismatch"
    assert (taken.summary["ip_assets"]["update"], taken.summary["projects"]["create"]) == (1, 1)

    plan = r.plan("reclaimable")
    assert plan.source == "reconcile:reclaimable"
    assert plan.summary["ip_assets"]["update"] == 2
    changes = [(i.key, i.changes) for i in plan.items if i.entity == "ip_asset"]
    assert changes == [(ip, [{"field": "archived", "before": "false", "after": "true"}]) for ip in (DOWN_IP, UNSCRAPED_IP)]
    assert Inventory(db).ip_asset(DOWN_IP)["archived"] is False, "a plan writes nothing"

    applied = r.apply("unknown")
    assert applied["summary"]["ip_assets"]["create"] == 1
    inv = Inventory(db)
    stray = inv.ip_asset(STRAY_IP)
    assert stray["type"] == "OTHER" and "stray" in stray["notes"]
    runs = inv.audit_log(target_type="IMPORT_RUN")["items"]
    assert [(e["id"], e["target_label"], e["action"]) for e in runs][:1] == [
        (applied["import_run_audit_id"], "reconcile:unknown", "APPLY")
    ], runs

    # Planned on another inventory, applied by Inventory.apply: the same engine.
    other = Inventory()
    other.apply(other.plan_bundle(LIVE_INVENTORY))
    again = ipocket.reconcile(other, live_stack, down_days=0.01, asset_type="VM", **FAST)
    other.apply(again.plan("unknown"))
    assert other.ip_asset(STRAY_IP)["type"] == "VM"
    again.apply("reclaimable")
    assert other.ip_asset(UNSCRAPED_IP)["archived"] is True


def test_unreachable_prometheus_is_an_answer_not_an_exception(tmp_path: Path) -> None:
    db = documented(tmp_path / "inv.db")
    url = f"http://127.0.0.1:{closed_port()}"
    t = time.monotonic()
    report = ipocket.liveness(db, url, timeout=2)
    assert time.monotonic() - t < 2.5
    assert report["prometheus"]["reachable"] is False
    assert report["prometheus"]["error"].startswith("Prometheus unreachable: ")
    assert {a["state"] for a in report["addresses"]} == {"unknown"}
    assert len(report["addresses"]) == 3

    r = ipocket.reconcile(db, url, timeout=2)
    assert (r.unknown, r.reclaimable, r.mismatch) == ([], [], []), "an outage reclaims nothing"
    with pytest.raises(UnavailableError, match="nothing to plan or apply: Prometheus unreachable"):
        r.plan("reclaimable")
    with pytest.raises(UnavailableError):
        r.apply("unknown")


def test_a_prometheus_that_never_answers_is_unknown_at_the_timeout(tmp_path: Path) -> None:
    # Accepts connections (the kernel's backlog) and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        ticks = []
        stop = threading.Event()

        def tick() -> None:
            while not stop.is_set():
                ticks.append(1)
                time.sleep(0.01)

        other = threading.Thread(target=tick)
        other.start()
        t = time.monotonic()
        report = ipocket.liveness(documented(tmp_path / "inv.db"), url, timeout=0.5)
        elapsed = time.monotonic() - t
        stop.set()
        other.join()
        assert 0.4 < elapsed < 2, elapsed
        assert report["prometheus"]["error"].startswith("Prometheus unreachable: no answer"), report
        assert len(ticks) > 10, "the GIL is released while Prometheus is asked"
    finally:
        silent.close()


def test_bad_arguments_raise_located_errors(tmp_path: Path, live_stack: str) -> None:
    with pytest.raises(InvalidInputError, match="window") as e:
        ipocket.liveness(None, live_stack, window="5 minutes")
    assert e.value.field == "window"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError, match="must be at least the step"):
        ipocket.liveness(None, live_stack, window="1m", step="5m")
    with pytest.raises(InvalidInputError, match="ip_label"):
        ipocket.liveness(None, live_stack, ip_label=" ")
    with pytest.raises(InvalidInputError, match="timeout"):
        ipocket.liveness(None, live_stack, timeout=0)
    with pytest.raises(InvalidInputError):
        ipocket.liveness(None, "not a url")
    with pytest.raises(NotFoundError, match="missing.db"):
        ipocket.liveness(tmp_path / "missing.db", live_stack)
    assert not (tmp_path / "missing.db").exists(), "a mistyped path is not created"
    with pytest.raises(InvalidInputError, match="needs the inventory"):
        ipocket.reconcile(None, live_stack)
    with pytest.raises(InvalidInputError, match="down_days"):
        ipocket.reconcile(Inventory(), live_stack, down_days=-1)
    with pytest.raises(InvalidInputError):
        ipocket.reconcile(Inventory(), live_stack, asset_type="ROUTER")
    r = ipocket.reconcile(Inventory(), live_stack)
    with pytest.raises(InvalidInputError, match='expected "unknown", "reclaimable" or "mismatch"'):
        r.plan("everything")
