"""Connectors: Prometheus (seed 000), vCenter, the file_sd writer (seed 004),
:func:`write_file` (how ipocket writes every file, docs/files.md),
and :class:`RemoteInventory`, a remote ipocket server's import API for ``--ipocket-url``.

Network calls run on one shared tokio runtime with the GIL released. The Prometheus
connector is also a command line: ``python -m ipocket.connectors.prometheus --help``.
"""

from ipocket._native import (
    PrometheusExtraction,
    RemoteInventory,
    RemotePlan,
    VcenterCollection,
    prometheus_fetch,
    sd_write,
    vcenter_collect,
    write_file,
)

__all__ = [
    "PrometheusExtraction",
    "RemoteInventory",
    "RemotePlan",
    "VcenterCollection",
    "prometheus_fetch",
    "sd_write",
    "vcenter_collect",
    "write_file",
]
