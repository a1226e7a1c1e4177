//! The durable on-disk buffer: one file per scrape, written with [`ipocket_files`] (a temp
//! file, fsync, rename into place, folder fsync), so a file either is complete or does not
//! exist. Every scrape is a whole new file, never an append to a log, so the rename-write
//! fits; the helper's per-write folder scan for leftovers is off (the folder holds many
//! files) and [`DiskBuffer::open`] removes torn temp files once instead.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use ipocket_expfmt::Format;

/// One buffered scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferedScrape {
    /// The file.
    pub path: PathBuf,
    /// Scrape time, ms since the epoch.
    pub taken_at_ms: i64,
    /// Sequence number (orders scrapes of the same millisecond).
    pub seq: u64,
    /// The endpoint name.
    pub endpoint: String,
    /// Text or OpenMetrics.
    pub format: Format,
    /// Size in bytes.
    pub bytes: u64,
}

/// What [`DiskBuffer::open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenReport {
    /// Complete scrapes found, to be pushed.
    pub recovered: usize,
    /// Temp files of writes cut short (a crash or kill -9 mid-write), removed.
    pub torn_removed: usize,
    /// Files whose names are not ours, left alone.
    pub ignored: usize,
}

/// Counts of scrapes dropped by [`DiskBuffer::enforce_limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dropped {
    /// Dropped (oldest first) because the buffer was over its size limit.
    pub size: u64,
    /// Dropped because older than the retention.
    pub age: u64,
}

#[derive(Debug, Default)]
struct State {
    entries: BTreeMap<(i64, u64), BufferedScrape>,
    total_bytes: u64,
    next_seq: u64,
}

/// A folder of buffered scrapes, oldest first. Safe to share between threads.
#[derive(Debug)]
pub struct DiskBuffer {
    dir: PathBuf,
    max_bytes: u64,
    retention: Duration,
    /// fsync each write (the agent's buffer); see [`DiskBuffer::with_fsync`].
    fsync: bool,
    state: Mutex<State>,
}

fn ext(format: Format) -> &'static str {
    match format {
        Format::Text => "prom",
        Format::OpenMetrics => "om",
    }
}

/// `<ms>-<seq>-<endpoint>.<prom|om>`
fn parse_name(name: &str) -> Option<(i64, u64, String, Format)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let format = match ext {
        "prom" => Format::Text,
        "om" => Format::OpenMetrics,
        _ => return None,
    };
    let mut parts = stem.splitn(3, '-');
    let ts = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let endpoint = parts.next()?.to_string();
    (!endpoint.is_empty()).then_some((ts, seq, endpoint, format))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// What a buffer folder holds, read by [`DiskBuffer::status`] without changing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferStatus {
    /// Complete scrapes waiting to be pushed.
    pub scrapes: usize,
    /// Their bytes.
    pub bytes: u64,
    /// The oldest one's scrape time (ms since the epoch).
    pub oldest_ms: Option<i64>,
    /// Temp files: a running agent's writes in flight, or writes torn by a crash (which the
    /// agent removes when it starts).
    pub temp_files: usize,
}

/// One pass over the folder: the complete scrapes and the temp files.
#[derive(Default)]
struct Scan {
    state: State,
    temp_files: Vec<PathBuf>,
    ignored: usize,
}

fn scan(dir: &Path) -> io::Result<Scan> {
    let mut found = Scan::default();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // `.tmp-…` is the temp name of versions before ipocket-files.
        if ipocket_files::is_temp_file_name(&name) || name.starts_with(".tmp-") {
            found.temp_files.push(entry.path());
            continue;
        }
        let Some((ts, seq, endpoint, format)) = parse_name(&name) else {
            found.ignored += 1;
            continue;
        };
        let bytes = match entry.metadata() {
            Ok(m) => m.len(),
            // Pushed and removed by a running agent since the listing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let state = &mut found.state;
        state.total_bytes += bytes;
        state.next_seq = state.next_seq.max(seq + 1);
        state.entries.insert(
            (ts, seq),
            BufferedScrape {
                path: entry.path(),
                taken_at_ms: ts,
                seq,
                endpoint,
                format,
                bytes,
            },
        );
    }
    Ok(found)
}

