//! The scrape agent (see `docs/agent.md`).
