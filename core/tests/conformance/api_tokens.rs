//! The inventory's api_tokens behaviours on both backends.
