dts-header.d.ts
/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * The dry run of an import: what would be created, updated or skipped. Pass it to
 * `Inventory.apply` to write it.
 */
export declare class ImportPlan {
  /** Where the records came from (file name or connector). */
  get source(): string
  /** Create/update/skip counts per entity. */
  get summary(): ImportSummary
  /** Located warnings (`{ location, message }`). */
  get warnings(): Array<{ location: string; message: string }>
  /** Every planned record with its action and field changes. */
  items(): Array<PlannedItem>
}

/** An ipocket inventory in one SQLite file (or in memory). */
export declare class Inventory {
  /** Opens (and creates or migrates) the inventory file at `path`. */
  static open(path: string): Inventory
  /** A fresh inventory in memory (tests, scratch work). */
  static openInMemory(): Inventory
  /** The schema version of the file. */
  schemaVersion(): number
  /** Creates an IP asset. */
  createIpAsset(asset: NewIpAssetInput): IpAsset
  /** The asset with this address (throws `IPOCKET_NOT_FOUND`). */
  ipAsset(ip: string): IpAsset
  /** Changes fields of an asset. */
  updateIpAsset(ip: string, patch: IpAssetPatchInput): IpAsset
  /** Archives an asset (it stays in the file, out of default queries). */
  archiveIpAsset(ip: string): IpAsset
  /** Brings an archived asset back. */
  unarchiveIpAsset(ip: string): IpAsset
  /** Deletes an asset. */
  deleteIpAsset(ip: string): void
  /** Assets matching `query`, one page: `{ items, total }`. */
  listIpAssets(query?: AssetQuery | undefined | null): { items: Array<IpAsset>; total: number }
  /** Every project. */
  projects(): Array<Project>
  /** Creates a project. */
  createProject(name: string, description?: string | undefined | null, color?: string | undefined | null): Project
  /** Deletes a project (its assets become unassigned). */
  deleteProject(id: number): void
  /** Every host. */
  hosts(): Array<Host>
  /** Creates a host. */
  createHost(name: string, notes?: string | undefined | null, vendorId?: number | undefined | null): Host
  /** Deletes a host. */
  deleteHost(id: number): void
  /** Every vendor. */
  vendors(): Array<Vendor>
  /** Creates a vendor. */
  createVendor(name: string): Vendor
  /** Every tag. */
  tags(): Array<Tag>
  /** Creates a tag. */
  createTag(name: string, color?: string | undefined | null): Tag
  /** Every IP range. */
  ipRanges(): Array<IpRange>
  /** Creates an IP range from a CIDR. */
  createIpRange(name: string, cidr: string, notes?: string | undefined | null): IpRange
  /** How full a range is. Counts are numbers (exact up to 2^53 addresses). */
  rangeUtilization(rangeId: number): RangeUtilization
  /** The first free address of a range, or `null`. */
  nextFreeAddress(rangeId: number): string | null
  /**
   * Creates an asset on the first free address of a range (`ip_address` of the
   * template is ignored).
   */
  allocateNext(rangeId: number, template: NewIpAssetInput): IpAsset
  /**
   * Reads an import file (bundle `.json` / `.zip`, Nmap `.xml`, `hosts.csv`,
   * `ip-assets.csv`, …; the name picks the reader) and plans it against the inventory.
   * Nothing is written; bad input throws `IPOCKET_IMPORT_ERROR` with every located issue.
   */
  planImport(fileName: string, data: Input, options?: ImportInputOptions | undefined | null): ImportPlan
  /**
   * Writes a plan in one transaction (all or nothing). Throws `IPOCKET_STALE_PLAN`
   * when the inventory changed since the plan was made.
   */
  apply(plan: ImportPlan): ApplyReport
  /**
   * Exports in one of the formats named by their file name: `bundle.json`,
   * `bundle.zip`, `ip-assets.csv`, `ip-assets.json`, `hosts.csv`, …
   */
  export(fileName: string, options?: ExportInputOptions | undefined | null): Buffer
  /** The inventory gauges (`ipam_*`) as families of `{ labels, value }` samples. */
  metrics(): Array<InventoryMetricFamily>
  /** The inventory gauges as exposition text, ready for a `/metrics` answer. */
  renderMetrics(format?: ExpositionFormat | undefined | null): string
  /** Prometheus service-discovery target groups (`[{ targets, labels }]`). */
  sdTargetGroups(options?: SdInputOptions | undefined | null): Array<TargetGroup>
}

