//! Which guest pages are mapped: the bookkeeping behind `mmap`, `munmap`,
//! `mremap` and `brk`. Memory itself is always there (kuseg is RAM); this
//! only decides where a new mapping may go and what `munmap` gives back.

use std::collections::BTreeMap;

/// Mapped ranges of guest addresses, `[start, end)`, page-aligned,
/// disjoint and never adjacent (neighbours merge).
#[derive(Debug, Default)]
pub(super) struct Mappings {
    ranges: BTreeMap<u32, u32>,
}

impl Mappings {
    /// Marks `[start, end)` mapped.
    pub(super) fn insert(&mut self, start: u32, end: u32) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        // Swallow every range that overlaps or touches [start, end).
        let touching: Vec<(u32, u32)> =
            self.ranges.range(..=end).rev().take_while(|&(_, &e)| e >= start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in touching {
            self.ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// Marks `[start, end)` unmapped.
    pub(super) fn remove(&mut self, start: u32, end: u32) {
        if start >= end {
            return;
        }
        let overlapping: Vec<(u32, u32)> =
            self.ranges.range(..end).rev().take_while(|&(_, &e)| e > start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in overlapping {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
        }
    }

    /// Whether no page of `[start, end)` is mapped.
    pub(super) fn is_free(&self, start: u32, end: u32) -> bool {
        self.ranges.range(..end).next_back().is_none_or(|(_, &e)| e <= start)
    }

    /// The highest `size`-byte free range inside `[floor, ceil)`: its start.
    pub(super) fn find_free(&self, size: u32, floor: u32, ceil: u32) -> Option<u32> {
        let mut top = ceil;
        for (&s, &e) in self.ranges.range(..ceil).rev() {
            let lo = e.max(floor);
            if lo < top && top - lo >= size {
                return Some(top - size);
            }
            top = top.min(s);
            if top <= floor {
                return None;
            }
        }
        (top.checked_sub(size)? >= floor).then(|| top - size)
    }

    /// The mapped parts of `[start, end)`, lowest first.
    pub(super) fn overlapping(&self, start: u32, end: u32) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self
            .ranges
            .range(..end)
            .rev()
            .take_while(|&(_, &e)| e > start)
            .map(|(&s, &e)| (s.max(start), e.min(end)))
            .collect();
        v.reverse();
        v
    }

    /// The end of the mapped range that holds `addr`, if any.
    pub(super) fn end_of(&self, addr: u32) -> Option<u32> {
        self.ranges.range(..=addr).next_back().filter(|&(_, &e)| e > addr).map(|(_, &e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(m: &Mappings) -> Vec<(u32, u32)> {
        m.ranges.iter().map(|(&s, &e)| (s, e)).collect()
    }

    #[test]
    fn neighbours_merge_and_holes_split() {
        let mut m = Mappings::default();
        m.insert(0x1000, 0x3000);
        m.insert(0x5000, 0x6000);
        m.insert(0x3000, 0x5000);
        assert_eq!(list(&m), [(0x1000, 0x6000)]);
        m.remove(0x2000, 0x4000);
        assert_eq!(list(&m), [(0x1000, 0x2000), (0x4000, 0x6000)]);
        assert!(m.is_free(0x2000, 0x4000));
        assert!(!m.is_free(0x2000, 0x4001));
        assert_eq!(m.end_of(0x4800), Some(0x6000));
        assert_eq!(m.end_of(0x2000), None);
        assert_eq!(m.overlapping(0x1800, 0x5000), [(0x1800, 0x2000), (0x4000, 0x5000)]);
        m.remove(0, 0x10000);
        assert_eq!(list(&m), []);
    }

    #[test]
    fn free_space_is_found_from_the_top_down() {
        let mut m = Mappings::default();
        assert_eq!(m.find_free(0x1000, 0x1000, 0x10000), Some(0xf000));
        m.insert(0xe000, 0x10000);
        m.insert(0x8000, 0xc000);
        assert_eq!(m.find_free(0x2000, 0x1000, 0x10000), Some(0xc000));
        assert_eq!(m.find_free(0x3000, 0x1000, 0x10000), Some(0x5000));
        assert_eq!(m.find_free(0x8000, 0x1000, 0x10000), None);
        assert_eq!(m.find_free(0x7000, 0x1000, 0x10000), Some(0x1000));
        // The floor is respected.
        assert_eq!(m.find_free(0x1000, 0x7800, 0x10000), Some(0xd000));
        assert_eq!(m.find_free(0x2000, 0x7800, 0xe000), Some(0xc000));
        assert_eq!(m.find_free(0x3000, 0x7800, 0xe000), None);
    }
}
