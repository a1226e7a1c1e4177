//! The inventory's query behaviours on both backends.
