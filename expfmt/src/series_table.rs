//! The series table of the family being read: where each series (by key) was first seen, to
//! find a duplicate series.

/// Where a series was first seen, to report and to verify duplicates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    /// Where its line starts: the line is read again to confirm a duplicate.
    pub(crate) start: usize,
    pub(crate) line: u32,
}

/// The series of the family being read, by key: open addressing with linear probing over a
/// power-of-two number of slots, at most three quarters of them full. A slot belongs to the family being
/// read when it carries its generation, so that a new family clears nothing (a hash table's
/// `clear` wrote all its control bytes for each family, as large as the largest family).
#[derive(Default)]
pub(crate) struct SeriesTable {
    slots: Vec<SeriesSlot>,
    len: usize,
    /// Three quarters of the slots: the table grows before it holds more series.
    max_len: usize,
    /// The current family's generation (slots of generation 0 were never filled).
    generation: u32,
    /// How many slots to start with, once a family has two series.
    first_slots: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct SeriesSlot {
    key: u64,
    start: usize,
    line: u32,
    generation: u32,
}

impl SeriesTable {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every series (a new family starts).
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // after 2^32 families: the old generations could come back
            self.slots.fill(SeriesSlot::default());
            self.generation = 1;
        }
    }

    /// Where `key` is, or the empty slot where it goes: `(index, found)`. Room for one more
    /// series is made first, so that an empty slot ends every probe.
    #[inline]
    pub(crate) fn find(&mut self, key: u64) -> (usize, bool) {
        if self.len >= self.max_len {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = key as usize & mask;
        loop {
            let slot = &self.slots[i];
            if slot.generation != self.generation {
                return (i, false);
            }
            if slot.key == key {
                return (i, true);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `key`, first seen at `seen`, when it is not in the table: `Err` with the place of
    /// the series already there otherwise. The slot is written where the probe ended (no
    /// second bounds check, as with [`Self::find`] then [`Self::fill`]).
    #[inline(always)]
    pub(crate) fn insert(&mut self, key: u64, seen: Seen) -> Result<(), usize> {
        if self.len >= self.max_len {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let generation = self.generation;
        let mut i = key as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.generation != generation {
                *slot = SeriesSlot {
                    key,
                    start: seen.start,
                    line: seen.line,
                    generation,
                };
                self.len += 1;
                return Ok(());
            }
            if slot.key == key {
                return Err(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Fills the empty slot `index` (from [`Self::find`]) with `key`.
    #[inline]
    pub(crate) fn fill(&mut self, index: usize, key: u64, seen: Seen) {
        self.slots[index] = SeriesSlot {
            key,
            start: seen.start,
            line: seen.line,
            generation: self.generation,
        };
        self.len += 1;
    }

    pub(crate) fn seen(&self, index: usize) -> Seen {
        let slot = &self.slots[index];
        Seen {
            start: slot.start,
            line: slot.line,
        }
    }

    pub(crate) fn set_seen(&mut self, index: usize, seen: Seen) {
        let slot = &mut self.slots[index];
        (slot.start, slot.line) = (seen.start, seen.line);
    }

    /// A table that, once used, starts with room for the series of an input of `input_len`
    /// bytes whose largest family holds about a tenth of its lines (sample lines are some 60
    /// bytes), so that it grows rarely; bounded, as the table holds one family at a time.
    pub(crate) fn for_input(input_len: usize) -> SeriesTable {
        let series = (input_len / 600).clamp(8, 1 << 15);
        SeriesTable {
            first_slots: (series * 4 / 3).next_power_of_two(),
            ..SeriesTable::default()
        }
    }

    /// Twice the slots (`first_slots`, or 16, at first), the current family's series moved
    /// over.
    #[cold]
    pub(crate) fn grow(&mut self) {
        let first = self.first_slots.max(16);
        self.resize((self.slots.len() * 2).max(first));
    }

    /// `slots` slots (a power of two), the current family's series moved over.
    pub(crate) fn resize(&mut self, slots: usize) {
        if self.generation == 0 {
            self.generation = 1;
        }
        let generation = self.generation;
        let old = std::mem::replace(&mut self.slots, vec![SeriesSlot::default(); slots]);
        self.max_len = slots / 4 * 3;
        let mask = slots - 1;
        for slot in old.into_iter().filter(|s| s.generation == generation) {
            let mut i = slot.key as usize & mask;
            while self.slots[i].generation == generation {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The series table against a map: keys that share their low bits (long probes), growth
    /// past 16 slots, families cleared and their keys coming back.
    #[test]
    fn series_table_is_a_map_per_family() {
        use proptest::prelude::*;
        let op = prop_oneof![
            8 => (0u64..40, 0u64..4).prop_map(|(k, high)| Some(k * 64 + (high << 40))),
            1 => Just(None),
        ];
        proptest!(ProptestConfig::with_cases(500), |(ops in proptest::collection::vec(op, 0..300))| {
            let mut table = SeriesTable::default();
            // the same operations through insert
            let mut inserted = SeriesTable::default();
            let mut model = std::collections::HashMap::new();
            for (n, op) in ops.into_iter().enumerate() {
                let Some(key) = op else {
                    table.clear();
                    inserted.clear();
                    model.clear();
                    continue;
                };
                let seen = Seen { start: n, line: n as u32 };
                match inserted.insert(key, seen) {
                    Ok(()) => prop_assert!(!model.contains_key(&key)),
                    Err(index) => {
                        prop_assert_eq!(Some(&inserted.seen(index).start), model.get(&key));
                        inserted.set_seen(index, seen);
                    }
                }
                match table.find(key) {
                    (index, true) => {
                        let first = model.insert(key, n).expect("in the map too");
                        prop_assert_eq!(table.seen(index).start, first);
                        table.set_seen(index, seen);
                    }
                    (index, false) => {
                        prop_assert!(model.insert(key, n).is_none());
                        table.fill(index, key, seen);
                    }
                }
                prop_assert_eq!(table.len, model.len());
                prop_assert_eq!(inserted.len, model.len());
                prop_assert_eq!(table.is_empty(), model.is_empty());
            }
        });
    }

    /// After 2^32 families the generations come round: the old slots are emptied then.
    #[test]
    fn series_table_generations_wrap() {
        let seen = Seen { start: 0, line: 1 };
        let mut table = SeriesTable::default();
        let (index, _) = table.find(7);
        table.fill(index, 7, seen);
        table.generation = u32::MAX;
        let (index, found) = table.find(7);
        assert!(!found, "a slot of another generation is empty");
        table.fill(index, 7, seen);
        table.clear();
        assert_eq!(table.generation, 1);
        assert_eq!(table.find(7), (7 & 15, false), "every slot emptied");
    }
}
