//! The families that have started, by name, with the types of those that have ended: a family
//! may not come back (interleaved), and a new family's sample names may not clash with an ended
//! one. A family goes in when it starts and gets its type by index when it ends.
//!
//! Exporters write their families sorted by name (the Prometheus client libraries sort them
//! when they gather). While the names come in increasing byte order, a new name is after every
//! earlier one, so it cannot have started before: one comparison with the last name decides,
//! without hashing, and the rare look-ups (a name clash) are binary searches. The first name
//! out of order builds a hash table of the names so far, which from then on decides.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::record::MetricType;
use crate::scan::same_bytes;

const NAME_HASH: FixedState = FixedState::with_seed(0x1f0c);

/// A family that has started, and its type once it has ended.
struct Closed<'a> {
    name: Cow<'a, str>,
    metric_type: Option<MetricType>,
}

/// A family in the hash table: its name's hash, kept so that growing the table does not hash
/// the name again, and its index in `ClosedFamilies::families`.
struct Slot {
    hash: u64,
    index: usize,
}

/// The families of one input that have started; the type of each one that has ended.
pub(crate) struct ClosedFamilies<'a> {
    /// By start order.
    families: Vec<Closed<'a>>,
    /// `None` while `families` is in increasing name order.
    table: Option<HashTable<Slot>>,
}

/// The hash a family name is looked up by.
#[inline]
fn name_hash(name: &str) -> u64 {
    // one write of the bytes: `hash_one(&str)` also hashes a terminator, a second multiply
    let mut h = NAME_HASH.build_hasher();
    h.write(name.as_bytes());
    h.finish()
}

impl<'a> ClosedFamilies<'a> {
    /// Room for the families of an input of `input_len` bytes, which holds one family per
    /// hundred bytes at most when it is a scrape (a HELP and a TYPE line of about 100 bytes
    /// together, and few samples), so that the list rarely grows; bounded, as large inputs
    /// have large families.
    pub(crate) fn for_input(input_len: usize) -> ClosedFamilies<'a> {
        let capacity = (input_len / 96).clamp(8, 1024);
        ClosedFamilies {
            families: Vec::with_capacity(capacity),
            table: None,
        }
    }

    /// The type of the ended family `name` (`None` for a name never seen, and for the family
    /// being read).
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<MetricType> {
        self.find(name).and_then(|i| self.families[i].metric_type)
    }

    /// Whether family `name` has started before.
    #[inline]
    pub(crate) fn started(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Whether every family so far started in increasing name order: then a name that
    /// extends the last one's (the family being read) is after all of them, and not among them.
    #[inline]
    pub(crate) fn in_order(&self) -> bool {
        self.table.is_none()
    }

    /// The index of family `name`.
    fn find(&self, name: &str) -> Option<usize> {
        match &self.table {
            None => self
                .families
                .binary_search_by(|c| name_order(c.name.as_bytes(), name.as_bytes()))
                .ok(),
            Some(table) => table
                .find(name_hash(name), |s| self.is_named(s.index, name))
                .map(|s| s.index),
        }
    }

    #[inline(always)]
    fn is_named(&self, index: usize, name: &str) -> bool {
        same_bytes(self.families[index].name.as_bytes(), name.as_bytes())
    }

    /// Records that family `name` starts: its index for [`Self::end`], or `None` when it has
    /// started before (nothing is recorded then).
    #[inline]
    pub(crate) fn start(&mut self, name: Cow<'a, str>) -> Option<usize> {
        if self.table.is_none() {
            let after_last = match self.families.last() {
                None => Ordering::Greater,
                Some(last) => name_order(name.as_bytes(), last.name.as_bytes()),
            };
            match after_last {
                Ordering::Greater => return Some(self.push(name)),
                Ordering::Equal => return None,
                Ordering::Less => self.build_table(),
            }
        }
        self.start_out_of_order(name)
    }

    /// Records that family `name`, after every family so far (names in order), starts: its
    /// index for [`Self::end`]. The caller compared it with the last name.
    #[inline(always)]
    pub(crate) fn push_last(&mut self, name: Cow<'a, str>) -> usize {
        debug_assert!(self.table.is_none());
        debug_assert!(self.families.last().is_none_or(|last| name_order(
            name.as_bytes(),
            last.name.as_bytes()
        )
        .is_gt()));
        self.push(name)
    }

    #[inline(always)]
    fn push(&mut self, name: Cow<'a, str>) -> usize {
        self.families.push(Closed {
            name,
            metric_type: None,
        });
        self.families.len() - 1
    }

    /// The hash table of the families so far, for an input whose names are not in order.
    #[cold]
    fn build_table(&mut self) {
        let mut table = HashTable::with_capacity(self.families.capacity().max(16));
        for (index, c) in self.families.iter().enumerate() {
            let hash = name_hash(&c.name);
            table.insert_unique(hash, Slot { hash, index }, |s| s.hash);
        }
        self.table = Some(table);
    }

    /// [`Self::start`] once the table is built: one probe finds the name or its free slot.
    fn start_out_of_order(&mut self, name: Cow<'a, str>) -> Option<usize> {
        let hash = name_hash(&name);
        let table = self.table.as_mut().expect("built when the order broke");
        let families = &self.families;
        let entry = table.entry(
            hash,
            |s| same_bytes(families[s.index].name.as_bytes(), name.as_bytes()),
            |s| s.hash,
        );
        match entry {
            Entry::Occupied(_) => None,
            Entry::Vacant(v) => {
                let index = families.len();
                v.insert(Slot { hash, index });
                Some(self.push(name))
            }
        }
    }

    /// Records that the family started as `index` ended with type `metric_type`.
    #[inline]
    pub(crate) fn end(&mut self, index: usize, metric_type: MetricType) {
        self.families[index].metric_type = Some(metric_type);
    }
}

