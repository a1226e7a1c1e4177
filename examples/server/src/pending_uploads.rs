//! Uploads kept between an import's dry run and its apply, so "Apply" writes exactly the
//! previewed bytes without the browser sending them again. In memory only (a restart
//! forgets them), bounded: a few per user, a total size, and a lifetime.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::body::Bytes;

/// How long a preview can be applied.
const LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Previews kept per user; the oldest goes first.
const PER_USER: usize = 3;

/// One uploaded file of a preview: the form field it came in and its name.
#[derive(Clone)]
pub(crate) struct PendingFile {
    pub(crate) field: String,
    pub(crate) name: String,
    pub(crate) bytes: Bytes,
}

/// What a dry run previewed.
#[derive(Clone)]
pub(crate) struct PendingImport {
    pub(crate) files: Vec<PendingFile>,
    pub(crate) create_missing: bool,
    /// The time of the upload, for the notes of an Nmap scan: the same at dry run and apply.
    pub(crate) uploaded_at: String,
    /// A digest of the previewed plan: apply refuses when the plan came out different.
    pub(crate) plan_digest: String,
}

struct Entry {
    id: String,
    user_id: i64,
    stored: Instant,
    import: PendingImport,
}

impl Entry {
    fn size(&self) -> usize {
        self.import.files.iter().map(|f| f.bytes.len()).sum()
    }
}

/// The store, in [`crate::AppState`].
pub(crate) struct PendingUploads {
    max_total_bytes: usize,
    entries: Mutex<Vec<Entry>>,
}

impl PendingUploads {
    /// A store holding at most `max_total_bytes` of uploads over all users.
    pub(crate) fn new(max_total_bytes: usize) -> Self {
        PendingUploads {
            max_total_bytes,
            entries: Mutex::new(Vec::new()),
        }
    }

    /// Keeps `import` for `user_id` under the random `id`, dropping expired previews, the
    /// user's oldest beyond [`PER_USER`], and then the oldest of anyone while over the size.
    pub(crate) fn put(&self, user_id: i64, id: String, import: PendingImport) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| e.stored.elapsed() < LIFETIME);
        entries.push(Entry {
            id,
            user_id,
            stored: Instant::now(),
            import,
        });
        while entries.iter().filter(|e| e.user_id == user_id).count() > PER_USER {
            if let Some(i) = entries.iter().position(|e| e.user_id == user_id) {
                entries.remove(i);
            }
        }
        while entries.len() > 1
            && entries.iter().map(Entry::size).sum::<usize>() > self.max_total_bytes
        {
            entries.remove(0);
        }
    }

    /// The preview `id` of `user_id`, if it is still kept (another user's id finds nothing).
    pub(crate) fn get(&self, user_id: i64, id: &str) -> Option<PendingImport> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .find(|e| e.id == id && e.user_id == user_id && e.stored.elapsed() < LIFETIME)
            .map(|e| e.import.clone())
    }

    /// Forgets the preview `id` (after it was applied).
    pub(crate) fn remove(&self, id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| e.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(size: usize) -> PendingImport {
        PendingImport {
            files: vec![PendingFile {
                field: "file".into(),
                name: "bundle.json".into(),
                bytes: Bytes::from(vec![b'x'; size]),
            }],
            create_missing: false,
            uploaded_at: String::new(),
            plan_digest: String::new(),
        }
    }

    #[test]
    fn previews_are_per_user_and_bounded_in_number_and_size() {
        let store = PendingUploads::new(100);
        store.put(1, "a".into(), import(10));
        assert!(store.get(1, "a").is_some());
        assert!(store.get(2, "a").is_none(), "another user's preview");
        for id in ["b", "c", "d"] {
            store.put(1, id.into(), import(10));
        }
        assert!(store.get(1, "a").is_none(), "the oldest of the user went");
        assert!(store.get(1, "d").is_some());
        store.put(2, "big".into(), import(90));
        assert!(store.get(1, "b").is_none() && store.get(2, "big").is_some());
        store.remove("big");
        assert!(store.get(2, "big").is_none());
    }
}
