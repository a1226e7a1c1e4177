//! Writes a synthetic bundle (see `import::synthetic_bundle_json`) to standard
//! output, for timing `ipocket import` on a file:
//! `cargo run --release -p ipocket-core --example synthetic_bundle -- 1000000 first > big.json`.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let note = args.next().unwrap_or_else(|| "first".into());
    let doc = ipocket_core::import::synthetic_bundle_json(n, &note);
    std::io::stdout().lock().write_all(&doc)?;
    Ok(())
}
