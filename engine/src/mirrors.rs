//! The mirror table: a slab of mirror records, chained per clip.
//!
//! A clip holds the index of its first record; records of one clip are linked through `next`.
//! There is at most one record per (clip, region), and at most `max_per_clip` per clip, so
//! walking a clip's chain is O(1). Freed slots are reused lowest-freed-last (a stack), which is
//! deterministic.

use crate::ids::{ClipId, RegionId};
use crate::units::SimTime;

/// "No record": the end of a chain.
pub const NONE: u32 = u32::MAX;

/// Where a mirror is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MirrorState {
    /// The copy was ordered and has not completed; never served.
    Pending,
    /// The copy is complete; served until `expires_at`.
    Active,
}

/// One mirror of one clip in one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// The clip.
    pub clip: ClipId,
    /// Where the mirror is.
    pub region: RegionId,
    /// Where it is copied from.
    pub source: RegionId,
    /// Pending or active.
    pub state: MirrorState,
    /// Copy attempts that failed so far.
    pub failed_attempts: u8,
    /// Whether the copy reads a primary in the infrequent-access class ([`crate::Lifecycle`]),
    /// judged when it was ordered or last retried (when the copy's read starts): its bytes then
    /// pay the retrieval fee.
    pub source_infrequent: bool,
    /// When the copy was first ordered.
    pub created_at: SimTime,
    /// When it became active ([`SimTime::NEVER`] while pending).
    pub active_at: SimTime,
    /// When it stops being served ([`SimTime::NEVER`] while pending).
    pub expires_at: SimTime,
    next: u32,
}

impl Mirror {
    /// A new pending mirror.
    pub fn pending(clip: ClipId, region: RegionId, source: RegionId, now: SimTime) -> Self {
        Mirror {
            clip,
            region,
            source,
            state: MirrorState::Pending,
            failed_attempts: 0,
            source_infrequent: false,
            created_at: now,
            active_at: SimTime::NEVER,
            expires_at: SimTime::NEVER,
            next: NONE,
        }
    }

    /// Whether a request at `now` may be served from it: active and not expired.
    #[inline]
    pub fn serveable(&self, now: SimTime) -> bool {
        self.state == MirrorState::Active && now < self.expires_at
    }
}

/// The slab (engine-internal).
#[derive(Clone, Debug, Default)]
pub(crate) struct MirrorTable {
    slots: Vec<Option<Mirror>>,
    free: Vec<u32>,
}

impl MirrorTable {
    /// Inserts a record at the head of the chain starting at `*head`; returns its index.
    pub(crate) fn insert(&mut self, head: &mut u32, mut mirror: Mirror) -> u32 {
        debug_assert!(self.chain(*head).all(|(_, m)| m.clip == mirror.clip), "a chain holds one clip's records");
        mirror.next = *head;
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(mirror);
                i
            }
            None => {
                self.slots.push(Some(mirror));
                (self.slots.len() - 1) as u32
            }
        };
        *head = idx;
        idx
    }

    /// Removes record `idx` from the chain starting at `*head`; returns it.
    pub(crate) fn remove(&mut self, head: &mut u32, idx: u32) -> Mirror {
        let next = self.get(idx).next;
        if *head == idx {
            *head = next;
        } else {
            let mut cur = *head;
            loop {
                let m = self.slots[cur as usize].as_mut().expect("chain links only live slots");
                if m.next == idx {
                    m.next = next;
                    break;
                }
                assert_ne!(m.next, NONE, "record {idx} is not on this chain");
                cur = m.next;
            }
        }
        self.free.push(idx);
        self.slots[idx as usize].take().expect("checked live above")
    }

    /// The record at `idx`, which must be live.
    #[inline]
    pub(crate) fn get(&self, idx: u32) -> &Mirror {
        self.slots[idx as usize].as_ref().expect("index of a live record")
    }

    /// The record at `idx`, which must be live.
    #[inline]
    pub(crate) fn get_mut(&mut self, idx: u32) -> &mut Mirror {
        self.slots[idx as usize].as_mut().expect("index of a live record")
    }

    /// The records of the chain starting at `head`, newest first.
    #[inline]
    pub(crate) fn chain(&self, head: u32) -> Chain<'_> {
        Chain { table: self, cur: head }
    }

    /// Calls `f` on every record of the chain starting at `head`.
    pub(crate) fn for_each_in_chain_mut(&mut self, head: u32, mut f: impl FnMut(&mut Mirror)) {
        let mut cur = head;
        while cur != NONE {
            let m = self.get_mut(cur);
            f(m);
            cur = m.next;
        }
    }

    /// The record of the chain in `region`, if any.
    pub(crate) fn find(&self, head: u32, region: RegionId) -> Option<u32> {
        self.chain(head).find(|(_, m)| m.region == region).map(|(i, _)| i)
    }

    /// Every live record with its index, in index order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &Mirror)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|m| (i as u32, m)))
    }
}

/// Iterator over one clip's records.
#[derive(Clone, Debug)]
pub(crate) struct Chain<'a> {
    table: &'a MirrorTable,
    cur: u32,
}

impl<'a> Iterator for Chain<'a> {
    type Item = (u32, &'a Mirror);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.cur == NONE {
            return None;
        }
        let idx = self.cur;
        let m = self.table.get(idx);
        self.cur = m.next;
        Some((idx, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_insert_find_and_remove() {
        let mut t = MirrorTable::default();
        let (mut a, mut b) = (NONE, NONE);
        let a1 = t.insert(&mut a, Mirror::pending(ClipId(0), RegionId(1), RegionId(0), SimTime(0)));
        let b1 = t.insert(&mut b, Mirror::pending(ClipId(1), RegionId(1), RegionId(0), SimTime(0)));
        let a2 = t.insert(&mut a, Mirror::pending(ClipId(0), RegionId(2), RegionId(0), SimTime(0)));
        assert_eq!(t.chain(a).map(|(i, _)| i).collect::<Vec<_>>(), [a2, a1]);
        assert_eq!(t.find(a, RegionId(1)), Some(a1));
        assert_eq!(t.find(b, RegionId(2)), None);
        let removed = t.remove(&mut a, a1);
        assert_eq!(removed.region, RegionId(1));
        assert_eq!(t.chain(a).count(), 1);
        assert_eq!(t.iter().count(), 2);
        // The freed slot is reused.
        let a3 = t.insert(&mut a, Mirror::pending(ClipId(0), RegionId(1), RegionId(0), SimTime(1)));
        assert_eq!(a3, a1);
        t.remove(&mut b, b1);
        assert_eq!(b, NONE);
        assert_eq!(t.iter().count(), 2);
    }

    #[test]
    fn pending_and_expired_mirrors_are_not_serveable() {
        let mut m = Mirror::pending(ClipId(0), RegionId(1), RegionId(0), SimTime(0));
        assert!(!m.serveable(SimTime(5)));
        m.state = MirrorState::Active;
        m.expires_at = SimTime(10);
        assert!(m.serveable(SimTime(9)));
        assert!(!m.serveable(SimTime(10)));
    }
}
