//! The findings of one (account, region) cell, stored compactly, and the cursors of the
//! ListFindings listings that cell's detector has open.
//!
//! A benchmark puts a million findings into the sandbox, so a finding is kept as a 40-byte
//! record (type index, severity, times, count, flags, a variant seed) and its JSON is rendered
//! only when GetFindings asks for it (see `render`). Strings a test wants to control travel in
//! an optional boxed side record.
//!
//! Finding ids are not stored at all: an id is a bijective scramble of (cell salt, index in the
//! cell), so it looks like GuardDuty's random 32 hex digits yet decodes back to its cell and
//! slot in O(1). The salt covers the detector id: findings belong to the detector that made
//! them, and a store found bound to an older detector (deleted, then created again) is
//! stale: it is emptied on the next write and ignored by reads.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Attacker-controlled strings a seeded finding may carry instead of the generated ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomStrings {
    /// The queried domain (DNS findings) or the caller's domain (API call findings).
    pub domain: Option<String>,
    /// The user agent of the API call.
    pub user_agent: Option<String>,
    /// The instance's `Name` tag (and its private DNS host name).
    pub instance_name: Option<String>,
}

/// `flags` bits.
const ARCHIVED: u8 = 1;
const SAMPLE: u8 = 2;
const USEFUL: u8 = 4;
const NOT_USEFUL: u8 = 8;

/// One finding, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    /// `createdAt`, and `service.eventFirstSeen`; epoch milliseconds.
    pub created_ms: i64,
    /// `updatedAt`, and `service.eventLastSeen`; epoch milliseconds.
    pub updated_ms: i64,
    /// `service.count`: how many times the activity was seen.
    pub count: u32,
    /// Picks the generated details (resource, remote host, ports) of this finding.
    pub seed: u32,
    /// Index into `catalog::TYPES`.
    pub type_idx: u16,
    /// Severity in tenths (85 = 8.5).
    pub severity_tenths: u16,
    flags: u8,
    pub custom: Option<Box<CustomStrings>>,
}

impl StoredFinding {
    pub fn new(type_idx: u16, severity_tenths: u16, created_ms: i64, seed: u32) -> StoredFinding {
        StoredFinding {
            created_ms,
            updated_ms: created_ms,
            count: 1,
            seed,
            type_idx,
            severity_tenths,
            flags: 0,
            custom: None,
        }
    }

    pub fn severity(&self) -> f64 {
        f64::from(self.severity_tenths) / 10.0
    }

    pub fn archived(&self) -> bool {
        self.flags & ARCHIVED != 0
    }

    pub fn set_archived(&mut self, archived: bool) {
        self.set_flag(ARCHIVED, archived);
    }

    /// Whether CreateSampleFindings made it (its title then starts with `[SAMPLE]`).
    pub fn sample(&self) -> bool {
        self.flags & SAMPLE != 0
    }

    pub fn set_sample(&mut self, sample: bool) {
        self.set_flag(SAMPLE, sample);
    }

    /// `service.userFeedback`: USEFUL, NOT_USEFUL, or none yet.
    pub fn feedback(&self) -> Option<&'static str> {
        if self.flags & USEFUL != 0 {
            Some("USEFUL")
        } else if self.flags & NOT_USEFUL != 0 {
            Some("NOT_USEFUL")
        } else {
            None
        }
    }

    pub fn set_feedback(&mut self, useful: bool) {
        self.flags &= !(USEFUL | NOT_USEFUL);
        self.flags |= if useful { USEFUL } else { NOT_USEFUL };
    }

    fn set_flag(&mut self, bit: u8, on: bool) {
        if on {
            self.flags |= bit;
        } else {
            self.flags &= !bit;
        }
    }
}

/// Where one listed finding lives: the index of its account in the listing's account list,
/// and its index in that account's store.
pub type Slot = (u16, u32);

/// A ListFindings result kept between pages, so that each page is a slice, not a new search.
#[derive(Debug, Clone)]
pub struct Listing {
    pub accounts: Vec<String>,
    /// The id salt of each account's store, in `accounts` order.
    pub salts: Vec<u64>,
    /// Each listed finding with its sort key (0 unless sorted on a number). The vector the
    /// search filled is kept as it is: a listing of a region's findings costs one allocation.
    entries: Vec<(f64, Slot)>,
    /// Entries from here on are not in order yet (see [`Listing::by_number`]).
    ordered: usize,
    descending: bool,
}

