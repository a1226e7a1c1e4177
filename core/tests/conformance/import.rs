//! The inventory's import behaviours on both backends.
