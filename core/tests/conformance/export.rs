//! The inventory's export behaviours on both backends.
