"""ipocket.connectors.vcenter_collect against a local server that answers the documented
vSphere Automation REST shapes (no vCenter runs here), then the engine's plan."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from typing import Iterator

import pytest

import ipocket
from ipocket import Inventory
from ipocket.connectors import vcenter_collect

SESSION = "5e55104d"
BASIC = "Basic " + base64.b64encode(b"administrator@vsphere.local:s3cret").decode()

ROUTES = {
    "/api/vcenter/host": [{"host": "host-10", "name": "10.60.0.11", "connection_state": "CONNECTED"}],
    "/api/vcenter/vm?hosts=host-10": [{"vm": "vm-42", "name": "web-01", "power_state": "POWERED_ON"}],
    "/api/vcenter/vm": [{"vm": "vm-42", "name": "web-01", "power_state": "POWERED_ON"}],
    "/api/vcenter/vm/vm-42/guest/networking/interfaces": [
        {"mac_address": "00:50:56:aa:bb:01", "nic": "4000", "state": "CONNECTED",
         "ip": {"ip_addresses": [{"ip_address": "fe80::1", "prefix_length": 64, "state": "UNKNOWN"},
                                 {"ip_address": "10.60.1.21", "prefix_length": 24, "state": "PREFERRED"}]}}
    ],
}


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if self.path == "/api/session" and self.headers.get("Authorization") == BASIC:
            self.reply(201, SESSION)
        else:
            self.reply(401, {"error_type": "UNAUTHENTICATED", "messages": []})

    def do_DELETE(self) -> None:
        self.reply(204, None)

    def do_GET(self) -> None:
        if self.headers.get("vmware-api-session-id") != SESSION:
            self.reply(401, {"error_type": "UNAUTHENTICATED", "messages": []})
        elif self.path in ROUTES:
            self.reply(200, ROUTES[self.path])
        else:
            self.reply(404, {"error_type": "NOT_FOUND", "messages": []})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def vcenter() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_collect_maps_hosts_and_vms_and_plans_an_import(vcenter: str) -> None:
    c = vcenter_collect(vcenter, "administrator@vsphere.local", "s3cret", timeout=5)
    assert c.hosts == [{"id": "host-10", "name": "10.60.0.11"}]
    assert c.vms[0]["name"] == "web-01" and c.vms[0]["host_name"] == "10.60.0.11"
    assert "10.60.1.21" in c.vms[0]["ips"]
    bundle, _warnings = c.bundle()
    types = {a["ip_address"]: a["type"] for a in bundle["data"]["ip_assets"]}
    assert types == {"10.60.0.11": "OS", "10.60.1.21": "VM"}
    inv = Inventory()
    plan = c.plan(inv)
    assert plan.summary["ip_assets"]["create"] == 2
    inv.apply(plan)
    assert inv.ip_asset("10.60.1.21")["type"] == "VM"


def test_refused_login_is_an_unavailable_peer(vcenter: str) -> None:
    with pytest.raises(ipocket.UnavailableError) as e:
        vcenter_collect(vcenter, "administrator@vsphere.local", "wrong", timeout=5)
    assert e.value.kind == "unavailable" and e.value.status == 401
    assert "login refused" in e.value.message


def test_no_answer_is_an_unavailable_peer() -> None:
    with pytest.raises(ipocket.UnavailableError) as e:
        vcenter_collect("http://127.0.0.1:1", "u", "p", timeout=2)
    assert e.value.status is None
