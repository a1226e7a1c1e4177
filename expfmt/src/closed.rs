//! The families that have started, by name, with the types of those that have ended: a family
//! may not come back (interleaved), and a new family's sample names may not clash with an ended
//! one. A family goes in when it starts (the look-up that refuses a repeated name finds the free
//! slot in the same probe) and gets its type by index when it ends, without a second look-up.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::record::MetricType;
use crate::scan::same_bytes;

const NAME_HASH: FixedState = FixedState::with_seed(0x1f0c);

/// A family that has started. Its name's hash is kept so that growing the table does not hash
/// the name again; its type is `types[index]`.
struct Closed<'a> {
    hash: u64,
    name: Cow<'a, str>,
    index: usize,
}

/// The families of one input that have started; the type of each one that has ended.
pub(crate) struct ClosedFamilies<'a> {
    table: HashTable<Closed<'a>>,
    /// By start order; `None` while the family is being read.
    types: Vec<Option<MetricType>>,
}

/// The hash a family name is looked up by.
#[inline]
pub(crate) fn name_hash(name: &str) -> u64 {
    // one write of the bytes: `hash_one(&str)` also hashes a terminator, a second multiply
    let mut h = NAME_HASH.build_hasher();
    h.write(name.as_bytes());
    h.finish()
}

impl<'a> ClosedFamilies<'a> {
    /// Room for the families of an input of `input_len` bytes, which holds one family per
    /// hundred bytes at most when it is a scrape (a HELP and a TYPE line of about 100 bytes
    /// together, and few samples), so that the table rarely grows (a rehash costs 10 % of a
    /// metadata-only input); bounded, as large inputs have large families.
    pub(crate) fn for_input(input_len: usize) -> ClosedFamilies<'a> {
        let capacity = (input_len / 96).clamp(8, 1024);
        ClosedFamilies {
            table: HashTable::with_capacity(capacity),
            types: Vec::with_capacity(capacity),
        }
    }

    /// The type of the ended family `name`, whose [`name_hash`] is `hash` (`None` for a name
    /// never seen, and for the family being read).
    #[inline]
    pub(crate) fn get(&self, hash: u64, name: &str) -> Option<MetricType> {
        self.table
            .find(hash, |c| same_bytes(c.name.as_bytes(), name.as_bytes()))
            .and_then(|c| self.types[c.index])
    }

    /// Whether family `name` (hashed to `hash`) has started before.
    #[inline]
    pub(crate) fn started(&self, hash: u64, name: &str) -> bool {
        self.table
            .find(hash, |c| same_bytes(c.name.as_bytes(), name.as_bytes()))
            .is_some()
    }

    /// Records that family `name` (hashed to `hash`) starts: its index for [`Self::end`], or
    /// `None` when it has started before (nothing is recorded then).
    #[inline]
    pub(crate) fn start(&mut self, hash: u64, name: Cow<'a, str>) -> Option<usize> {
        let entry = self.table.entry(
            hash,
            |c| same_bytes(c.name.as_bytes(), name.as_bytes()),
            |c| c.hash,
        );
        match entry {
            Entry::Occupied(_) => None,
            Entry::Vacant(v) => {
                let index = self.types.len();
                self.types.push(None);
                v.insert(Closed { hash, name, index });
                Some(index)
            }
        }
    }

    /// Records that the family started as `index` ended with type `metric_type`.
    #[inline]
    pub(crate) fn end(&mut self, index: usize, metric_type: MetricType) {
        self.types[index] = Some(metric_type);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_started_and_the_type_it_ended_with() {
        let names: Vec<String> = (0..100).map(|i| format!("family_{i}")).collect();
        let mut closed = ClosedFamilies::for_input(0);
        for (i, name) in names.iter().enumerate() {
            let index = closed.start(name_hash(name), Cow::Borrowed(name));
            assert_eq!(index, Some(i));
            let t = if i == 7 {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            closed.end(i, t);
        }
        assert_eq!(closed.start(name_hash("family_3"), "family_3".into()), None);
        let hash = name_hash("family_x");
        assert_eq!(closed.start(hash, "family_x".into()), Some(100));
        assert!(closed.started(hash, "family_x"));
        assert_eq!(closed.get(hash, "family_x"), None, "still being read");
        assert_eq!(
            closed.get(name_hash("family_3"), "family_3"),
            Some(MetricType::Gauge)
        );
        assert_eq!(
            closed.get(name_hash("family_7"), "family_7"),
            Some(MetricType::Counter)
        );
        assert_eq!(closed.get(name_hash("family_100"), "family_100"), None);
        assert!(!closed.started(name_hash("family_100"), "family_100"));
    }
}