/// The order of a listing sorted on a number: by key (descending reverses it), ties in the
/// order the findings were found (account, then age), as a stable sort leaves them.
fn numeric_order(descending: bool) -> impl Fn(&(f64, Slot), &(f64, Slot)) -> Ordering + Copy {
    move |a, b| {
        let by_key = a.0.total_cmp(&b.0);
        (if descending { by_key.reverse() } else { by_key }).then(a.1.cmp(&b.1))
    }
}

impl Listing {
    /// A listing whose entries are already in order (their keys are not used).
    pub fn in_order(accounts: Vec<String>, salts: Vec<u64>, entries: Vec<(f64, Slot)>) -> Listing {
        Listing {
            accounts,
            salts,
            ordered: entries.len(),
            entries,
            descending: false,
        }
    }

    /// A listing sorted on a number, `keyed` in the order the findings were found. Only the
    /// first `first` are put in order now (most clients read one page of a sorted listing,
    /// and selecting it costs a pass, not a sort); the rest waits for [`Listing::order_through`].
    pub fn by_number(
        accounts: Vec<String>,
        salts: Vec<u64>,
        mut entries: Vec<(f64, Slot)>,
        descending: bool,
        first: usize,
    ) -> Listing {
        let order = numeric_order(descending);
        let first = first.min(entries.len());
        if first < entries.len() {
            entries.select_nth_unstable_by(first, order);
        }
        entries[..first].sort_unstable_by(order);
        Listing {
            accounts,
            salts,
            entries,
            ordered: first,
            descending,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether every entry is in order.
    pub fn is_ordered(&self) -> bool {
        self.ordered == self.entries.len()
    }

    /// Put the entries before `end` in order (then all of them: a client that reads a second
    /// page tends to read on).
    pub fn order_through(&mut self, end: usize) {
        if end > self.ordered {
            self.entries[self.ordered..].sort_unstable_by(numeric_order(self.descending));
            self.ordered = self.entries.len();
        }
    }

    /// The slots of the entries in `range`, which must be in order (see
    /// [`Listing::order_through`]).
    pub fn slots(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Slot> + '_ {
        debug_assert!(range.end <= self.ordered, "read before ordering");
        self.entries[range].iter().map(|(_, s)| *s)
    }
}

/// Open listings a detector keeps; the oldest is dropped beyond this many (a client that
/// abandons a listing must not hold memory forever).
const MAX_LISTINGS: usize = 32;

/// Findings of one account in one region.
#[derive(Debug, Default, Clone)]
pub struct FindingStore {
    /// The detector these findings belong to; empty until bound.
    detector: String,
    /// Scrambled into every id of this cell; 0 until bound.
    salt: u64,
    findings: Vec<StoredFinding>,
    listings: BTreeMap<u64, Listing>,
    next_listing: u64,
}

/// Marks the middle word of an unscrambled id, so random strings do not decode by accident.
const ID_TAG: u128 = 0x6764_7362;
const K1: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
const K2: u128 = 0xD6E8_FEB8_6659_FD93_C2B2_AE3D_27D4_EB4F;
const K1_INV: u128 = inverse(K1);
const K2_INV: u128 = inverse(K2);

/// The multiplicative inverse of an odd number modulo 2^128 (Newton's iteration doubles the
/// correct low bits each round: 3, 6, 12, ... 192).
const fn inverse(k: u128) -> u128 {
    let mut y = k;
    let mut i = 0;
    while i < 7 {
        y = y.wrapping_mul(2u128.wrapping_sub(k.wrapping_mul(y)));
        i += 1;
    }
    y
}

/// A bijection of u128: xor-shift by half the width is its own inverse, and multiplication by
/// an odd constant is invertible.
fn scramble(mut x: u128) -> u128 {
    x ^= x >> 64;
    x = x.wrapping_mul(K1);
    x ^= x >> 64;
    x = x.wrapping_mul(K2);
    x ^ (x >> 64)
}

fn unscramble(mut x: u128) -> u128 {
    x ^= x >> 64;
    x = x.wrapping_mul(K2_INV);
    x ^= x >> 64;
    x = x.wrapping_mul(K1_INV);
    x ^ (x >> 64)
}

/// The salt of a cell's detector: FNV-1a of "account/region/detector", never 0.
pub fn salt_of(account: &str, region: &str, detector_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let text = [account, region, detector_id].join("/");
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

/// The id of the finding at `index` of the cell with `salt`.
pub fn encode_id(salt: u64, index: u32) -> String {
    let raw = (u128::from(salt) << 64) | (ID_TAG << 32) | u128::from(index);
    format!("{:032x}", scramble(raw))
}

/// The (salt, index) an id was made from, if it is one of ours.
pub fn decode_id(id: &str) -> Option<(u64, u32)> {
    if id.len() != 32 {
        return None;
    }
    let raw = unscramble(u128::from_str_radix(id, 16).ok()?);
    if (raw >> 32) as u32 != ID_TAG as u32 {
        return None;
    }
    Some(((raw >> 64) as u64, raw as u32))
}

impl FindingStore {
    /// Bind the store to the cell's current detector before writing; a store bound to an
    /// older detector is emptied first.
    pub fn bind(&mut self, account: &str, region: &str, detector_id: &str) {
        if self.detector != detector_id {
            *self = FindingStore {
                detector: detector_id.to_string(),
                salt: salt_of(account, region, detector_id),
                ..FindingStore::default()
            };
        }
    }

    /// Whether the findings belong to `detector_id` (the cell's current detector).
    pub fn is_current(&self, detector_id: &str) -> bool {
        !self.detector.is_empty() && self.detector == detector_id
    }

    /// Append a finding (after [`FindingStore::bind`]); returns its index.
    pub fn push(&mut self, finding: StoredFinding) -> u32 {
        debug_assert!(self.salt != 0, "bind before push");
        self.findings.push(finding);
        (self.findings.len() - 1) as u32
    }

    /// Make room for `n` more findings (seeding knows how many it will add).
    pub fn reserve(&mut self, n: usize) {
        self.findings.reserve_exact(n);
    }

    pub fn salt(&self) -> u64 {
        self.salt
    }

    pub fn len(&self) -> usize {
        self.findings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    pub fn get(&self, index: u32) -> Option<&StoredFinding> {
        self.findings.get(index as usize)
    }

    pub fn get_mut(&mut self, index: u32) -> Option<&mut StoredFinding> {
        self.findings.get_mut(index as usize)
    }

    pub fn all(&self) -> &[StoredFinding] {
        &self.findings
    }

    pub fn all_mut(&mut self) -> &mut [StoredFinding] {
        &mut self.findings
    }

    /// The id of the finding at `index`.
    pub fn id_of(&self, index: u32) -> String {
        encode_id(self.salt, index)
    }

    /// The index of `id` in this store, if it names one of its findings.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        let (salt, index) = decode_id(id)?;
        (salt == self.salt && (index as usize) < self.findings.len()).then_some(index)
    }

    /// Forget every finding and listing (the detector was deleted).
    pub fn clear(&mut self) {
        *self = FindingStore::default();
    }

    /// Keep a listing for later pages; returns its number.
    pub fn open_listing(&mut self, listing: Listing) -> u64 {
        // A search's vector grows by doubling; a kept listing holds at most twice what it
        // lists (copying it to shrink would touch as much memory again).
        while self.listings.len() >= MAX_LISTINGS {
            self.listings.pop_first();
        }
        self.next_listing += 1;
        self.listings.insert(self.next_listing, listing);
        self.next_listing
    }

    pub fn listing_mut(&mut self, number: u64) -> Option<&mut Listing> {
        self.listings.get_mut(&number)
    }

    pub fn close_listing(&mut self, number: u64) {
        self.listings.remove(&number);
    }

    /// Bytes held per finding (records plus spare capacity), for the memory budget.
    pub fn bytes_per_finding(&self) -> f64 {
        if self.findings.is_empty() {
            return 0.0;
        }
        (self.findings.capacity() * std::mem::size_of::<StoredFinding>()) as f64
            / self.findings.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_look_random() {
        let salt = salt_of("200000000001", "us-east-1", "d1");
        let a = encode_id(salt, 0);
        let b = encode_id(salt, 1);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        // Neighbouring slots share no visible prefix or suffix.
        assert_ne!(a[..8], b[..8]);
        assert_ne!(a[24..], b[24..]);
        assert_eq!(decode_id(&a), Some((salt, 0)));
        assert_eq!(decode_id(&encode_id(salt, 123_456)), Some((salt, 123_456)));
        assert_eq!(decode_id("0123456789abcdef0123456789abcdef"), None);
        assert_eq!(decode_id("xyz"), None);
        assert_ne!(salt, salt_of("200000000001", "us-west-2", "d1"));
        assert_ne!(salt, salt_of("200000000001", "us-east-1", "d2"));
    }

    #[test]
    fn store_finds_its_own_ids_only() {
        let mut mine = FindingStore::default();
        let mut theirs = FindingStore::default();
        mine.bind("111111111111", "us-east-1", "d1");
        theirs.bind("222222222222", "us-east-1", "d2");
        let i = mine.push(StoredFinding::new(0, 20, 0, 1));
        theirs.push(StoredFinding::new(0, 20, 0, 1));
        let id = mine.id_of(i);
        assert_eq!(mine.index_of(&id), Some(0));
        assert_eq!(theirs.index_of(&id), None);
        // A new detector in the same cell starts from nothing, with new ids.
        assert!(mine.is_current("d1") && !mine.is_current("d9"));
        mine.bind("111111111111", "us-east-1", "d9");
        assert!(mine.is_empty());
        mine.push(StoredFinding::new(0, 20, 0, 1));
        assert_ne!(mine.id_of(0), id);
    }

    #[test]
    fn flags_are_independent() {
        let mut f = StoredFinding::new(3, 80, 1000, 9);
        f.set_sample(true);
        f.set_archived(true);
        f.set_feedback(false);
        assert!(f.archived() && f.sample());
        assert_eq!(f.feedback(), Some("NOT_USEFUL"));
        f.set_feedback(true);
        f.set_archived(false);
        assert!(!f.archived() && f.sample());
        assert_eq!(f.feedback(), Some("USEFUL"));
        assert_eq!(f.severity(), 8.0);
    }

    #[test]
    #[allow(clippy::print_stdout)] // the sizes are the point of this test
    fn a_hundred_thousand_findings_fit_the_memory_budget() {
        let size = std::mem::size_of::<StoredFinding>();
        println!("StoredFinding is {size} bytes");
        assert!(size <= 64, "StoredFinding is {size} bytes");
        let mut store = FindingStore::default();
        store.bind("111111111111", "us-east-1", "d1");
        let n = 100_000u32;
        store.reserve(n as usize);
        for i in 0..n {
            store.push(StoredFinding::new((i % 40) as u16, 50, i64::from(i), i));
        }
        let per = store.bytes_per_finding();
        println!("{n} findings hold {per:.1} bytes each");
        assert!(per <= 64.0, "{per} bytes per finding");
        let last = store.id_of(n - 1);
        assert_eq!(store.index_of(&last), Some(n - 1));
    }

    /// Selecting the first page, then ordering the rest when a later page asks, gives the
    /// order a stable sort of the whole listing gives, ties in the order found.
    #[test]
    fn numeric_listings_order_as_a_stable_sort() {
        // Few distinct keys (as severities are), in scan order: account, then index.
        let keyed: Vec<(f64, Slot)> = (0..500u32)
            .map(|n| {
                (
                    f64::from((n * 7919) % 13) / 2.0,
                    ((n / 100) as u16, n % 100),
                )
            })
            .collect();
        for descending in [false, true] {
            let mut reference = keyed.clone();
            reference.sort_by(|a, b| {
                let k = a.0.total_cmp(&b.0);
                if descending {
                    k.reverse()
                } else {
                    k
                }
            });
            let want: Vec<Slot> = reference.iter().map(|(_, s)| *s).collect();
            for page in [1, 50, 499, 500, 600] {
                let mut l = Listing::by_number(vec![], vec![], keyed.clone(), descending, page);
                let first = page.min(want.len());
                let slots = |l: &Listing, n| l.slots(0..n).collect::<Vec<_>>();
                assert_eq!(slots(&l, first), want[..first], "page {page}");
                assert_eq!(l.is_ordered(), page >= want.len());
                l.order_through(first);
                assert_eq!(
                    l.is_ordered(),
                    page >= want.len(),
                    "nothing asked past {first}"
                );
                l.order_through(first + 1);
                assert!(l.is_ordered());
                assert_eq!(
                    slots(&l, l.len()),
                    want,
                    "page {page}, descending {descending}"
                );
            }
        }
    }

    #[test]
    fn listings_are_bounded() {
        let mut store = FindingStore::default();
        let first = store.open_listing(Listing::in_order(vec![], vec![], vec![]));
        for _ in 0..MAX_LISTINGS {
            store.open_listing(Listing::in_order(vec![], vec![], vec![]));
        }
        assert!(store.listing_mut(first).is_none());
        assert_eq!(store.listings.len(), MAX_LISTINGS);
    }
}
