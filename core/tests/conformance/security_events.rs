//! The inventory's security_events behaviours on both backends.
