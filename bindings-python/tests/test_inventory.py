"""ipocket.Inventory: CRUD, queries, utilization, import plan/apply, export, metrics, SD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ipocket
from ipocket import Inventory, expfmt

BUNDLE = {
    "schema_version": "1",
    "data": {
        "projects": [{"name": "core"}],
        "ip_assets": [
            {"ip_address": "10.0.0.1", "type": "VM", "project_name": "core", "tags": ["prod"]},
            {"ip_address": "10.0.0.2", "type": "OS"},
        ],
    },
}


def test_crud_and_queries(tmp_path: Path) -> None:
    db = tmp_path / "inv.db"
    inv = Inventory(db)
    p = inv.create_project("core", "core services", "#112233")
    a = inv.create_ip_asset("10.0.0.5", "VM", project_id=p["id"], tags=["Prod", "edge"], notes="db")
    assert a["type"] == "VM" and a["tags"] == ["edge", "prod"] and a["project_name"] == "core"
    inv.create_ip_asset("2001:0DB8::1")
    assert inv.ip_asset("2001:db8::1")["type"] == "OTHER"
    u = inv.update_ip_asset("10.0.0.5", notes=None, type="OS")
    assert u["notes"] is None and u["type"] == "OS"
    with pytest.raises(ipocket.InvalidInputError) as e:
        inv.update_ip_asset("10.0.0.5", colour="red")
    assert e.value.field == "colour"
    assert inv.list_ip_assets(project="core")["total"] == 1
    assert inv.list_ip_assets(project=p["id"], tags_all=["edge", "prod"])["items"][0]["ip_address"] == "10.0.0.5"
    assert inv.list_ip_assets(ip="2001:db8::/64")["total"] == 1
    inv.archive_ip_asset("10.0.0.5")
    assert inv.list_ip_assets()["total"] == 1
    assert inv.list_ip_assets(archived="archived")["items"][0]["archived"] is True
    inv.unarchive_ip_asset("10.0.0.5")
    inv.delete_ip_asset("2001:db8::1")
    with pytest.raises(ipocket.NotFoundError) as nf:
        inv.ip_asset("2001:db8::1")
    assert isinstance(nf.value, LookupError) and nf.value.entity == "ip asset"
    with pytest.raises(ipocket.ConflictError):
        inv.create_ip_asset("10.0.0.5")
    with pytest.raises(ipocket.InvalidInputError) as bad:
        inv.create_ip_asset("10.0.0.256")
    assert bad.value.field == "ip_address"
    with pytest.raises(ipocket.InvalidInputError):
        inv.create_ip_asset("10.0.0.9", "vm")
    v = inv.create_vendor("Dell")
    h = inv.create_host("srv-1", vendor_id=v["id"])
    assert inv.hosts()[0]["vendor_name"] == "Dell" and h["name"] == "srv-1"
    assert inv.create_tag("Edge2")["name"] == "edge2"
    # the data is in the file
    assert Inventory.open(db).ip_asset("10.0.0.5")["project_name"] == "core"


def test_ranges_utilization_and_allocation() -> None:
    inv = Inventory()
    r = inv.create_ip_range("lab", "10.1.0.0/30")
    inv.create_ip_asset("10.1.0.1")
    u = inv.range_utilization(r["id"])
    assert (u["total"], u["usable"], u["used"], u["free"]) == (4, 2, 1, 1)
    assert inv.next_free_address(r["id"]) == "10.1.0.2"
    assert inv.allocate_next(r["id"], "VM")["ip_address"] == "10.1.0.2"
    with pytest.raises(ipocket.RangeFullError):
        inv.allocate_next(r["id"])
    assert [a["status"] for a in inv.range_addresses(r["id"])] == ["used", "used"]
    assert inv.all_range_utilization()[0]["percent"] == 100.0


def test_import_plan_is_python_objects_and_apply_writes_it() -> None:
    inv = Inventory()
    inv.create_ip_asset("10.0.0.2", "OS", notes="keep")
    plan = inv.plan_bundle(BUNDLE)
    assert isinstance(plan, ipocket.ImportPlan)
    assert plan.summary["ip_assets"] == {"create": 1, "update": 0, "skip": 1}
    assert plan.summary["projects"]["create"] == 1
    items = {(i.entity, i.key): i for i in plan.items}
    created = items[("ip_asset", "10.0.0.1")]
    assert created.action == "create" and created.location == "data.ip_assets[0]"
    assert {"field": "type", "before": None, "after": "VM"} in created.changes
    assert items[("ip_asset", "10.0.0.2")].action == "skip"
    assert plan.to_dict()["summary"]["total"]["create"] == 3  # project, tag, asset
    assert plan.original_result()["summary"]["ip_assets"]["would_create"] == 1
    assert inv.list_ip_assets()["total"] == 1, "planning writes nothing"
    report = inv.apply(plan)
    assert report["summary"]["ip_assets"]["create"] == 1 and report["import_run_audit_id"] > 0
    assert inv.ip_asset("10.0.0.1")["tags"] == ["prod"]


def test_stale_plan_is_refused() -> None:
    inv = Inventory()
    plan = inv.plan_bundle(BUNDLE)
    inv.create_ip_asset("10.0.0.1")
    with pytest.raises(ipocket.StalePlanError):
        inv.apply(plan)


def test_import_errors_are_all_located_and_nothing_is_written() -> None:
    inv = Inventory()
    bad = json.dumps(
        {"schema_version": "1", "data": {"ip_assets": [
            {"ip_address": "10.0.0.1", "type": "VM"},
            {"ip_address": "10.0.0.256", "type": "XX"},
        ]}}
    )
    with pytest.raises(ipocket.ImportValidationError) as e:
        inv.plan_import(bad)
    err = e.value
    assert isinstance(err, ValueError)
    assert [i.location for i in err.errors] == ["data.ip_assets[1].ip_address", "data.ip_assets[1].type"]
    assert "10.0.0.256" in err.errors[0].message
    assert inv.list_ip_assets()["total"] == 0


def test_csv_import_with_located_errors() -> None:
    inv = Inventory()
    head = "ip_address,type,project_name,host_name,tags,notes,archived\n"
    ok = head + "10.2.0.1,VM,,,,from csv,false\n"
    plan = inv.plan_import(ok.encode(), "ip-assets.csv")
    inv.apply(plan)
    assert inv.ip_asset("10.2.0.1")["notes"] == "from csv"
    with pytest.raises(ipocket.ImportValidationError) as e:
        inv.plan_import(head + "10.2.0.2,VM,,,,,false\nnope,VM,,,,,false\n", "ip-assets.csv")
    assert e.value.errors[0].location.startswith("ip-assets.csv:3")


def test_export_metrics_and_sd_targets() -> None:
    inv = Inventory()
    inv.apply(inv.plan_bundle(BUNDLE))
    bundle = json.loads(inv.export("bundle.json", exported_at="2026-01-01T00:00:00+00:00"))
    assert sorted(a["ip_address"] for a in bundle["data"]["ip_assets"]) == ["10.0.0.1", "10.0.0.2"]
    assert inv.export("ip-assets.csv").startswith(b"ip_address,type")
    assert inv.export("bundle.zip")[:2] == b"PK"
    with pytest.raises(ipocket.InvalidInputError):
        inv.export("everything.xml")
    text = inv.metrics_text()
    total = {s.name: s.value for s in expfmt.parse(text) if not s.labels}
    assert total["ipam_ip_total"] == 2
    assert expfmt.parse(inv.metrics_text("openmetrics"), "openmetrics")
    groups = inv.sd_targets(group_by="project", labels={"job": "node"}, port=9200)
    by_project = {g["labels"]["project"]: g for g in groups}
    assert by_project["core"]["targets"] == ["10.0.0.1:9200"]
    assert by_project["core"]["labels"]["job"] == "node"
    assert inv.sd_targets(only_assigned=True, meta_labels=False) == [
        {"targets": ["10.0.0.1:9100"], "labels": {"project": "core", "type": "VM"}}
    ]
    with pytest.raises(ipocket.InvalidInputError) as e:
        inv.sd_targets(group_by="rack")
    assert e.value.field == "group_by"


def test_database_errors_are_internal(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(ipocket.InternalError):
        Inventory(folder)


def test_users_and_the_audit_log(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.db")
    admin = inv.create_user("root", "secret-pw-1", "Admin")
    ed = inv.create_user("ed", "secret-pw-2", "Editor")
    assert ed == {"id": ed["id"], "username": "ed", "role": "Editor", "is_active": True}
    assert [u["username"] for u in inv.users()] == ["ed", "root"]
    with pytest.raises(ipocket.ConflictError):
        inv.create_user("ed", "other-pw-3")
    with pytest.raises(ipocket.InvalidInputError) as bad:
        inv.create_user("vi", "secret-pw-4", "Superuser")
    assert bad.value.field == "role"
    assert inv.update_user(ed["id"], role="Viewer", is_active=False)["role"] == "Viewer"
    with pytest.raises(ipocket.IpocketError, match="Admin"):
        inv.update_user(admin["id"], role="Viewer")  # the last active Admin stays
    inv.delete_user(ed["id"])
    with pytest.raises(ipocket.NotFoundError):
        inv.delete_user(ed["id"])

    inv.create_ip_asset("10.9.0.1", "VM")
    inv.update_ip_asset("10.9.0.1", notes="moved")
    log = inv.audit_log()
    assert log["total"] == 6
    assert [(e["target_type"], e["action"]) for e in log["items"][:2]] == [
        ("IP_ASSET", "UPDATE"), ("IP_ASSET", "CREATE")]
    history = inv.audit_log(target_label="10.9.0.1")
    assert history["total"] == 2 and history["items"][0]["changes"] == [
        {"field": "notes", "before": None, "after": "moved"}]
    users = inv.audit_log(target_type="USER", limit=2)
    assert users["total"] == 4 and len(users["items"]) == 2
    assert all(e["username"] is None for e in log["items"]), "written as the system actor"


def test_a_user_made_in_python_logs_in_to_the_server(ipocket_server) -> None:  # type: ignore[no-untyped-def]
    Inventory(ipocket_server.db).create_user("ed", "secret-pw-1", "Editor")
    token = ipocket_server.login("ed", "secret-pw-1")
    me = ipocket_server.call("GET", "/api/v1/auth/me", None, token)
    assert me["username"] == "ed" and me["role"] == "Editor"
