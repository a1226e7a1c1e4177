//! The inventory's metrics behaviours on both backends.
