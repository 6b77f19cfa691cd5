//! Every eviction policy against a plain reference model (vectors, linear scans) on random
//! request sequences with random sizes: same hits, same contents, same bytes after every request.
//! The fast caches use intrusive lists over slabs; the models spell each policy out directly.

use clipsim_engine::SimTime;
use clipsim_sim::cache::{Admission, AnyCache, EdgeCache, LirsCache, Policy};
use proptest::prelude::*;
use std::collections::VecDeque;

/// A cached object in a model: key, size, and a per-policy counter (visited bit, frequency).
#[derive(Clone, Debug)]
struct Obj {
    key: u32,
    size: u64,
    n: u64,
}

/// LRU, FIFO, SIEVE, CLOCK and LFU as ordered vectors (index 0 = newest).
struct Model {
    policy: Policy,
    cap: u64,
    list: Vec<Obj>,
    /// SIEVE's hand: index in `list` (None: start from the tail).
    hand: Option<usize>,
    /// LFU: insertion order within a frequency, by a global counter.
    clock: u64,
    joined: Vec<(u32, u64)>,
}

impl Model {
    fn new(policy: Policy, cap: u64) -> Self {
        Model { policy, cap, list: Vec::new(), hand: None, clock: 0, joined: Vec::new() }
    }
    fn used(&self) -> u64 {
        self.list.iter().map(|o| o.size).sum()
    }
    fn pos(&self, key: u32) -> Option<usize> {
        self.list.iter().position(|o| o.key == key)
    }
    fn joined_at(&self, key: u32) -> u64 {
        self.joined.iter().find(|j| j.0 == key).map_or(0, |j| j.1)
    }
    fn set_joined(&mut self, key: u32) {
        self.clock += 1;
        let c = self.clock;
        match self.joined.iter_mut().find(|j| j.0 == key) {
            Some(j) => j.1 = c,
            None => self.joined.push((key, c)),
        }
    }
    fn get(&mut self, key: u32) -> bool {
        let Some(i) = self.pos(key) else { return false };
        match self.policy {
            Policy::Lru => {
                let o = self.list.remove(i);
                self.list.insert(0, o);
                if let Some(h) = self.hand {
                    // Hands are only for SIEVE.
                    let _ = h;
                }
            }
            Policy::Fifo => {}
            Policy::Sieve | Policy::Clock => self.list[i].n = 1,
            Policy::Lfu => {
                self.list[i].n += 1;
                self.set_joined(key);
            }
            _ => unreachable!(),
        }
        true
    }
    fn evict(&mut self) {
        match self.policy {
            Policy::Lru | Policy::Fifo => {
                self.list.pop();
            }
            Policy::Sieve => {
                let mut i = self.hand.unwrap_or(self.list.len() - 1);
                while self.list[i].n == 1 {
                    self.list[i].n = 0;
                    i = if i == 0 { self.list.len() - 1 } else { i - 1 };
                }
                self.list.remove(i);
                // The hand moves to the victim's newer neighbour (None past the head).
                self.hand = if i == 0 { None } else { Some(i - 1) };
            }
            Policy::Clock => {
                // The oldest: a second chance (to the newest end, bit cleared) or out.
                loop {
                    let mut o = self.list.pop().unwrap();
                    if o.n == 0 {
                        break;
                    }
                    o.n = 0;
                    self.list.insert(0, o);
                }
            }
            Policy::Lfu => {
                let min = self.list.iter().map(|o| o.n).min().unwrap();
                let i = (0..self.list.len())
                    .filter(|&i| self.list[i].n == min)
                    .min_by_key(|&i| self.joined_at(self.list[i].key))
                    .unwrap();
                self.list.remove(i);
            }
            _ => unreachable!(),
        }
    }
    fn insert(&mut self, key: u32, size: u64) {
        if size > self.cap {
            return;
        }
        while self.used() + size > self.cap {
            self.evict();
        }
        self.list.insert(0, Obj { key, size, n: if self.policy == Policy::Lfu { 1 } else { 0 } });
        if let Some(h) = self.hand {
            self.hand = Some(h + 1);
        }
        if self.policy == Policy::Lfu {
            self.set_joined(key);
        }
    }
}

