//! The inventory's users behaviours on both backends.
