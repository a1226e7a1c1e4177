//! The inventory's sessions behaviours on both backends.
