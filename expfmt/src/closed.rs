//! The families that have ended, by name, with their types: a family may not come back
//! (interleaved), and a new family's sample names may not clash with an ended one.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::record::MetricType;
use crate::scan::same_bytes;

const NAME_HASH: FixedState = FixedState::with_seed(0x1f0c);

/// An ended family. Its name's hash is kept so that neither closing the family nor growing
/// the table hashes the name again.
struct Closed<'a> {
    hash: u64,
    name: Cow<'a, str>,
    metric_type: MetricType,
}

/// The ended families of one input.
pub(crate) struct ClosedFamilies<'a> {
    table: HashTable<Closed<'a>>,
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
    /// couple of hundred bytes when it is a typical scrape (HELP and TYPE lines, few samples),
    /// so that the table rarely grows; bounded, as large inputs have large families.
    pub(crate) fn for_input(input_len: usize) -> ClosedFamilies<'a> {
        ClosedFamilies {
            table: HashTable::with_capacity((input_len / 160).clamp(8, 1024)),
        }
    }

    /// The type of the ended family `name`, whose [`name_hash`] is `hash`.
    #[inline]
    pub(crate) fn get(&self, hash: u64, name: &str) -> Option<MetricType> {
        self.table
            .find(hash, |c| same_bytes(c.name.as_bytes(), name.as_bytes()))
            .map(|c| c.metric_type)
    }

    /// Records that family `name` (hashed to `hash`) ended with type `metric_type`.
    pub(crate) fn insert(&mut self, hash: u64, name: Cow<'a, str>, metric_type: MetricType) {
        let entry = self.table.entry(
            hash,
            |c| same_bytes(c.name.as_bytes(), name.as_bytes()),
            |c| c.hash,
        );
        match entry {
            Entry::Occupied(mut o) => o.get_mut().metric_type = metric_type,
            Entry::Vacant(v) => {
                v.insert(Closed {
                    hash,
                    name,
                    metric_type,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_closed_and_keeps_the_last_type() {
        let names: Vec<String> = (0..100).map(|i| format!("family_{i}")).collect();
        let mut closed = ClosedFamilies::for_input(0);
        for name in &names {
            closed.insert(name_hash(name), Cow::Borrowed(name), MetricType::Gauge);
        }
        closed.insert(
            name_hash("family_7"),
            "family_7".into(),
            MetricType::Counter,
        );
        assert_eq!(
            closed.get(name_hash("family_3"), "family_3"),
            Some(MetricType::Gauge)
        );
        assert_eq!(
            closed.get(name_hash("family_7"), "family_7"),
            Some(MetricType::Counter)
        );
        assert_eq!(closed.get(name_hash("family_100"), "family_100"), None);
    }
}