/// S3-FIFO spelled out with three queues (front = newest).
struct S3Model {
    cap: u64,
    small_cap: u64,
    main_cap: u64,
    ghost_cap: u64,
    small: VecDeque<Obj>,
    main: VecDeque<Obj>,
    ghost: VecDeque<(u32, u64)>,
    ghost_hit: Option<u32>,
}

impl S3Model {
    fn new(cap: u64) -> Self {
        S3Model {
            cap,
            small_cap: cap / 10,
            main_cap: cap - cap / 10,
            ghost_cap: cap * 9 / 10,
            small: VecDeque::new(),
            main: VecDeque::new(),
            ghost: VecDeque::new(),
            ghost_hit: None,
        }
    }
    fn bytes(q: &VecDeque<Obj>) -> u64 {
        q.iter().map(|o| o.size).sum()
    }
    fn used(&self) -> u64 {
        Self::bytes(&self.small) + Self::bytes(&self.main)
    }
    fn get(&mut self, key: u32) -> bool {
        self.ghost_hit = None;
        for q in [&mut self.small, &mut self.main] {
            if let Some(o) = q.iter_mut().find(|o| o.key == key) {
                o.n = (o.n + 1).min(3);
                return true;
            }
        }
        if let Some(i) = self.ghost.iter().position(|g| g.0 == key) {
            self.ghost.remove(i);
            self.ghost_hit = Some(key);
        }
        false
    }
    fn ghost_add(&mut self, key: u32, size: u64) {
        if size > self.ghost_cap || self.ghost.iter().any(|g| g.0 == key) {
            return;
        }
        while self.ghost.iter().map(|g| g.1).sum::<u64>() + size > self.ghost_cap {
            self.ghost.pop_back();
        }
        self.ghost.push_front((key, size));
    }
    fn evict(&mut self) {
        if Self::bytes(&self.main) > self.main_cap || self.small.is_empty() {
            while let Some(mut t) = self.main.pop_back() {
                if t.n >= 1 {
                    t.n = t.n.min(3) - 1;
                    self.main.push_front(t);
                } else {
                    return;
                }
            }
        } else {
            while let Some(t) = self.small.pop_back() {
                if t.n >= 2 {
                    self.main.push_front(t);
                } else {
                    self.ghost_add(t.key, t.size);
                    return;
                }
            }
        }
    }
    fn insert(&mut self, key: u32, size: u64) {
        let to_main = self.ghost_hit == Some(key);
        self.ghost_hit = None;
        if size > self.cap || (!to_main && size >= self.small_cap) {
            return;
        }
        while self.used() + size > self.cap {
            self.evict();
        }
        let o = Obj { key, size, n: 0 };
        if to_main {
            self.main.push_front(o);
        } else {
            self.small.push_front(o);
        }
    }
}

/// How the fast caches' keys relate to the models' plain keys: the same; all so large that the
/// caches index them with a hash table instead of a direct array (see `cache/index.rs`); or the
/// keys from 20 up large, so that a cache switches to the hash table while it holds small keys.
#[derive(Clone, Copy, Debug)]
enum Keys {
    Plain,
    Large,
    Mixed,
}

impl Keys {
    const ALL: [Keys; 3] = [Keys::Plain, Keys::Large, Keys::Mixed];

    fn of(self, k: u32) -> u32 {
        match self {
            Keys::Large => k + 3_000_000_000,
            Keys::Mixed if k >= 20 => k + 3_000_000_000,
            _ => k,
        }
    }
}

fn requests() -> impl Strategy<Value = (u64, Vec<(u32, u64)>)> {
    sized_requests(20..400, 40, 1..60, 1..400)
}

/// Like [`requests`], for the policies that cache only objects below 1 % of their bytes
/// (W-TinyLFU's window, LIRS's HIR share): 400 keys, larger caches, longer sequences.
fn wide_requests() -> impl Strategy<Value = (u64, Vec<(u32, u64)>)> {
    sized_requests(500..6_000, 400, 1..40, 1..2_000)
}

