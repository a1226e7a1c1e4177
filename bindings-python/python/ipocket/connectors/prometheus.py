"""The Prometheus connector's command line, flag for flag the original's
``python -m app.connectors.prometheus``::

    python -m ipocket.connectors.prometheus --prometheus-url http://127.0.0.1:9090 \\
        --query 'up{job="node"}' --ip-label instance --mode file --output bundle.json

``--mode file`` writes the import bundle; ``dry-run`` and ``apply`` run the import engine
on a local inventory (``--db``) or, with ``--ipocket-url``/``--ipocket-token``, on a remote
ipocket server (see :func:`remote_import`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence

from ipocket._native import (
    Inventory,
    PrometheusExtraction,
    RemoteInventory,
    prometheus_fetch,
    write_file,
)
from ipocket.errors import IpocketError

ASSET_TYPES = ("OS", "BMC", "VM", "VIP", "OTHER")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (the original's flags, plus ``--db`` for a local inventory)."""
    p = argparse.ArgumentParser(
        prog="python -m ipocket.connectors.prometheus",
        description="Import the IPs found in one label of a Prometheus instant query.",
    )
    p.add_argument("--prometheus-url", required=True, help="Prometheus base URL (http://host:port)")
    p.add_argument("--query", required=True, help="PromQL expression (the result must be a vector)")
    p.add_argument("--ip-label", required=True, help="label holding the IP, host:port or [v6]:port")
    p.add_argument("--asset-type", default="OTHER", choices=ASSET_TYPES,
                   help="type of new assets (existing assets keep theirs)")
    p.add_argument("--project-name", "--project", dest="project_name", default=None,
                   help="project of every asset (must exist)")
    p.add_argument("--tags", default=None, help="comma-separated tags of every asset")
    p.add_argument("--token", default=os.environ.get("IPOCKET_PROMETHEUS_TOKEN"),
                   help="Bearer token, or user:password for Basic auth")
    p.add_argument("--insecure", action="store_true", help="skip TLS certificate verification")
    p.add_argument("--ca-file", default=None, help="also trust the PEM certificate(s) in this file")
    p.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    p.add_argument("--keep-ipv6", action="store_true", help="import IPv6 addresses instead of skipping them")
    p.add_argument("--mode", default="dry-run", choices=("file", "dry-run", "apply"))
    p.add_argument("--output", default=None, help="bundle file for --mode file ('-' for stdout)")
    p.add_argument("--db", default=os.environ.get("IPOCKET_DB"),
                   help="local inventory for dry-run and apply")
    p.add_argument("--ipocket-url", default=os.environ.get("IPOCKET_URL"),
                   help="remote ipocket server (ipocket serve) for dry-run and apply, instead of --db")
    p.add_argument("--ipocket-token", default=os.environ.get("IPOCKET_TOKEN"),
                   help="API token of the remote ipocket server")
    p.add_argument("--json", action="store_true", help="print the engine's plan as JSON")
    return p


def remote_import(
    extraction: PrometheusExtraction,
    *,
    ipocket_url: str,
    ipocket_token: Optional[str],
    apply: bool,
    as_json: bool = False,
    timeout: float = 30.0,
) -> list[str]:
    """Sends the bundle to a remote ipocket server's import API (dry run or apply) and
    returns the lines to print: the same dry-run report (or ``--json`` plan) as a local
    inventory gives, then the apply line. This is the one place remote mode goes through.
    """
    if not ipocket_token or not ipocket_token.strip():
        raise IpocketError(
            "--ipocket-url needs --ipocket-token TOKEN (or IPOCKET_TOKEN): "
            "the server's import API requires a login"
        )
    server = RemoteInventory(ipocket_url, ipocket_token, timeout=timeout)
    bundle = extraction.bundle()
    plan = server.apply(bundle) if apply else server.plan(bundle)
    applied: Any = plan.applied if apply else None
    if as_json:
        return [json.dumps(plan.to_dict(), indent=2)]
    if applied is not None:
        return extraction.apply_report(plan, applied["import_run_audit_id"])
    return extraction.dry_run_report(plan)


def run(args: argparse.Namespace) -> int:
    """Runs the connector as the parsed ``args`` say; returns the exit status."""
    if args.mode == "file" and not args.output:
        raise IpocketError("--mode file needs --output PATH (or -)")
    if args.mode != "file" and args.ipocket_url and args.db:
        raise IpocketError(
            "give either --db PATH (a local inventory) or --ipocket-url URL (a remote ipocket "
            "server), not both (is IPOCKET_DB set?)"
        )
    if args.mode != "file" and not args.ipocket_url and not args.db:
        raise IpocketError("--mode dry-run and apply need --db PATH (a local inventory) or --ipocket-url")
    tags = [t.strip() for t in (args.tags or "").split(",") if t.strip()]
    x = prometheus_fetch(
        args.prometheus_url,
        args.query,
        args.ip_label,
        asset_type=args.asset_type,
        project_name=args.project_name,
        tags=tags,
        token=args.token,
        insecure=args.insecure,
        ca_file=args.ca_file,
        timeout=args.timeout,
        keep_ipv6=args.keep_ipv6,
    )
    print(
        f"Collected {len(x.ips)} IP(s) from {x.samples} sample(s) of Prometheus query "
        f"'{args.query}' (label '{args.ip_label}')",
        file=sys.stderr,
    )
    if args.mode == "file":
        for w in x.warnings:
            print(f"warning: {w}", file=sys.stderr)
        data = (json.dumps(x.bundle(), indent=2) + "\n").encode()
        if args.output == "-":
            sys.stdout.write(data.decode())
        else:
            write_file(args.output, data)
            print(f"Wrote bundle with {len(x.ips)} IP asset(s) to {args.output}", file=sys.stderr)
        return 0
    if args.ipocket_url:
        for line in remote_import(x, ipocket_url=args.ipocket_url, ipocket_token=args.ipocket_token,
                                  apply=args.mode == "apply", as_json=args.json,
                                  timeout=args.timeout):
            print(line)
        return 0
    inv = Inventory(args.db)
    plan = x.plan(inv)
    # Applied first, so the report says what happened.
    report: Any = inv.apply(plan) if args.mode == "apply" else None
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2))
    elif report is not None:
        for line in x.apply_report(plan, report["import_run_audit_id"]):
            print(line)
    else:
        for line in x.dry_run_report(plan):
            print(line)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: parses ``argv``; errors go to stderr with exit status 1."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except IpocketError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
