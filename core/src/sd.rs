//! sd
