// ES module entry point: the same objects as the CommonJS entry (ipocket.cjs).
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./ipocket.cjs')

export const {
  ExpositionFormat,
  ImportPlan,
  Inventory,
  LivenessReport,
  MetricType,
  PrometheusClient,
  PrometheusExtraction,
  Reconciliation,
  RuleStore,
  SampleIterator,
  VcenterCollection,
  check,
  encode,
  encodeFamilies,
  fetchPrometheus,
  fetchVcenter,
  liveness,
  parse,
  parseColumns,
  parseFamilies,
  parseFamilyColumns,
  reconcile,
  samples,
  samplesFromColumns,
  writeSdFile,
} = native

export default native
