//! Prometheus text exposition format and OpenMetrics parser and encoder (in progress).
