//! Intrusive doubly linked lists over a slab of nodes, shared by the policies that keep queues.
//!
//! A list is two indices ([`Ends`]); a node knows its neighbours ([`Link`]). Nothing here
//! allocates except [`Slab::alloc`] growing the slab to its high-water mark.

use super::NONE;

/// A node with list links.
pub(crate) trait Link {
    /// (previous, next): previous is toward the head (newer), next toward the tail (older).
    fn links(&self) -> (u32, u32);
    fn set_prev(&mut self, prev: u32);
    fn set_next(&mut self, next: u32);
}

/// Implements [`Link`] for node types whose links are fields named `prev` and `next`.
macro_rules! impl_link {
    ($($node:ty),+) => {$(
        impl $crate::cache::links::Link for $node {
            #[inline]
            fn links(&self) -> (u32, u32) {
                (self.prev, self.next)
            }
            #[inline]
            fn set_prev(&mut self, prev: u32) {
                self.prev = prev;
            }
            #[inline]
            fn set_next(&mut self, next: u32) {
                self.next = next;
            }
        }
    )+};
}
pub(crate) use impl_link;

/// The ends of one list: head (newest) and tail (oldest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ends {
    pub head: u32,
    pub tail: u32,
}

impl Ends {
    pub const EMPTY: Ends = Ends { head: NONE, tail: NONE };

    /// Takes node `i` out of this list.
    #[inline]
    pub fn unlink<N: Link>(&mut self, nodes: &mut [N], i: u32) {
        let (prev, next) = nodes[i as usize].links();
        if prev == NONE {
            self.head = next;
        } else {
            nodes[prev as usize].set_next(next);
        }
        if next == NONE {
            self.tail = prev;
        } else {
            nodes[next as usize].set_prev(prev);
        }
    }

    /// Puts node `i` (not in any list) at the head.
    #[inline]
    pub fn push_head<N: Link>(&mut self, nodes: &mut [N], i: u32) {
        let old = self.head;
        {
            let n = &mut nodes[i as usize];
            n.set_prev(NONE);
            n.set_next(old);
        }
        if old == NONE {
            self.tail = i;
        } else {
            nodes[old as usize].set_prev(i);
        }
        self.head = i;
    }

    /// Moves node `i` (in this list) to the head.
    #[inline]
    pub fn move_to_head<N: Link>(&mut self, nodes: &mut [N], i: u32) {
        if self.head != i {
            self.unlink(nodes, i);
            self.push_head(nodes, i);
        }
    }

    /// Whether the list is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head == NONE
    }
}

/// Nodes with a free list: indices stay stable while a node is live.
#[derive(Clone, Debug)]
pub(crate) struct Slab<N> {
    pub nodes: Vec<N>,
    free: Vec<u32>,
}

impl<N> Slab<N> {
    pub fn new() -> Self {
        Slab { nodes: Vec::new(), free: Vec::new() }
    }

    /// Stores `node`, reusing a free index when there is one.
    #[inline]
    pub fn alloc(&mut self, node: N) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Live nodes.
    #[allow(dead_code)]
    pub fn live(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    /// Returns index `i` to the free list.
    #[inline]
    pub fn release(&mut self, i: u32) {
        self.free.push(i);
    }
}
