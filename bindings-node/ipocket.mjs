// ES module entry point: the same objects as the CommonJS entry (ipocket.cjs).
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./ipocket.cjs')

export const {
  ExpositionFormat,
  ImportPlan,
  Inventory,
  MetricType,
  PrometheusClient,
  PrometheusExtraction,
  RuleStore,
  SampleIterator,
  VcenterCollection,
  check,
  encode,
  encodeFamilies,
  fetchPrometheus,
  fetchVcenter,
  parse,
  parseColumns,
  parseFamilies,
  parseFamilyColumns,
  samples,
  samplesFromColumns,
  writeSdFile,
} = native

export default native
