"""Type stubs of the native extension (``ipocket._native``); import from ``ipocket``."""

import os
from typing import Any, Iterable, Iterator, Optional, Union, final

__all__: list[str]

_Data = Union[str, bytes, bytearray]
_Path = Union[str, os.PathLike[str]]

# ---- expfmt -------------------------------------------------------------------------

@final
class Exemplar:
    """An OpenMetrics exemplar: labels, value and optional timestamp."""

    def __new__(cls, labels: dict[str, str], value: float, timestamp_ms: Optional[int] = None) -> Exemplar: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def value(self) -> float: ...
    @property
    def timestamp_ms(self) -> Optional[int]: ...
    @property
    def timestamp(self) -> Optional[float]: ...

@final
class Sample:
    """One sample line: metric name, labels, value, optional timestamp and exemplar."""

    def __new__(
        cls,
        name: str,
        labels: dict[str, str],
        value: float,
        timestamp_ms: Optional[int] = None,
        exemplar: Optional[Exemplar] = None,
    ) -> Sample: ...
    @property
    def name(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def value(self) -> float: ...
    @property
    def timestamp_ms(self) -> Optional[int]: ...
    @property
    def timestamp(self) -> Optional[float]: ...
    @property
    def exemplar(self) -> Optional[Exemplar]: ...

@final
class MetricFamily:
    """A metric family: name, type, help, unit and its samples in input order."""

    def __new__(
        cls,
        name: str,
        type: str = "untyped",
        help: Optional[str] = None,
        unit: Optional[str] = None,
        samples: Optional[list[Sample]] = None,
    ) -> MetricFamily: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def help(self) -> Optional[str]: ...
    @property
    def unit(self) -> Optional[str]: ...
    @property
    def samples(self) -> list[Sample]: ...

@final
class SampleIterator:
    """A lazy iterator of samples; lenient errors collect in ``errors``."""

    def __iter__(self) -> SampleIterator: ...
    def __next__(self) -> Sample: ...
    @property
    def errors(self) -> list[Exception]: ...

@final
class FamilyIterator:
    """A lazy iterator of metric families."""

    def __iter__(self) -> FamilyIterator: ...
    def __next__(self) -> MetricFamily: ...

def parse(data: _Data, format: str = "text") -> list[Sample]:
    """Parses a whole exposition into samples; raises ``ParseError``."""

def parse_lenient(data: _Data, format: str = "text") -> tuple[list[Sample], list[Exception]]:
    """Parses leniently: good samples and one ``ParseError`` per bad line."""

def iter_samples(data: _Data, format: str = "text", lenient: bool = False) -> SampleIterator:
    """A lazy iterator of samples."""

def iter_families(data: _Data, format: str = "text") -> FamilyIterator:
    """A lazy iterator of metric families."""

def parse_families(data: _Data, format: str = "text") -> list[MetricFamily]:
    """Parses a whole exposition into metric families."""

def encode(families: Iterable[MetricFamily], format: str = "text") -> str:
    """Writes families in the text format or OpenMetrics."""

# ---- inventory ----------------------------------------------------------------------

@final
class PlannedItem:
    """The planned fate of one record of an import."""

    @property
    def entity(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def changes(self) -> list[dict[str, Optional[str]]]: ...
    @property
    def warnings(self) -> list[str]: ...

@final
class ImportPlan:
    """The dry run of an import; pass it to ``Inventory.apply``."""

    @property
    def source(self) -> str: ...
    @property
    def summary(self) -> dict[str, dict[str, int]]: ...
    @property
    def warnings(self) -> list[Any]: ...
    @property
    def items(self) -> list[PlannedItem]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def original_result(self) -> dict[str, Any]: ...
    def __len__(self) -> int: ...

@final
class Inventory:
    """The IP inventory in one SQLite file (or in memory)."""

    def __new__(cls, path: Optional[_Path] = None) -> Inventory: ...
    @staticmethod
    def open(path: _Path) -> Inventory: ...
    def schema_version(self) -> int: ...
    def create_ip_asset(
        self,
        ip_address: str,
        type: str = "OTHER",
        *,
        project_id: Optional[int] = None,
        host_id: Optional[int] = None,
        notes: Optional[str] = None,
        tags: Optional[list[str]] = None,
        auto_host_for_bmc: bool = False,
    ) -> dict[str, Any]: ...
    def ip_asset(self, ip_address: str) -> dict[str, Any]: ...
    def update_ip_asset(self, ip_address: str, **changes: Any) -> dict[str, Any]: ...
    def archive_ip_asset(self, ip_address: str) -> dict[str, Any]: ...
    def unarchive_ip_asset(self, ip_address: str) -> dict[str, Any]: ...
    def delete_ip_asset(self, ip_address: str) -> None: ...
    def list_ip_assets(
        self,
        *,
        ip: Optional[str] = None,
        project: Union[str, int, None] = None,
        unassigned_only: bool = False,
        type: Optional[str] = None,
        host: Optional[str] = None,
        tags_any: Optional[list[str]] = None,
        tags_all: Optional[list[str]] = None,
        tags_not: Optional[list[str]] = None,
        archived: str = "active",
        text: Optional[str] = None,
        offset: int = 0,
        limit: int = 100,
    ) -> dict[str, Any]: ...
    def users(self) -> list[dict[str, Any]]: ...
    def create_user(self, username: str, password: str, role: str = "Viewer") -> dict[str, Any]: ...
    def update_user(
        self,
        id: int,
        *,
        role: Optional[str] = None,
        is_active: Optional[bool] = None,
        password: Optional[str] = None,
    ) -> dict[str, Any]: ...
    def delete_user(self, id: int) -> None: ...
    def audit_log(
        self,
        *,
        target_type: Optional[str] = None,
        target_label: Optional[str] = None,
        offset: int = 0,
        limit: int = 100,
    ) -> dict[str, Any]: ...
    def projects(self) -> list[dict[str, Any]]: ...
    def create_project(
        self, name: str, description: Optional[str] = None, color: Optional[str] = None
    ) -> dict[str, Any]: ...
    def delete_project(self, id: int) -> None: ...
    def vendors(self) -> list[dict[str, Any]]: ...
    def create_vendor(self, name: str) -> dict[str, Any]: ...
    def tags(self) -> list[dict[str, Any]]: ...
    def create_tag(self, name: str, color: Optional[str] = None) -> dict[str, Any]: ...
    def hosts(self) -> list[dict[str, Any]]: ...
    def create_host(
        self, name: str, notes: Optional[str] = None, vendor_id: Optional[int] = None
    ) -> dict[str, Any]: ...
    def ip_ranges(self) -> list[dict[str, Any]]: ...
    def create_ip_range(self, name: str, cidr: str, notes: Optional[str] = None) -> dict[str, Any]: ...
    def delete_ip_range(self, id: int) -> None: ...
    def range_utilization(self, range_id: int) -> dict[str, Any]: ...
    def all_range_utilization(self) -> list[dict[str, Any]]: ...
    def range_addresses(self, range_id: int, offset: int = 0, limit: int = 256) -> list[dict[str, Any]]: ...
    def next_free_address(self, range_id: int) -> Optional[str]: ...
    def allocate_next(
        self,
        range_id: int,
        type: str = "OTHER",
        *,
        project_id: Optional[int] = None,
        notes: Optional[str] = None,
        tags: Optional[list[str]] = None,
    ) -> dict[str, Any]: ...
    def plan_import(
        self,
        data: Union[str, bytes],
        file_name: str = "bundle.json",
        *,
        discovered_at: Optional[str] = None,
        create_missing_projects: bool = False,
        create_missing_vendors: bool = False,
    ) -> ImportPlan: ...
    def plan_bundle(
        self,
        bundle: dict[str, Any],
        *,
        create_missing_projects: bool = False,
        create_missing_vendors: bool = False,
    ) -> ImportPlan: ...
    def apply(self, plan: ImportPlan) -> dict[str, Any]: ...
    def export(
        self,
        format: str = "bundle.json",
        *,
        include_archived: bool = False,
        type: Optional[str] = None,
        project: Optional[str] = None,
        host: Optional[str] = None,
        exported_at: Optional[str] = None,
    ) -> bytes: ...
    def metrics_text(self, format: str = "text") -> str: ...
    def sd_targets(
        self,
        *,
        port: int = 9100,
        metrics_path: Optional[str] = None,
        projects: Optional[list[str]] = None,
        types: Optional[list[str]] = None,
        tags: Optional[list[str]] = None,
        only_assigned: bool = False,
        group_by: str = "none",
        meta_labels: bool = True,
        labels: Optional[dict[str, str]] = None,
    ) -> list[dict[str, Any]]: ...

# ---- connectors ---------------------------------------------------------------------

@final
class PrometheusExtraction:
    """What one Prometheus query gave: the addresses found and the warnings."""

    @property
    def samples(self) -> int: ...
    @property
    def ips(self) -> list[dict[str, Any]]: ...
    @property
    def warnings(self) -> list[str]: ...
    def bundle(self) -> dict[str, Any]: ...
    def plan(self, inventory: Inventory) -> ImportPlan: ...
    def dry_run_report(self, plan: Union[ImportPlan, RemotePlan]) -> list[str]: ...
    def apply_report(self, plan: Union[ImportPlan, RemotePlan], audit_id: int) -> list[str]: ...

@final
class RemoteInventory:
    """A remote ipocket server (``ipocket serve``): its import API, dry run and apply."""

    def __new__(
        cls,
        url: str,
        token: Optional[str] = None,
        *,
        timeout: float = 30.0,
        insecure: bool = False,
        ca_file: Optional[_Path] = None,
    ) -> RemoteInventory: ...
    def plan(self, bundle: dict[str, Any]) -> RemotePlan: ...
    def apply(self, bundle: dict[str, Any]) -> RemotePlan: ...

@final
class RemotePlan:
    """A plan computed by a remote server, and its apply report when it was applied."""

    @property
    def summary(self) -> dict[str, dict[str, int]]: ...
    @property
    def applied(self) -> Optional[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class VcenterCollection:
    """What one vCenter run collected."""

    @property
    def hosts(self) -> list[dict[str, Any]]: ...
    @property
    def vms(self) -> list[dict[str, Any]]: ...
    @property
    def warnings(self) -> list[str]: ...
    def bundle(self) -> tuple[dict[str, Any], list[str]]: ...
    def plan(self, inventory: Inventory) -> ImportPlan: ...

def prometheus_fetch(
    prometheus_url: str,
    query: str,
    ip_label: str,
    *,
    asset_type: str = "OTHER",
    project_name: Optional[str] = None,
    tags: Optional[list[str]] = None,
    token: Optional[str] = None,
    insecure: bool = False,
    ca_file: Optional[_Path] = None,
    timeout: float = 30.0,
    keep_ipv6: bool = False,
    retries: int = 2,
) -> PrometheusExtraction:
    """Runs one instant query and extracts the addresses of ``ip_label``."""

def vcenter_collect(
    server: str,
    username: str,
    password: str,
    *,
    insecure: bool = False,
    ca_file: Optional[_Path] = None,
    timeout: float = 30.0,
) -> VcenterCollection:
    """Collects ESXi hosts and VMs from vCenter."""

def sd_write(
    source: Union[_Path, RemoteInventory],
    targets_file: _Path,
    *,
    port: int = 9100,
    metrics_path: Optional[str] = "/metrics",
    projects: Optional[list[str]] = None,
    types: Optional[list[str]] = None,
    tags: Optional[list[str]] = None,
    only_assigned: bool = False,
    group_by: str = "none",
    meta_labels: bool = True,
    labels: Optional[dict[str, str]] = None,
) -> dict[str, Any]:
    """Writes the file_sd targets of an inventory file or a ``RemoteInventory`` atomically."""

def write_file(path: _Path, data: bytes) -> str:
    """Writes ``data`` to ``path`` as ipocket writes every file (atomically, symlinks
    followed, devices refused, owner and mode kept); ``"created"``, ``"updated"`` or
    ``"unchanged"``."""

# ---- rulegen ------------------------------------------------------------------------

@final
class RuleStore:
    """Templates, rules, groups, targets and settings in SQLite."""

    def __new__(cls, path: Optional[_Path] = None) -> RuleStore: ...
    def create_group(self, name: str, description: str = "") -> dict[str, Any]: ...
    def groups(self) -> list[dict[str, Any]]: ...
    def create_target(self, hostname: str, address: str, group_ids: list[int] = ...) -> dict[str, Any]: ...
    def targets(self) -> list[dict[str, Any]]: ...
    def create_template(self, **fields: Any) -> dict[str, Any]: ...
    def templates(self) -> list[dict[str, Any]]: ...
    def create_rule(self, **fields: Any) -> dict[str, Any]: ...
    def rules(self, group_id: Optional[int] = None) -> list[dict[str, Any]]: ...

@final
class RuleGenerator:
    """Renders, validates and writes rule files into one folder."""

    def __new__(
        cls,
        rule_dir: _Path,
        prometheus_version: str = "2.42",
        *,
        backups: int = 3,
        promtool: Optional[_Path] = None,
    ) -> RuleGenerator: ...
    def validate(self, store: RuleStore, group_id: Optional[int] = None) -> dict[str, Any]: ...
    def generate(self, store: RuleStore, group_id: Optional[int] = None, dry_run: bool = False) -> dict[str, Any]: ...
    def reload(
        self,
        prometheus_url: str,
        *,
        timeout: float = 10.0,
        token: Optional[str] = None,
        ca_file: Optional[_Path] = None,
        insecure: bool = False,
    ) -> dict[str, Any]: ...
    def effective_rules(self, store: RuleStore, target: str) -> dict[str, Any]: ...

# ---- liveness and reconciliation ------------------------------------------------------

_Source = Union[_Path, Inventory, None]

def liveness(
    inventory: _Source,
    prometheus_url: str,
    *,
    token: Optional[str] = None,
    insecure: bool = False,
    ca_file: Optional[_Path] = None,
    timeout: float = 5.0,
    ip_label: str = "instance",
    keep_ipv6: bool = False,
    matchers: str = "",
    window: str = "30d",
    step: str = "5m",
    probes: bool = False,
) -> dict[str, Any]: ...
def reconcile(
    inventory: _Source,
    prometheus_url: str,
    *,
    token: Optional[str] = None,
    insecure: bool = False,
    ca_file: Optional[_Path] = None,
    timeout: float = 5.0,
    ip_label: str = "instance",
    keep_ipv6: bool = False,
    matchers: str = "",
    window: str = "30d",
    step: str = "5m",
    probes: bool = False,
    down_days: float = 30.0,
    project_label: str = "project",
    type_label: str = "type",
    host_label: str = "host",
    asset_type: str = "OTHER",
    project: Optional[str] = None,
) -> Reconciliation: ...
@final
class Reconciliation:
    """The three reconciliation lists, and their dry run and apply through the import engine."""

    @property
    def prometheus(self) -> dict[str, Any]: ...
    @property
    def unknown(self) -> list[dict[str, Any]]: ...
    @property
    def reclaimable(self) -> list[dict[str, Any]]: ...
    @property
    def mismatch(self) -> list[dict[str, Any]]: ...
    @property
    def down_after_seconds(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def plan(self, list: str, inventory: Optional[Inventory] = None) -> ImportPlan: ...
    def apply(self, list: str, inventory: Optional[Inventory] = None) -> dict[str, Any]: ...