/// Byte order of two names, eight bytes at a time (names share long prefixes; `memcmp` is a
/// call).
#[inline(always)]
pub(crate) fn name_order(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let word = |s: &[u8], at: usize| u64::from_be_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 <= n {
        let (x, y) = (word(a, i), word(b, i));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    if i < n {
        if n >= 8 {
            // the last eight common bytes, overlapping those already equal
            let (x, y) = (word(a, n - 8), word(b, n - 8));
            if x != y {
                return x.cmp(&y);
            }
        } else {
            match a[..n].cmp(&b[..n]) {
                Ordering::Equal => {}
                other => return other,
            }
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_what_started_and_the_type_it_ended_with() {
        // in order, then out of order (the table), then on from there
        for order in [false, true] {
            let mut names: Vec<String> = (0..100).map(|i| format!("family_{i:03}")).collect();
            if order {
                names.swap(40, 60);
            }
            let mut closed = ClosedFamilies::for_input(0);
            for (i, name) in names.iter().enumerate() {
                let index = closed.start(Cow::Borrowed(name));
                assert_eq!(index, Some(i));
                let t = if i == 7 {
                    MetricType::Counter
                } else {
                    MetricType::Gauge
                };
                closed.end(i, t);
            }
            assert_eq!(closed.in_order(), !order);
            assert_eq!(closed.start("family_003".into()), None);
            assert_eq!(closed.start("family_099".into()), None);
            assert_eq!(closed.start("family_x".into()), Some(100));
            assert!(closed.started("family_x"));
            assert_eq!(closed.get("family_x"), None, "still being read");
            assert_eq!(closed.get("family_003"), Some(MetricType::Gauge));
            assert_eq!(closed.get("family_007"), Some(MetricType::Counter));
            assert_eq!(closed.get("family_100"), None);
            assert!(!closed.started("family_100"));
            assert!(!closed.in_order(), "family_003 came back");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// Names in order for a while (as exporters write them), then anything: every start
        /// and look-up agrees with a plain map.
        #[test]
        fn agrees_with_a_map(
            mut names in prop::collection::vec("[ab]{0,3}|[ab_]{6,20}", 0..60),
            sorted in 0usize..60,
            probes in prop::collection::vec("[ab]{0,3}|[ab_]{6,20}", 0..10),
        ) {
            let sorted = sorted.min(names.len());
            names[..sorted].sort();
            let mut closed = ClosedFamilies::for_input(0);
            let mut model = std::collections::HashMap::new();
            for (i, name) in names.iter().enumerate() {
                let t = MetricType::ALL[i % 8];
                let fresh = !model.contains_key(name.as_str());
                let got = closed.start(Cow::Borrowed(name.as_str()));
                prop_assert_eq!(got.is_some(), fresh, "{}", name);
                if let Some(index) = got {
                    prop_assert!(closed.get(name).is_none());
                    closed.end(index, t);
                    model.insert(name.as_str(), t);
                }
            }
            for name in names.iter().chain(&probes) {
                prop_assert_eq!(closed.get(name), model.get(name.as_str()).copied());
                prop_assert_eq!(closed.started(name), model.contains_key(name.as_str()));
            }
        }

        #[test]
        fn name_order_is_byte_order(
            a in prop::collection::vec(0u8..3, 0..30),
            b in prop::collection::vec(0u8..3, 0..30),
        ) {
            prop_assert_eq!(name_order(&a, &b), a.cmp(&b));
            let mut c = a.clone();
            c.extend_from_slice(&b);
            prop_assert_eq!(name_order(&a, &c), a.cmp(&c));
            prop_assert_eq!(name_order(&c, &a), c.cmp(&a));
        }
    }
}