impl DiskBuffer {
    /// What the buffer folder `dir` holds, strictly read-only: safe beside the running agent
    /// that owns it (`ipocket agent --status`). Nothing is created, removed or renamed; a
    /// missing folder holds nothing.
    ///
    /// ```
    /// use ipocket_connectors::agent::{BufferStatus, DiskBuffer};
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("0000000001000-0000000000-node.prom"), "up 1\n")?;
    /// let in_flight = dir.path().join(".0000000002000-0000000001-node.prom.ipocket-tmp-0123456789abcdef");
    /// std::fs::write(&in_flight, "up")?;
    /// let s = DiskBuffer::status(dir.path())?;
    /// assert_eq!(s, BufferStatus { scrapes: 1, bytes: 5, oldest_ms: Some(1000), temp_files: 1 });
    /// assert!(in_flight.exists());
    /// assert_eq!(DiskBuffer::status(dir.path().join("none"))?, BufferStatus::default());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn status(dir: impl AsRef<Path>) -> io::Result<BufferStatus> {
        let found = match scan(dir.as_ref()) {
            Ok(found) => found,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BufferStatus::default()),
            Err(e) => return Err(e),
        };
        Ok(BufferStatus {
            scrapes: found.state.entries.len(),
            bytes: found.state.total_bytes,
            oldest_ms: found.state.entries.values().next().map(|e| e.taken_at_ms),
            temp_files: found.temp_files.len(),
        })
    }

    /// Opens (creating) the buffer folder: complete scrapes are kept for pushing, temp files
    /// of interrupted writes are removed. Only the agent that owns the folder opens it (its
    /// writes in flight are temp files too); [`DiskBuffer::status`] only looks.
    pub fn open(
        dir: impl Into<PathBuf>,
        max_bytes: u64,
        retention: Duration,
    ) -> io::Result<(DiskBuffer, OpenReport)> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        let Scan {
            state,
            temp_files,
            ignored,
        } = scan(&dir)?;
        for torn in &temp_files {
            remove_quiet(torn)?;
        }
        let report = OpenReport {
            recovered: state.entries.len(),
            torn_removed: temp_files.len(),
            ignored,
        };
        if report.torn_removed > 0 {
            sync_dir(&dir)?;
        }
        Ok((
            DiskBuffer {
                dir,
                max_bytes,
                retention,
                fsync: true,
                state: Mutex::new(state),
            },
            report,
        ))
    }

    /// Whether each write is fsynced (default: yes). Off, a write is still atomic and
    /// survives a crash of the process but not a power cut; the server's remote_write queue
    /// turns it off, to be exactly as durable as the samples store it sits beside.
    pub fn with_fsync(mut self, yes: bool) -> DiskBuffer {
        self.fsync = yes;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one scrape durably (temp file, fsync, rename, fsync folder). Returns when the
    /// data is on disk. Limits are not enforced here; see [`DiskBuffer::enforce_limits`].
    pub fn append(
        &self,
        endpoint: &str,
        format: Format,
        taken_at_ms: i64,
        data: &[u8],
    ) -> io::Result<BufferedScrape> {
        let name_ok = !endpoint.is_empty()
            && endpoint
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("endpoint name {endpoint:?}: expected letters, digits, _ and -"),
            ));
        }
        let seq = {
            let mut st = self.lock();
            st.next_seq += 1;
            st.next_seq - 1
        };
        let name = format!("{taken_at_ms:013}-{seq:010}-{endpoint}.{}", ext(format));
        let path = self.dir.join(&name);
        ipocket_files::WriteOptions::default()
            .create_folders(false)
            .remove_leftovers(false)
            .sync(self.fsync)
            .write(&path, data)?;
        let scrape = BufferedScrape {
            path,
            taken_at_ms,
            seq,
            endpoint: endpoint.to_string(),
            format,
            bytes: data.len() as u64,
        };
        let mut st = self.lock();
        st.total_bytes += scrape.bytes;
        st.entries.insert((taken_at_ms, seq), scrape.clone());
        Ok(scrape)
    }

    /// Drops scrapes older than the retention, then the oldest ones until the buffer fits in
    /// its size limit. Returns how many were dropped for each reason.
    pub fn enforce_limits(&self, now_ms: i64) -> io::Result<Dropped> {
        let cutoff = now_ms - self.retention.as_millis() as i64;
        let mut dropped = Dropped::default();
        let mut st = self.lock();
        while let Some((&key, e)) = st.entries.iter().next() {
            let too_old = e.taken_at_ms < cutoff;
            if !too_old && st.total_bytes <= self.max_bytes {
                break;
            }
            remove_quiet(&e.path)?;
            st.total_bytes -= e.bytes;
            st.entries.remove(&key);
            if too_old {
                dropped.age += 1;
            } else {
                dropped.size += 1;
            }
        }
        Ok(dropped)
    }

    /// The oldest buffered scrape, if any.
    pub fn oldest(&self) -> Option<BufferedScrape> {
        self.lock().entries.values().next().cloned()
    }

    /// Reads a buffered scrape's bytes.
    pub fn read(&self, scrape: &BufferedScrape) -> io::Result<Vec<u8>> {
        fs::read(&scrape.path)
    }

    /// Removes a scrape (after a 2xx, or when the server rejected it). Removing one that is
    /// already gone (dropped by the size limit meanwhile) is not an error.
    pub fn remove(&self, scrape: &BufferedScrape) -> io::Result<()> {
        let mut st = self.lock();
        if let Some(e) = st.entries.remove(&(scrape.taken_at_ms, scrape.seq)) {
            st.total_bytes -= e.bytes;
            remove_quiet(&e.path)?;
        }
        Ok(())
    }

    /// Buffered bytes.
    pub fn bytes(&self) -> u64 {
        self.lock().total_bytes
    }

    /// Buffered scrapes.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// No scrape buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn remove_quiet(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn scrapes_survive_a_reopen_and_torn_writes_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (buf, _) = DiskBuffer::open(dir.path(), 1 << 20, DAY).unwrap();
        buf.append("node", Format::Text, 2000, b"a 1\n").unwrap();
        buf.append("node", Format::Text, 1000, b"a 0\n").unwrap();
        buf.append("app-1", Format::OpenMetrics, 3000, b"b 1\n# EOF\n")
            .unwrap();
        drop(buf);
        // Writes cut short by kill -9: only the temp file exists, half written (the
        // helper's name, and the name of earlier versions).
        for torn in [
            ".0000000004000-0000000009-node.prom.ipocket-tmp-0123456789abcdef",
            ".tmp-0000000004000-0000000009-node.prom",
        ] {
            fs::write(dir.path().join(torn), b"a 1\nb{x=").unwrap();
        }
        fs::write(dir.path().join("README"), b"not ours").unwrap();
        let (buf, report) = DiskBuffer::open(dir.path(), 1 << 20, DAY).unwrap();
        assert_eq!(
            report,
            OpenReport {
                recovered: 3,
                torn_removed: 2,
                ignored: 1
            }
        );
        let first = buf.oldest().unwrap();
        assert_eq!((first.taken_at_ms, first.endpoint.as_str()), (1000, "node"));
        assert_eq!(buf.read(&first).unwrap(), b"a 0\n");
        buf.remove(&first).unwrap();
        buf.remove(&first).unwrap();
        assert!(buf.append("../x", Format::Text, 5000, b"c 1\n").is_err());
        let next = buf.append("node", Format::Text, 5000, b"c 1\n").unwrap();
        assert!(next.seq > 2, "sequence numbers continue after a restart");
        assert_eq!(buf.len(), 3);
        assert_eq!(buf.oldest().unwrap().format, Format::Text);
        assert_eq!(buf.bytes(), 4 + 10 + 4);
    }

    #[test]
    fn the_oldest_are_dropped_beyond_the_size_limit_and_the_retention() {
        let dir = tempfile::tempdir().unwrap();
        let (buf, _) = DiskBuffer::open(dir.path(), 100, Duration::from_secs(10)).unwrap();
        for i in 0..10 {
            buf.append("node", Format::Text, 100_000 + i * 1000, &[b'x'; 30])
                .unwrap();
        }
        let d = buf.enforce_limits(110_000).unwrap();
        assert_eq!(d, Dropped { size: 7, age: 0 });
        assert_eq!(buf.len(), 3);
        assert_eq!(buf.oldest().unwrap().taken_at_ms, 107_000);
        let d = buf.enforce_limits(118_500).unwrap();
        assert_eq!(d, Dropped { size: 0, age: 2 });
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