/** Prometheus's lifecycle and rules API (`/-/reload`, `/api/v1/rules`, health). */
export declare class PrometheusClient {
  /** A client of the Prometheus at `baseUrl` (e.g. `http://127.0.0.1:9090`). */
  constructor(baseUrl: string, options?: PrometheusClientOptions | undefined | null)
  /** `POST /-/reload`; resolves to the number of attempts it took. */
  reload(): Promise<number>
  /** Reloads, then polls `/api/v1/rules` until every expected group is loaded. */
  reloadAndConfirm(expectedGroups: Array<string>): Promise<ReloadReport>
  /** The rule groups Prometheus has loaded (`/api/v1/rules`). */
  ruleGroups(): Promise<Array<{ name: string; file: string; rules: string[] }>>
  /** Reachable, healthy, ready and version; never rejects. */
  status(): Promise<PrometheusStatus>
}

/**
 * The addresses one Prometheus query found, with the warnings; plan them against an
 * inventory or write them as a bundle file.
 */
export declare class PrometheusExtraction {
  /** Samples in the answer. */
  get samples(): number
  /** Addresses found, first occurrence order: `{ ip, metric, value, sample }`. */
  get ips(): Array<{ ip: string; metric: string; value: string; sample: number }>
  /** Skipped samples and Prometheus's own warnings. */
  get warnings(): Array<string>
  /** The bundle (schema version 1) file mode writes. */
  bundle(): Record<string, unknown>
  /** Writes the bundle as pretty JSON to `path`, atomically (file mode). */
  writeBundle(path: string): void
  /**
   * The dry run against an inventory (nothing is written; `inventory.apply(plan)`
   * writes it).
   */
  plan(inventory: Inventory): ImportPlan
  /** The connector's dry-run report lines for a plan of this extraction. */
  dryRunReport(plan: ImportPlan): Array<string>
}

/** Groups, targets, alert templates and rules, kept in one SQLite file. */
export declare class RuleStore {
  /** Opens (or creates) the rule store at `path`. */
  static open(path: string): RuleStore
  /** A fresh store in memory. */
  static openInMemory(): RuleStore
  /** Creates a group. */
  createGroup(name: string, description?: string | undefined | null): RuleGroupRecord
  /** Every group. */
  groups(): Array<RuleGroupRecord>
  /** Creates a target (a host name and address) in some groups. */
  createTarget(hostname: string, address: string, groupIds: Array<number>): RuleTarget
  /** Every target. */
  targets(): Array<RuleTarget>
  /**
   * Creates an alert template (`{ name, query_template, default_vars?, for_duration?,
   * severity?, labels?, annotations?, … }`).
   */
  createTemplate(template: NewAlertTemplate): AlertTemplate
  /** Every template. */
  templates(): Array<AlertTemplate>
  /**
   * Creates a rule: a template applied to a group with its own variables
   * (`{ group_id, template_id, vars?, severity?, … }`).
   */
  createRule(rule: NewAlertRule): AlertRule
  /** Every rule, or those of one group. */
  rules(groupId?: number | undefined | null): Array<AlertRule>
  /** The rule files a generation would write (validated; nothing is written). */
  plan(prometheusVersion?: string | undefined | null, groupId?: number | undefined | null): GenerationPlan
  /** The rules that apply to a target (by host name or address) through its groups. */
  effectiveRules(target: string, prometheusVersion?: string | undefined | null): Record<string, unknown>
  /**
   * Renders, validates and writes one rule file per group into `ruleDir` (atomically,
   * with backups); returns what changed with diffs. Nothing is written when any rule
   * is invalid (`IPOCKET_RULE_VALIDATION_ERROR` lists every issue).
   */
  generate(ruleDir: string, options?: GenerateOptions | undefined | null): GenerateReport
}

/**
 * Samples one at a time, for inputs too large to hold as one array of objects.
 *
 * It follows the iterator protocol (`next()` returns `{ done, value }`) and is iterable,
 * so `for (const s of samples(text)) …` works. A bad line throws from `next()`.
 */
export declare class SampleIterator {
  /** Starts reading `input` (copied once into native memory). */
  constructor(input: Input, options?: ParseOptions | undefined | null)
  /** The next sample as `{ done: false, value }`, or `{ done: true }` at the end. */
  next(): IteratorResult<Sample, undefined>
}

