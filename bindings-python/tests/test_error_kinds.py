"""The same failures as the Node suite (infra/errors/tests/binding_failures.json): each one
raises the kind and class that file names, so both modules classify alike."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Callable

import pytest

import ipocket
from ipocket import Inventory, expfmt
from ipocket.connectors import prometheus_fetch, sd_write
from ipocket.rulegen import RuleGenerator, RuleStore

TABLE = Path(__file__).resolve().parents[2] / "infra" / "errors" / "tests" / "binding_failures.json"
EXPECTED: dict[str, dict[str, str]] = json.loads(TABLE.read_text())["failures"]

BUNDLE = json.dumps({"app": "ipocket", "schema_version": "1", "data": {"ip_assets": [{"ip_address": "10.0.0.1", "type": "VM"}]}})
BAD_BUNDLE = json.dumps({"app": "ipocket", "schema_version": "1", "data": {"ip_assets": [{"ip_address": "nope", "type": "VM"}]}})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def stale_plan(_: Path) -> None:
    inv = Inventory()
    stale = inv.plan_import(BUNDLE.encode(), "bundle.json")
    inv.apply(inv.plan_import(BUNDLE.encode(), "bundle.json"))
    inv.apply(stale)


def duplicate_asset(_: Path) -> None:
    inv = Inventory()
    inv.create_ip_asset("10.0.0.3", "VM")
    inv.create_ip_asset("10.0.0.3", "VM")


def duplicate_group(_: Path) -> None:
    store = RuleStore()
    store.create_group("prod")
    store.create_group("prod")


CAUSES: dict[str, Callable[[Path], object]] = {
    "parse_error": lambda _: expfmt.parse('a{b="1" 1\n'),
    "asset_not_found": lambda _: Inventory().ip_asset("10.9.9.9"),
    "duplicate_asset": duplicate_asset,
    "bad_asset_type": lambda _: Inventory().create_ip_asset("10.0.0.4", "ROUTER"),
    "bad_bundle": lambda _: Inventory().plan_import(BAD_BUNDLE.encode(), "bundle.json"),
    "stale_plan": stale_plan,
    "sd_missing_inventory": lambda tmp: sd_write(tmp / "missing.db", tmp / "targets.json"),
    "duplicate_rule_group": duplicate_group,
    "prometheus_unreachable": lambda _: prometheus_fetch(
        f"http://127.0.0.1:{closed_port()}", "up", "instance", timeout=2, retries=0
    ),
    "reload_unreachable": lambda tmp: RuleGenerator(tmp).reload(f"http://127.0.0.1:{closed_port()}", timeout=2),
}


def test_every_failure_of_the_table_is_caused_here() -> None:
    assert set(CAUSES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failure_has_the_shared_kind_and_class(name: str, tmp_path: Path) -> None:
    with pytest.raises(ipocket.IpocketError) as e:
        CAUSES[name](tmp_path)
    assert e.value.kind == EXPECTED[name]["kind"], e.value
    assert type(e.value).__name__ == EXPECTED[name]["class"], e.value
