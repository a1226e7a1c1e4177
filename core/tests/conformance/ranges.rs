//! The inventory's ranges behaviours on both backends.