/** Which assets `listIpAssets` returns. */
export interface AssetQuery {
  /** An address or a CIDR prefix. */
  ip?: string
  /** Project name. */
  project?: string
  /** Only assets without project. */
  unassignedOnly?: boolean
  /** Asset type. */
  type?: string
  /** Host name. */
  host?: string
  /** Any of these tags. */
  tagsAny?: Array<string>
  /** All of these tags. */
  tagsAll?: Array<string>
  /** None of these tags. */
  tagsNot?: Array<string>
  /** `active` (default), `archived` or `all`. */
  archived?: string
  /** Text search over address, notes, host and project. */
  text?: string
  /** Rows to skip. */
  offset?: number
  /** Rows to return (default 100). */
  limit?: number
}

/** Checks every line (lenient mode) and returns every problem found; `[]` means valid. */
export declare function check(input: Input, options?: ParseOptions | undefined | null): Array<ParseProblem>

/** Writes samples (no HELP/TYPE lines) in the chosen format, escaping as the format says. */
export declare function encode(samples: Array<Sample>, options?: EncodeOptions | undefined | null): string

/** Writes metric families (HELP, TYPE, UNIT, samples) in the chosen format. */
export declare function encodeFamilies(families: Array<MetricFamily>, options?: EncodeOptions | undefined | null): string

/** Options of the encoder functions. */
export interface EncodeOptions {
  /** `text` (default) or `openmetrics`. */
  format?: ExpositionFormat
}

/** An exemplar attached to a sample (OpenMetrics). */
export interface Exemplar {
  /** Exemplar labels, in input order. */
  labels: Record<string, string>
  /** Exemplar value. */
  value: number
  /** Timestamp in milliseconds, if any. */
  timestampMs?: number
}

/** Options of `export`. */
export interface ExportInputOptions {
  /** Include archived assets. */
  includeArchived?: boolean
  /** Only this asset type. */
  type?: string
  /** Only this project (name). */
  project?: string
  /** Only this host (name). */
  host?: string
  /** The `exported_at` stamp of a bundle (default: now). */
  exportedAt?: string
}

/** The exposition format of an input or an output. */
export type ExpositionFormat = 'text' | 'openmetrics'

/**
 * Runs the query on Prometheus and extracts the addresses; resolves to a
 * `PrometheusExtraction`, rejects with `IPOCKET_HTTP_ERROR` / `IPOCKET_PROMETHEUS_ERROR`.
 */
export declare function fetchPrometheus(options: PrometheusConnectorOptions): Promise<PrometheusExtraction>

/** Options of `RuleStore.generate`. */
export interface GenerateOptions {
  /** Only compute the changes and diffs; write nothing. */
  dryRun?: boolean
  /** Only this group (id); default every group. */
  groupId?: number
  /** Prometheus version the files target, e.g. `2.42` (default). */
  prometheusVersion?: string
  /** Backups kept per file (`.bak`, `.bak.1`, …). */
  backups?: number
  /** Check each file with this promtool before writing it. */
  promtool?: string
}

/** Options of `planImport`. */
export interface ImportInputOptions {
  /** Create projects that records name but that do not exist. */
  createMissingProjects?: boolean
  /** Create vendors that hosts name but that do not exist. */
  createMissingVendors?: boolean
  /** `discovered_at` for Nmap XML notes (default: now). */
  discoveredAt?: string
}

/**
 * Fields to change on an IP asset; a missing key leaves the field as it is, `null`
 * clears it.
 */
export interface IpAssetPatchInput {
  /** New type. */
  type?: string
  /** New project id (`null` unassigns). */
  projectId?: number | undefined | null
  /** New host id (`null` detaches). */
  hostId?: number | undefined | null
  /** New notes (`null` clears). */
  notes?: string | undefined | null
  /** The new full tag list. */
  tags?: Array<string>
}

/** A metric family: its metadata and samples. */
export interface MetricFamily {
  /** Family name. */
  name: string
  /** Family type. */
  type: MetricType
  /** HELP text, if any. */
  help?: string
  /** UNIT (OpenMetrics), if any. */
  unit?: string
  /** The samples of the family. */
  samples: Array<Sample>
}

/** The type of a metric family (the TYPE line). */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown'

