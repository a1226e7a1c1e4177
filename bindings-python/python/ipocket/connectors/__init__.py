"""Connectors: Prometheus (seed 000), vCenter, and the file_sd writer (seed 004).

Network calls run on one shared tokio runtime with the GIL released. The Prometheus
connector is also a command line: ``python -m ipocket.connectors.prometheus --help``.
"""

from ipocket._native import (
    PrometheusExtraction,
    VcenterCollection,
    prometheus_fetch,
    sd_write,
    vcenter_collect,
)

__all__ = [
    "PrometheusExtraction",
    "VcenterCollection",
    "prometheus_fetch",
    "sd_write",
    "vcenter_collect",
]
