//! Support code for the `ipocket-benches` criterion benchmarks: finding (and, for the large
//! fleet file, generating) the parser corpus.
//!
//! The corpus lives in `shared/corpus` beside the workspace root (`../shared/corpus`), or in
//! the directory named by the `IPOCKET_CORPUS` environment variable. `fleet.prom` and
//! `fleet_basic.prom` are made by the corpus's `gen_fleet.py` on first use when they are not
//! already there; see `docs/benchmarks.md`.

use std::env;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment variable naming the corpus directory, overriding `../shared/corpus`.
pub const CORPUS_ENV: &str = "IPOCKET_CORPUS";

/// The corpus directory used when [`CORPUS_ENV`] is not set.
pub const DEFAULT_CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Why a corpus file could not be found or made.
#[derive(Debug)]
pub struct CorpusError(String);

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CorpusError {}

/// The corpus directory and where generated files go.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Directory holding `node_exporter.prom`, `prometheus_self.prom` and `gen_fleet.py`.
    pub dir: PathBuf,
    /// Directory where `fleet.prom` / `fleet_basic.prom` are written when missing from `dir`.
    pub generated_dir: PathBuf,
}

impl Corpus {
    /// Locates the corpus: `$IPOCKET_CORPUS` if set (generated files go there too), else
    /// `../shared/corpus` relative to the workspace root (generated files go to
    /// `<target dir>/ipocket-corpus`). Fails with a message naming the path it tried.
    pub fn locate() -> Result<Corpus, CorpusError> {
        let (dir, generated_dir) = match env::var_os(CORPUS_ENV) {
            Some(d) if !d.is_empty() => {
                let d = PathBuf::from(d);
                (d.clone(), d)
            }
            _ => (
                PathBuf::from(DEFAULT_CORPUS),
                target_dir().join("ipocket-corpus"),
            ),
        };
        if !dir.join("node_exporter.prom").is_file() {
            return Err(CorpusError(format!(
                "parser corpus not found: {} has no node_exporter.prom. Put the corpus \
                 (node_exporter.prom, prometheus_self.prom, gen_fleet.py) in ../shared/corpus \
                 beside the workspace root, or set {CORPUS_ENV} to its directory.",
                dir.display()
            )));
        }
        Ok(Corpus { dir, generated_dir })
    }

    /// Reads a file of the corpus directory, e.g. `node_exporter.prom`.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, CorpusError> {
        read(&self.dir.join(name))
    }

    /// Returns the path of a generated fleet file (`basic` selects `fleet_basic.prom`),
    /// running `python3 gen_fleet.py` to make it if it exists neither in the corpus directory
    /// nor in the generated-files directory.
    pub fn fleet(&self, basic: bool) -> Result<PathBuf, CorpusError> {
        let name = if basic {
            "fleet_basic.prom"
        } else {
            "fleet.prom"
        };
        for dir in [&self.dir, &self.generated_dir] {
            let path = dir.join(name);
            if path.is_file() {
                return Ok(path);
            }
        }
        let script = self.dir.join("gen_fleet.py");
        if !script.is_file() {
            return Err(CorpusError(format!(
                "cannot make {name}: {} is missing",
                script.display()
            )));
        }
        fs::create_dir_all(&self.generated_dir)
            .map_err(|e| CorpusError(format!("creating {}: {e}", self.generated_dir.display())))?;
        let path = self.generated_dir.join(name);
        // Write beside the final name, then rename, so that a concurrent or interrupted run
        // never leaves a truncated file behind.
        let tmp = self
            .generated_dir
            .join(format!("{name}.tmp{}", std::process::id()));
        eprintln!(
            "generating {} (python3 {} ...)",
            path.display(),
            script.display()
        );
        let mut cmd = Command::new("python3");
        cmd.arg(&script);
        if basic {
            cmd.arg("--basic");
        }
        cmd.arg("--out").arg(&tmp);
        let status = cmd
            .status()
            .map_err(|e| CorpusError(format!("cannot run python3 {}: {e}", script.display())))?;
        if !status.success() {
            let _ = fs::remove_file(&tmp);
            return Err(CorpusError(format!(
                "python3 {} --out {} failed: {status}",
                script.display(),
                tmp.display()
            )));
        }
        fs::rename(&tmp, &path).map_err(|e| {
            CorpusError(format!(
                "renaming {} to {}: {e}",
                tmp.display(),
                path.display()
            ))
        })?;
        Ok(path)
    }
}

/// Reads a whole file, with the path in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, CorpusError> {
    fs::read(path).map_err(|e| CorpusError(format!("reading {}: {e}", path.display())))
}

/// The cargo target directory of the running bench/test binary
/// (`<target>/<profile>/deps/<exe>`), or `./target` if that cannot be worked out.
fn target_dir() -> PathBuf {
    env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("target"))
}