/** A new IP asset. */
export interface NewIpAssetInput {
  /** IPv4 or IPv6 address. */
  ipAddress: string
  /** `OS`, `BMC`, `VM`, `VIP` or `OTHER`. */
  type: string
  /** Project id. */
  projectId?: number
  /** Host id. */
  hostId?: number
  /** Free text. */
  notes?: string
  /** Tag names (created when missing). */
  tags?: Array<string>
  /** For a BMC without host: create a host named after the address. */
  autoHostForBmc?: boolean
}

/**
 * Parses a whole exposition into an array of samples; throws an `IPOCKET_PARSE_ERROR`
 * (with `line`, `column`, `snippet`) at the first bad line.
 */
export declare function parse(input: Input, options?: ParseOptions | undefined | null): Array<Sample>

/** Parses a whole exposition into metric families (metadata plus samples). */
export declare function parseFamilies(input: Input, options?: ParseOptions | undefined | null): Array<MetricFamily>

/** Options of the parser functions. */
export interface ParseOptions {
  /** `text` (default) or `openmetrics`. */
  format?: ExpositionFormat
}

/** A bad line reported by `check`. */
export interface ParseProblem {
  /** 1-based line. */
  line: number
  /** 1-based column, in characters. */
  column: number
  /** What is wrong. */
  message: string
  /** The offending line (shortened when long). */
  snippet: string
}

/** Options of the `PrometheusClient` constructor. */
export interface PrometheusClientOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number
}

/** What the Prometheus connector asks (`url`, `query` and `ipLabel` are what matter). */
export interface PrometheusConnectorOptions {
  /** Base URL, e.g. `http://127.0.0.1:9090`. */
  url: string
  /** PromQL instant query; its vector result carries the addresses. */
  query: string
  /** Label holding the address (`host:port` works); default `instance`. */
  ipLabel?: string
  /** Type of new assets (default `OTHER`; existing assets keep theirs). */
  type?: string
  /** Project of every asset (must exist). */
  project?: string
  /** Tags of every asset. */
  tags?: Array<string>
  /** Bearer token, or `user:password` for Basic auth. */
  token?: string
  /** Skip TLS certificate checks. */
  insecure?: boolean
  /** Extra PEM CA file. */
  caFile?: string
  /** Per-attempt timeout in milliseconds (default 30000). */
  timeoutMs?: number
  /** Import IPv6 addresses too. */
  keepIpv6?: boolean
  /** Retries after transport errors (default 2). */
  retries?: number
}

/** One sample, as `parse` returns it and `encode` takes it. */
export interface Sample {
  /** The sample's metric name (with `_bucket`, `_total`… suffixes). */
  name: string
  /** Labels, in input order. */
  labels: Record<string, string>
  /** The value (`NaN`, `Infinity` and `-Infinity` included). */
  value: number
  /** Timestamp in milliseconds, if the line had one. */
  timestampMs?: number
  /** Exemplar (OpenMetrics), if any. */
  exemplar?: Exemplar
}

/** An iterator over the samples of `input` (see `SampleIterator`). */
export declare function samples(input: Input, options?: ParseOptions | undefined | null): SampleIterator

/** Options of `sdTargetGroups` (Prometheus `file_sd` / `http_sd` target groups). */
export interface SdInputOptions {
  /** Port added to each address (default 9100). */
  port?: number
  /** `__metrics_path__` label, if any. */
  metricsPath?: string
  /** Only these projects (names). */
  projects?: Array<string>
  /** Only these asset types. */
  types?: Array<string>
  /** Only assets with any of these tags. */
  tags?: Array<string>
  /** Only assets with a project. */
  onlyAssigned?: boolean
  /** `single` (default), `project`, `project-type` or `asset`. */
  groupBy?: string
  /** Add `__meta_ipocket_*` labels (default true). */
  metaLabels?: boolean
  /** Labels added to every group. */
  labels?: Record<string, string>
}

/** What `writeSdFile` did. */
export interface SdWriteReport {
  /** Target groups written. */
  groups: number
  /** Targets in all groups. */
  targets: number
  /** False when the file already had this content (it is not rewritten). */
  written: boolean
}

/**
 * One cycle of the service-discovery updater: reads the inventory file at `db` and
 * writes its target groups to `targetsFile` (file_sd JSON, atomically, only when they
 * changed).
 */
export declare function writeSdFile(db: string, targetsFile: string, options?: SdInputOptions | undefined | null): SdWriteReport
