//! The inventory's assets behaviours on both backends.
