//! The inventory's sd behaviours on both backends.