/// A capacity and requests for `keys` keys, each object keeping one size (as in the peer
/// traces): the size of its first request.
fn sized_requests(
    caps: std::ops::Range<u64>,
    keys: u32,
    sizes: std::ops::Range<u64>,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = (u64, Vec<(u32, u64)>)> {
    (caps, prop::collection::vec((0..keys, sizes), len)).prop_map(move |(cap, reqs)| {
        let mut size_of = vec![0u64; keys as usize];
        let reqs = reqs
            .into_iter()
            .map(|(k, s)| {
                if size_of[k as usize] == 0 {
                    size_of[k as usize] = s;
                }
                (k, size_of[k as usize])
            })
            .collect();
        (cap, reqs)
    })
}

/// Belady's MIN spelled out: on a miss, evict the cached object requested again furthest ahead
/// (found by scanning the rest of the sequence), never-again objects first, the largest key
/// among those. Returns the hit count.
fn belady_model(cap: u64, reqs: &[(u32, u64)]) -> u64 {
    let next_of =
        |i: usize, k: u32| reqs[i + 1..].iter().position(|r| r.0 == k).map_or(u64::MAX, |d| (i + 1 + d) as u64);
    let mut held: Vec<(u32, u64, u64)> = Vec::new(); // key, size, next request
    let mut hits = 0;
    for (i, &(k, s)) in reqs.iter().enumerate() {
        let next = next_of(i, k);
        if let Some(h) = held.iter_mut().find(|h| h.0 == k) {
            h.2 = next;
            hits += 1;
            continue;
        }
        if s > cap {
            continue;
        }
        while held.iter().map(|h| h.1).sum::<u64>() + s > cap {
            let v = (0..held.len()).max_by_key(|&j| (held[j].2, held[j].0)).unwrap();
            held.remove(v);
        }
        held.push((k, s, next));
    }
    hits
}

/// [`hits_of`] with the keys spread as `keys` says, checking the capacity after every request.
fn hits_of_keys(mut cache: AnyCache, cap: u64, reqs: &[(u32, u64)], keys: Keys) -> u64 {
    let mut hits = 0;
    for &(k, s) in reqs {
        if cache.get(keys.of(k), SimTime::ZERO) {
            hits += 1;
        } else {
            cache.insert(keys.of(k), s, SimTime::NEVER);
        }
        assert!(cache.used_bytes() <= cap, "{} > {cap}", cache.used_bytes());
    }
    hits
}

fn hits_of(mut cache: AnyCache, reqs: &[(u32, u64)]) -> u64 {
    let mut hits = 0;
    for &(k, s) in reqs {
        if cache.get(k, SimTime::ZERO) {
            hits += 1;
        } else {
            cache.insert(k, s, SimTime::NEVER);
        }
    }
    hits
}

/// A key and its size.
type Held = (u32, u64);

/// 2Q spelled out with three vectors (index 0 = newest / most recent): `Ain` FIFO of a quarter
/// of the bytes, `Am` LRU of the rest, ghost `Aout` FIFO of half. Returns the hit count.
fn two_q_model(cap: u64, reqs: &[(u32, u64)]) -> u64 {
    let (ain_cap, aout_cap) = ((cap as f64 * 0.25) as u64, (cap as f64 * 0.5) as u64);
    let am_cap = cap - ain_cap;
    let bytes = |q: &Vec<Held>| q.iter().map(|o| o.1).sum::<u64>();
    let (mut ain, mut am, mut aout): (Vec<Held>, Vec<Held>, Vec<Held>) = (vec![], vec![], vec![]);
    let mut hits = 0;
    for &(k, s) in reqs {
        if ain.iter().any(|o| o.0 == k) {
            hits += 1;
            continue;
        }
        let ghost = match aout.iter().position(|o| o.0 == k) {
            Some(i) => {
                aout.remove(i);
                true
            }
            None => false,
        };
        if let Some(i) = am.iter().position(|o| o.0 == k) {
            let o = am.remove(i);
            am.insert(0, o);
            hits += 1;
            continue;
        }
        if s > ain_cap {
            continue;
        }
        while bytes(&ain) + bytes(&am) + s > cap {
            if bytes(&ain) > ain_cap {
                let o = ain.pop().unwrap();
                aout.insert(0, o);
                while bytes(&aout) > aout_cap {
                    aout.pop();
                }
            } else {
                am.pop();
            }
        }
        if ghost {
            while bytes(&am) + s > am_cap {
                am.pop();
            }
            am.insert(0, (k, s));
        } else {
            ain.insert(0, (k, s));
        }
    }
    hits
}

/// GDSF spelled out over a vector: priority `L + frequency * 10^6 / size`, the victim the lowest
/// (ties: the earliest set, by request number), `L` raised to each victim's. Returns the hit count.
fn gdsf_model(cap: u64, reqs: &[(u32, u64)]) -> u64 {
    struct G {
        key: u32,
        size: u64,
        freq: u64,
        priority: f64,
        set_at: usize,
    }
    let mut held: Vec<G> = Vec::new();
    let mut inflation = 0.0f64;
    let mut hits = 0;
    for (i, &(k, s)) in reqs.iter().enumerate() {
        if let Some(g) = held.iter_mut().find(|g| g.key == k) {
            g.freq += 1;
            g.priority = inflation + g.freq as f64 * 1e6 / g.size as f64;
            g.set_at = i;
            hits += 1;
            continue;
        }
        if s > cap {
            continue;
        }
        while held.iter().map(|g| g.size).sum::<u64>() + s > cap {
            let v = (0..held.len())
                .min_by(|&a, &b| {
                    let (a, b) = (&held[a], &held[b]);
                    a.priority.total_cmp(&b.priority).then(a.set_at.cmp(&b.set_at))
                })
                .unwrap();
            inflation = held.remove(v).priority;
        }
        held.push(G { key: k, size: s, freq: 1, priority: inflation + 1e6 / s as f64, set_at: i });
    }
    hits
}

/// W-TinyLFU spelled out with vectors (index 0 = most recent) and exact counts (the fast cache's
/// sketch is wide enough never to confuse 80 keys): an LRU window, an SLRU main cache of a
/// probation fifth and a protected rest, libCacheSim's rules (the module docs). Returns the hits.
fn wtinylfu_model(cap: u64, reqs: &[(u32, u64)]) -> u64 {
    let window_cap = (cap as f64 * 0.01) as u64;
    let main_cap = cap - window_cap;
    let (prob_cap, prot_cap) = ((main_cap as f64 * 0.2) as u64, (main_cap as f64 * 0.8) as u64);
    let bytes = |q: &Vec<Held>| q.iter().map(|o| o.1).sum::<u64>();
    let (mut window, mut prob, mut prot): (Vec<Held>, Vec<Held>, Vec<Held>) = (vec![], vec![], vec![]);
    let mut count = vec![0u64; 400];
    let mut hits = 0;
    // Into the main cache: the first segment with room, else probation after main victims.
    fn enter(o: Held, prob: &mut Vec<Held>, prot: &mut Vec<Held>, caps: (u64, u64, u64)) {
        let bytes = |q: &Vec<Held>| q.iter().map(|o| o.1).sum::<u64>();
        if bytes(prob) + o.1 <= caps.0 {
            prob.insert(0, o);
        } else if bytes(prot) + o.1 <= caps.1 {
            prot.insert(0, o);
        } else {
            while bytes(prob) + bytes(prot) + o.1 > caps.2 {
                if prob.pop().is_none() {
                    prot.pop();
                }
            }
            prob.insert(0, o);
        }
    }
    let caps = (prob_cap, prot_cap, main_cap);
    for &(k, s) in reqs {
        if let Some(i) = window.iter().position(|o| o.0 == k) {
            let o = window.remove(i);
            window.insert(0, o);
            hits += 1;
            continue;
        }
        if let Some(i) = prot.iter().position(|o| o.0 == k) {
            let o = prot.remove(i);
            prot.insert(0, o);
            count[k as usize] += 1;
            hits += 1;
            continue;
        }
        if let Some(i) = prob.iter().position(|o| o.0 == k) {
            let o = prob.remove(i);
            prot.insert(0, o);
            while bytes(&prot) > prot_cap {
                let d = prot.pop().unwrap();
                prob.insert(0, d);
                while bytes(&prob) > prob_cap {
                    prob.pop();
                }
            }
            count[k as usize] += 1;
            hits += 1;
            continue;
        }
        if s > window_cap || s > prob_cap {
            continue;
        }
        while bytes(&window) + bytes(&prob) + bytes(&prot) + s > cap {
            // One round: window victims move in until one loses (or the window empties).
            loop {
                let Some(&w) = window.last() else {
                    if prob.pop().is_none() {
                        prot.pop();
                    }
                    break;
                };
                let main_victim = prob.last().or(prot.last()).copied();
                let lost = if bytes(&prob) + bytes(&prot) + w.1 <= main_cap {
                    window.pop();
                    enter(w, &mut prob, &mut prot, caps);
                    false
                } else if count[w.0 as usize] > count[main_victim.unwrap().0 as usize] {
                    if prob.pop().is_none() {
                        prot.pop();
                    }
                    window.pop();
                    enter(w, &mut prob, &mut prot, caps);
                    false
                } else {
                    window.pop();
                    true
                };
                count[w.0 as usize] += 1;
                if lost {
                    break;
                }
            }
        }
        window.insert(0, (k, s));
        count[k as usize] += 1;
    }
    hits
}

/// ARC spelled out with four vectors (index 0 = most recent / newest), sizes in bytes, as the
/// module docs of `ArcCache` describe libCacheSim's: `T1`, `T2` (LRU), ghosts `B1`, `B2` (FIFO),
/// the target `p`. Returns the hits.
fn arc_model(cap: u64, reqs: &[(u32, u64)]) -> u64 {
    struct A {
        cap: u64,
        p: u64,
        t1: Vec<Held>,
        t2: Vec<Held>,
        b1: Vec<Held>,
        b2: Vec<Held>,
    }
    fn bytes(q: &[Held]) -> u64 {
        q.iter().map(|o| o.1).sum()
    }
    fn take(q: &mut Vec<Held>, k: u32) -> Option<Held> {
        q.iter().position(|o| o.0 == k).map(|i| q.remove(i))
    }
    impl A {
        /// One object from T1 to B1, or from T2 to B2.
        fn replace(&mut self, in_b2: bool) {
            let t1 = bytes(&self.t1);
            if t1 > 0 && (t1 > self.p || (t1 == self.p && in_b2)) || self.t2.is_empty() {
                if let Some(o) = self.t1.pop() {
                    self.b1.insert(0, o);
                }
            } else if let Some(o) = self.t2.pop() {
                self.b2.insert(0, o);
            }
        }
    }
    let mut a = A { cap, p: 0, t1: vec![], t2: vec![], b1: vec![], b2: vec![] };
    let mut hits = 0;
    for &(k, s) in reqs {
        if let Some(o) = take(&mut a.t1, k).or_else(|| take(&mut a.t2, k)) {
            a.t2.insert(0, o);
            hits += 1;
            continue;
        }
        let (mut in_b1, mut in_b2) = (false, false);
        if a.b1.iter().any(|o| o.0 == k) {
            let (b1, b2) = (bytes(&a.b1), bytes(&a.b2));
            a.p = (a.p + (b2 / b1).max(1)).min(a.cap);
            in_b1 = true;
            a.replace(false);
            take(&mut a.b1, k);
        } else if a.b2.iter().any(|o| o.0 == k) {
            let (b1, b2) = (bytes(&a.b1), bytes(&a.b2));
            a.p = a.p.saturating_sub((b1 / b2).max(1));
            in_b2 = true;
            a.replace(true);
            take(&mut a.b2, k);
        }
        if s > cap {
            continue;
        }
        while bytes(&a.t1) + bytes(&a.t2) + s > cap {
            let (t1, b1) = (bytes(&a.t1), bytes(&a.b1));
            if t1 + b1 + s > cap {
                if t1 < cap {
                    a.b1.pop();
                    a.replace(in_b2);
                } else {
                    a.t1.pop();
                }
            } else {
                if t1 + b1 + bytes(&a.t2) + bytes(&a.b2) >= 2 * cap {
                    a.b2.pop();
                }
                a.replace(in_b2);
            }
        }
        if in_b1 || in_b2 {
            a.t2.insert(0, (k, s));
        } else {
            a.t1.insert(0, (k, s));
        }
    }
    hits
}

/// LIRS spelled out with vectors (index 0 = top of the stack / front of the queues), following
/// the module docs step by step; with `purge_every`, after every such request `t` the key of
/// request `t / 2` is purged (taken out of every list, then S pruned). Returns the hits.
fn lirs_model(cap: u64, reqs: &[(u32, u64)], purge_every: Option<usize>) -> u64 {
    #[derive(Clone, Copy)]
    struct E {
        key: u32,
        size: u64,
        lir: bool,
        resident: bool,
    }
    struct M {
        s: Vec<E>,
        q: Vec<Held>,
        nh: Vec<u32>,
        hir_limit: u64,
    }
    impl M {
        fn lir_bytes(&self) -> u64 {
            self.s.iter().filter(|e| e.lir).map(|e| e.size).sum()
        }
        fn hir_bytes(&self) -> u64 {
            self.q.iter().map(|o| o.1).sum()
        }
        fn evict_hir(&mut self) {
            let (k, _) = self.q.pop().unwrap();
            if let Some(e) = self.s.iter_mut().find(|e| e.key == k) {
                e.resident = false;
                self.nh.insert(0, k);
            }
        }
        fn prune(&mut self) {
            while self.s.len() >= 2 && !self.s.last().unwrap().lir {
                let b = self.s.pop().unwrap();
                self.nh.retain(|&k| k != b.key);
            }
        }
        fn demote(&mut self) {
            let t = self.s.pop().unwrap();
            assert!(t.lir);
            if t.size <= self.hir_limit {
                while self.hir_bytes() + t.size > self.hir_limit {
                    self.evict_hir();
                }
                self.q.insert(0, (t.key, t.size));
            }
            self.prune();
        }
        fn room(&mut self, size: u64, lir_limit: u64) {
            while self.lir_bytes() > 0 && self.lir_bytes() + size > lir_limit {
                self.demote();
            }
        }
    }
    let hir_limit = ((0.01 * cap as f64) as u64).max(1);
    let lir_limit = cap - hir_limit;
    let mut m = M { s: vec![], q: vec![], nh: vec![], hir_limit };
    let mut hits = 0;
    for (t, &(k, size)) in reqs.iter().enumerate() {
        // Up to the top of S and the front of Q, wherever it is.
        let in_s = m.s.iter().position(|e| e.key == k).map(|i| m.s.remove(i));
        let in_q = m.q.iter().position(|o| o.0 == k).map(|i| m.q.remove(i));
        match (in_s, in_q) {
            (Some(e), _) if e.lir => {
                m.s.insert(0, e);
                m.prune();
                hits += 1;
            }
            (Some(e), Some(_)) => {
                m.s.insert(0, e);
                m.room(e.size, lir_limit);
                m.s.iter_mut().find(|x| x.key == k).unwrap().lir = true;
                hits += 1;
            }
            (Some(e), None) => {
                // A ghost: a miss, then LIR.
                m.s.insert(0, e);
                if size <= cap {
                    m.room(e.size, lir_limit);
                    m.nh.retain(|&g| g != k);
                    let x = m.s.iter_mut().find(|x| x.key == k).unwrap();
                    x.lir = true;
                    x.resident = true;
                }
            }
            (None, Some(o)) => {
                m.q.insert(0, o);
                m.room(o.1, lir_limit);
                if m.q.iter().any(|x| x.0 == k) {
                    m.s.insert(0, E { key: k, size: o.1, lir: false, resident: true });
                }
                hits += 1;
            }
            (None, None) => {
                if size <= hir_limit && size <= lir_limit {
                    if m.lir_bytes() + size > lir_limit {
                        while m.hir_bytes() + size > hir_limit {
                            m.evict_hir();
                        }
                    }
                    let lir = m.lir_bytes() + size <= lir_limit;
                    m.s.insert(0, E { key: k, size, lir, resident: true });
                    if !lir {
                        m.q.insert(0, (k, size));
                    }
                }
            }
        }
        // The stack's bound: the oldest ghosts go while S holds more than twice the bytes.
        while m.s.iter().map(|e| e.size).sum::<u64>() > 2 * cap {
            let Some(g) = m.nh.pop() else { break };
            m.s.retain(|e| e.key != g);
        }
        assert!(m.lir_bytes() + m.hir_bytes() <= cap);
        if purge_every.is_some_and(|n| t % n == 0) {
            let p = reqs[t / 2].0;
            m.s.retain(|e| e.key != p);
            m.q.retain(|o| o.0 != p);
            m.nh.retain(|&g| g != p);
            m.prune();
        }
    }
    hits
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arc_matches_its_model((cap, reqs) in requests(), (wide_cap, wide) in wide_requests()) {
        for keys in Keys::ALL {
            prop_assert_eq!(hits_of_keys(AnyCache::new(Policy::Arc, cap), cap, &reqs, keys), arc_model(cap, &reqs));
            let fast = hits_of_keys(AnyCache::new(Policy::Arc, wide_cap), wide_cap, &wide, keys);
            prop_assert_eq!(fast, arc_model(wide_cap, &wide), "{:?}", keys);
        }
    }

    #[test]
    fn wtinylfu_matches_its_model((cap, reqs) in wide_requests()) {
        for keys in Keys::ALL {
            let fast = hits_of_keys(AnyCache::new(Policy::WTinyLfu, cap), cap, &reqs, keys);
            prop_assert_eq!(fast, wtinylfu_model(cap, &reqs), "{:?}", keys);
        }
    }

    #[test]
    fn lirs_matches_its_model((cap, reqs) in wide_requests()) {
        for keys in Keys::ALL {
            let fast = hits_of_keys(AnyCache::new(Policy::Lirs, cap), cap, &reqs, keys);
            prop_assert_eq!(fast, lirs_model(cap, &reqs, None), "{:?}", keys);
        }
    }

    /// Purges (and expiries, which drop an object the same way) in the middle of S and Q: of an
    /// older key, so that S's bottom goes too.
    #[test]
    fn lirs_matches_its_model_with_purges((cap, reqs) in wide_requests(), every in 2usize..20) {
        let mut c = LirsCache::new(cap);
        let mut hits = 0;
        for (t, &(k, s)) in reqs.iter().enumerate() {
            if c.get(k, SimTime::ZERO) {
                hits += 1;
            } else {
                c.insert(k, s, SimTime::NEVER);
            }
            if t % every == 0 {
                c.remove(reqs[t / 2].0);
            }
            prop_assert!(c.used_bytes() <= cap);
            prop_assert_eq!(c.check_invariants(), Ok(()), "step {}", t);
        }
        prop_assert_eq!(hits, lirs_model(cap, &reqs, Some(every)));
    }

    #[test]
    fn gdsf_matches_its_model((cap, reqs) in requests()) {
        prop_assert_eq!(hits_of(AnyCache::new(Policy::Gdsf, cap), &reqs), gdsf_model(cap, &reqs));
    }

    /// A second-hit filter in front of LRU caches an object from its second miss on: the LRU
    /// model with a list of the keys that missed.
    #[test]
    fn second_hit_admission_matches_its_model((cap, reqs) in requests()) {
        let mut fast = AnyCache::new(Policy::Lru, cap);
        let mut admit = Admission::SecondHit { window: None }.filter();
        let mut model = Model::new(Policy::Lru, cap);
        let mut missed: Vec<u32> = Vec::new();
        for (step, &(k, s)) in reqs.iter().enumerate() {
            let hit = fast.get(k, SimTime::ZERO);
            prop_assert_eq!(hit, model.get(k), "step {}", step);
            if !hit {
                let seen = missed.contains(&k);
                prop_assert_eq!(admit.admits(k, SimTime::ZERO), seen, "step {}", step);
                if seen {
                    fast.insert(k, s, SimTime::NEVER);
                    model.insert(k, s);
                } else {
                    missed.push(k);
                }
            }
        }
    }

    #[test]
    fn two_q_matches_its_model((cap, reqs) in requests()) {
        prop_assert_eq!(hits_of(AnyCache::new(Policy::TwoQ, cap), &reqs), two_q_model(cap, &reqs));
    }

    /// Belady's cache makes its model's hits; with every object one byte (where MIN is optimal)
    /// no other policy makes more.
    #[test]
    fn belady_matches_its_model_and_no_policy_beats_it((cap, reqs) in requests()) {
        let keys: Vec<u32> = reqs.iter().map(|r| r.0).collect();
        let future = std::sync::Arc::new(clipsim_sim::cache::next_requests(&keys));
        let fast = hits_of(AnyCache::for_trace(Policy::Belady, cap, 1, Some(&future)), &reqs);
        prop_assert_eq!(fast, belady_model(cap, &reqs));
        let unit: Vec<(u32, u64)> = reqs.iter().map(|r| (r.0, 1)).collect();
        let slots = cap / 20; // 1 to 19 objects of the 40 keys
        let best = hits_of(AnyCache::for_trace(Policy::Belady, slots, 1, Some(&future)), &unit);
        prop_assert_eq!(best, belady_model(slots, &unit));
        for p in Policy::ALL.into_iter().filter(|p| !p.is_offline() && !p.is_ttl_only()) {
            let h = hits_of(AnyCache::new(p, slots), &unit);
            prop_assert!(h <= best, "{} made {} hits, MIN {}", p.name(), h, best);
        }
    }

    #[test]
    fn list_policies_and_lfu_match_their_models((cap, reqs) in requests()) {
        for policy in [Policy::Lru, Policy::Fifo, Policy::Sieve, Policy::Clock, Policy::Lfu] {
            for keys in Keys::ALL {
                let mut fast = AnyCache::new(policy, cap);
                let mut model = Model::new(policy, cap);
                for (step, &(k, s)) in reqs.iter().enumerate() {
                    let hit = fast.get(keys.of(k), SimTime::ZERO);
                    prop_assert_eq!(hit, model.get(k), "{} step {} key {} {:?}", policy.name(), step, k, keys);
                    if !hit {
                        fast.insert(keys.of(k), s, SimTime::NEVER);
                        model.insert(k, s);
                    }
                    prop_assert_eq!(fast.used_bytes(), model.used(), "{} step {}", policy.name(), step);
                    prop_assert_eq!(fast.len(), model.list.len());
                }
            }
        }
    }

    #[test]
    fn s3fifo_matches_its_model((cap, reqs) in requests()) {
        for keys in Keys::ALL {
            let mut fast = AnyCache::new(Policy::S3Fifo, cap);
            let mut model = S3Model::new(cap);
            for (step, &(k, s)) in reqs.iter().enumerate() {
                let hit = fast.get(keys.of(k), SimTime::ZERO);
                prop_assert_eq!(hit, model.get(k), "step {} key {} {:?}", step, k, keys);
                if !hit {
                    fast.insert(keys.of(k), s, SimTime::NEVER);
                    model.insert(k, s);
                }
                prop_assert_eq!(fast.used_bytes(), model.used(), "step {}", step);
            }
        }
    }

    /// The same with larger caches, where the policies that cache only objects below 1 % of
    /// their bytes (W-TinyLFU, LIRS) hold many: expiries and purges in the middle of their lists.
    #[test]
    fn every_policy_keeps_its_books_in_wide_caches(
        policy in prop::sample::select(Policy::ALL.to_vec()),
        (cap, reqs) in wide_requests(),
        ttl in 1u64..500,
    ) {
        keeps_its_books(policy, cap, &reqs, |k| k, ttl)?;
    }

    #[test]
    fn every_policy_keeps_its_books(
        policy in prop::sample::select(Policy::ALL.to_vec()),
        (cap, reqs) in requests(),
        ttl in 1u64..50,
    ) {
        for keys in Keys::ALL {
            keeps_its_books(policy, cap, &reqs, |k| keys.of(k), ttl)?;
        }
    }
}

/// Replays `reqs` (keys mapped by `key`) through a `policy` cache of `cap` bytes, each object
/// expiring `ttl` after it is cached and every 17th request's object removed: the cache never
/// holds more than `cap` and a removed object is gone.
fn keeps_its_books(
    policy: Policy,
    cap: u64,
    reqs: &[(u32, u64)],
    key: impl Fn(u32) -> u32,
    ttl: u64,
) -> Result<(), TestCaseError> {
    let mut c = AnyCache::new(policy, cap);
    for (t, &(k, s)) in reqs.iter().enumerate() {
        let (k, now) = (key(k), SimTime(t as u64));
        if !c.get(k, now) {
            c.insert(k, s, SimTime(t as u64 + ttl));
        }
        prop_assert!(c.used_bytes() <= cap);
        if t % 17 == 0 {
            c.remove(k);
            prop_assert!(!c.get(k, now));
        }
    }
    Ok(())
}
