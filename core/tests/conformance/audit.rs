//! The inventory's audit behaviours on both backends.
