"""ipocket.rulegen: store, validation (located issues), generation, effective rules, and a
confirmed reload of a real Prometheus."""

from __future__ import annotations

from pathlib import Path

import pytest

import ipocket
from ipocket.rulegen import RuleGenerator, RuleStore


def make_store() -> tuple[RuleStore, int]:
    store = RuleStore()
    g = store.create_group("prod", "production")
    store.create_target("db-01", "10.0.0.5", [g["id"]])
    t = store.create_template(
        name="HighCpu",
        query_template='avg by (instance) (rate(node_cpu_seconds_total{mode!="idle",group_id="{{.group_id}}"}[5m])) * 100 > {{.threshold}}',
        default_vars={"threshold": "80"},
        for_duration="5m",
    )
    store.create_rule(group_id=g["id"], template_id=t["id"], vars={"threshold": "90"})
    return store, g["id"]


def test_generate_writes_one_file_per_group(tmp_path: Path) -> None:
    store, gid = make_store()
    gen = RuleGenerator(tmp_path / "rules")
    plan = gen.validate(store)
    assert "> 90" in plan["files"][0]["content"]
    preview = gen.generate(store, dry_run=True)
    assert preview["dry_run"] and preview["changes"][0]["action"] == "create"
    assert not (tmp_path / "rules" / f"group-{gid}.yml").exists()
    report = gen.generate(store)
    assert (tmp_path / "rules" / f"group-{gid}.yml").read_text() == plan["files"][0]["content"]
    assert gen.generate(store)["changes"][0]["action"] == "unchanged"
    eff = gen.effective_rules(store, "db-01")
    assert eff["rules"][0]["source"]["group_name"] == "prod"
    assert report["changes"][0]["rule_count"] == 1


def test_invalid_rules_raise_with_every_issue_located(tmp_path: Path) -> None:
    store = RuleStore()
    g = store.create_group("prod")
    t = store.create_template(name="Broken", query_template="rate(up[5m] > ")
    store.create_rule(group_id=g["id"], template_id=t["id"])
    with pytest.raises(ipocket.RuleValidationError) as e:
        RuleGenerator(tmp_path).generate(store)
    issue = e.value.issues[0]
    assert issue.field == "expr" and '"prod"' in issue.location
    assert not list(tmp_path.iterdir()), "nothing is written"


def test_store_input_errors() -> None:
    store = RuleStore()
    store.create_group("prod")
    with pytest.raises(ipocket.ConflictError):
        store.create_group("prod")
    with pytest.raises(ipocket.InvalidInputError):
        store.create_template(name="x")  # no query_template
    with pytest.raises(ipocket.NotFoundError):
        RuleGenerator("/nonexistent").effective_rules(store, "nobody")
    with pytest.raises(ipocket.InvalidInputError):
        RuleGenerator("/tmp", "two.x")


def test_reload_is_confirmed_by_the_real_prometheus(prometheus) -> None:  # type: ignore[no-untyped-def]
    store, _ = make_store()
    gen = RuleGenerator(prometheus.rules_dir, promtool="/usr/bin/promtool")
    gen.generate(store)
    report = gen.reload(prometheus.url)
    assert "prod" in str(report)
    with pytest.raises(ipocket.UnavailableError):
        gen.reload("http://127.0.0.1:1", timeout=2)
