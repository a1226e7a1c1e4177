//! The address `ipocket serve` prints once it listens (tests start it on port 0).

use std::io::{BufRead, BufReader};
use std::process::ChildStdout;

/// Reads the server's standard output up to its `listening on http://ADDR` line and returns
/// ADDR with every line read on the way (the bootstrap-admin line comes before it). Panics
/// when the server exits first.
pub fn read_listen_addr(stdout: &mut BufReader<ChildStdout>) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "ipocket serve exited before it listened: {lines:?}"
        );
        let addr = line
            .split("listening on http://")
            .nth(1)
            .map(|rest| rest.split_whitespace().next().unwrap().to_string());
        lines.push(line);
        if let Some(addr) = addr {
            return (addr, lines);
        }
    }
}
