//! IEEE 802.1Q (C-tag) and 802.1ad (S-tag) VLAN tags, and walking a stack of them.
//!
//! A tag is announced by the ethertype before it (its TPID: 0x8100 for 802.1Q, 0x88a8 for
//! 802.1ad, 0x9100 for pre-standard QinQ); the view covers the four bytes after that ethertype:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-----+-+-----------------------+-------------------------------+
//! | PCP |D|          VID          |     inner ethertype/length    |
//! +-----+-+-----------------------+-------------------------------+
//! ```
//!
//! PCP is the priority code point (802.1Q clause 6.9.3), D the drop eligible indicator (formerly
//! CFI), VID the VLAN identifier: 0 means "priority tag only, no VLAN" and 0xfff is reserved.
//!
//! [`tags`] and [`walk`] follow a stack of tags of any TPID mix (QinQ is normally an S-tag then a
//! C-tag, but captures also hold two 0x8100 tags) down to the first non-tag ethertype. The walk
//! stops with [`Error::Malformed`] after [`MAX_DEPTH`] tags so hostile input cannot make it
//! loop over a whole jumbo frame four bytes at a time; real networks stack two, rarely three.

use super::ethernet::EtherType;
use super::{Error, Field, Layer, Rest, Result};

mod field {
    use super::{Field, Rest};

    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const PAYLOAD: Rest = 4..;
}

/// Length of one tag (TCI and inner ethertype).
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Most tags [`walk`] follows before giving up with [`Error::Malformed`].
pub const MAX_DEPTH: usize = 8;

/// The VID of a priority-tagged frame: the tag carries a PCP but no VLAN (802.1Q 9.6).
pub const VID_PRIORITY_ONLY: u16 = 0;
/// The VID reserved by 802.1Q (table 9-2); it must not be configured or sent.
pub const VID_RESERVED: u16 = 0xfff;

const VID_MASK: u16 = 0x0fff;
const DEI_BIT: u16 = 0x1000;

/// A read/write view of one VLAN tag followed by its payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors panic if it is shorter than a tag.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the four-byte tag.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Vlan,
                needed: HEADER_LEN,
                available,
            });
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Length of the tag (always [`HEADER_LEN`]).
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// The whole tag control information word (PCP, DEI, VID).
    #[must_use]
    pub fn tci(&self) -> u16 {
        let d = &self.buffer.as_ref()[field::TCI];
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Priority code point (3 bits).
    #[must_use]
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop eligible indicator.
    #[must_use]
    pub fn dei(&self) -> bool {
        self.tci() & DEI_BIT != 0
    }

    /// VLAN identifier (12 bits).
    #[must_use]
    pub fn vid(&self) -> u16 {
        self.tci() & VID_MASK
    }

    /// The ethertype (or 802.3 length) of what follows the tag.
    #[must_use]
    pub fn ethertype(&self) -> EtherType {
        let d = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType(u16::from_be_bytes([d[0], d[1]]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the tag.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the whole tag control information word.
    pub fn set_tci(&mut self, value: u16) {
        self.buffer.as_mut()[field::TCI].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the priority code point (only the low 3 bits of `value` are used).
    pub fn set_pcp(&mut self, value: u8) {
        let tci = (self.tci() & 0x1fff) | (u16::from(value & 0x7) << 13);
        self.set_tci(tci);
    }

    /// Sets the drop eligible indicator.
    pub fn set_dei(&mut self, value: bool) {
        let tci = (self.tci() & !DEI_BIT) | if value { DEI_BIT } else { 0 };
        self.set_tci(tci);
    }

    /// Sets the VLAN identifier (only the low 12 bits of `value` are used).
    pub fn set_vid(&mut self, value: u16) {
        let tci = (self.tci() & !VID_MASK) | (value & VID_MASK);
        self.set_tci(tci);
    }

    /// Sets the inner ethertype.
    pub fn set_ethertype(&mut self, value: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&value.0.to_be_bytes());
    }

    /// The bytes after the tag, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of one VLAN tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Repr {
    /// Priority code point, 0–7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier, 0–4095.
    pub vid: u16,
    /// Ethertype of what follows.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            pcp: packet.pcp(),
            dei: packet.dei(),
            vid: packet.vid(),
            ethertype: packet.ethertype(),
        })
    }

    /// The tag control information word this represents (out-of-range PCP/VID bits dropped).
    #[must_use]
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 0x7) << 13)
            | if self.dei { DEI_BIT } else { 0 }
            | (self.vid & VID_MASK)
    }

    /// Length of the tag this emits.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the tag into `packet` (at least [`HEADER_LEN`] bytes). A PCP above 7 or a VID
    /// above 4095 is cut to its low bits, as the field widths require.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_tci(self.tci());
        packet.set_ethertype(self.ethertype);
    }
}

/// One tag met while walking a stack: the TPID that announced it and its TCI fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tag {
    /// The ethertype that announced this tag (0x8100, 0x88a8 or 0x9100).
    pub tpid: EtherType,
    /// Priority code point.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier.
    pub vid: u16,
}

impl Tag {
    /// The dissection layer of this tag: [`Layer::Qinq`] for an S-tag (0x88a8, 0x9100),
    /// [`Layer::Vlan`] for a C-tag (0x8100).
    #[must_use]
    pub fn layer(&self) -> Layer {
        layer_of(self.tpid)
    }
}

fn layer_of(tpid: EtherType) -> Layer {
    if tpid == EtherType::VLAN {
        Layer::Vlan
    } else {
        Layer::Qinq
    }
}

/// Iterator over the tags of a stack; see [`tags`].
#[derive(Debug, Clone)]
pub struct Tags<'a> {
    data: &'a [u8],
    next_type: EtherType,
    offset: usize,
    depth: usize,
    done: bool,
}

impl Tags<'_> {
    /// The ethertype after the tags read so far; once the iterator returned `None`, the ethertype
    /// of the payload.
    #[must_use]
    pub fn ethertype(&self) -> EtherType {
        self.next_type
    }

    /// Bytes consumed so far; once the iterator returned `None`, the offset of the payload.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl Iterator for Tags<'_> {
    type Item = Result<Tag>;

    fn next(&mut self) -> Option<Result<Tag>> {
        if self.done || !self.next_type.is_vlan() {
            self.done = true;
            return None;
        }
        if self.depth == MAX_DEPTH {
            self.done = true;
            return Some(Err(Error::Malformed {
                layer: layer_of(self.next_type),
                what: "more than 8 stacked VLAN tags",
            }));
        }
        let end = self.offset + HEADER_LEN;
        let Some(bytes) = self.data.get(self.offset..end) else {
            self.done = true;
            return Some(Err(Error::Truncated {
                layer: layer_of(self.next_type),
                needed: end,
                available: self.data.len(),
            }));
        };
        let view = Packet::new_unchecked(bytes);
        let tag = Tag {
            tpid: self.next_type,
            pcp: view.pcp(),
            dei: view.dei(),
            vid: view.vid(),
        };
        self.next_type = view.ethertype();
        self.offset = end;
        self.depth += 1;
        Some(Ok(tag))
    }
}

impl core::iter::FusedIterator for Tags<'_> {}

/// Iterates over the tags at the start of `data` (the bytes after an ethertype), given that
/// ethertype. Yields nothing when `ethertype` does not announce a tag; yields one error, then
/// stops, on truncation or after [`MAX_DEPTH`] tags.
#[must_use]
pub fn tags(data: &[u8], ethertype: EtherType) -> Tags<'_> {
    Tags {
        data,
        next_type: ethertype,
        offset: 0,
        depth: 0,
        done: false,
    }
}

/// A walked tag stack, outermost first, with the ethertype and offset of what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagStack {
    tags: [Tag; MAX_DEPTH],
    len: usize,
    ethertype: EtherType,
    offset: usize,
}

impl TagStack {
    /// The tags, outermost first.
    #[must_use]
    pub fn tags(&self) -> &[Tag] {
        &self.tags[..self.len]
    }

    /// Number of tags.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there was no tag at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ethertype (or 802.3 length) of the payload after the last tag.
    #[must_use]
    pub fn ethertype(&self) -> EtherType {
        self.ethertype
    }

    /// Offset of that payload from the start of the walked bytes (4 × number of tags).
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// Walks the tag stack at the start of `data` (the bytes after an ethertype), given that
/// ethertype, without allocating. Fails on truncation and after [`MAX_DEPTH`] tags.
pub fn walk(data: &[u8], ethertype: EtherType) -> Result<TagStack> {
    let mut stack = TagStack {
        tags: [Tag::default(); MAX_DEPTH],
        len: 0,
        ethertype,
        offset: 0,
    };
    let mut iter = tags(data, ethertype);
    for (slot, tag) in stack.tags.iter_mut().zip(&mut iter) {
        *slot = tag?;
        stack.len += 1;
    }
    // The zip stops at MAX_DEPTH tags without asking the iterator again: ask once more so a
    // ninth tag (or a truncated one) reports its error.
    if let Some(Err(e)) = iter.next() {
        return Err(e);
    }
    stack.ethertype = iter.ethertype();
    stack.offset = iter.offset();
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// tcpdump `802.1ad_QinQ.pcap` frame 1 (tshark: `eth:ethertype:ieee8021ad:ethertype:vlan:
    /// ethertype:arp`): S-tag VID 200, C-tag VID 2001 PCP 0, then ARP.
    static QINQ_FRAME: [u8; 64] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f, 0x88, 0xa8, 0x00,
        0xc8, 0x81, 0x00, 0x07, 0xd1, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f, 0xac, 0x15, 0x4f, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xac, 0x15, 0x4f, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ];

    fn after_ethertype() -> &'static [u8] {
        &QINQ_FRAME[14..]
    }

    #[test]
    fn parse_fixture() {
        let p = Packet::new_checked(after_ethertype()).unwrap();
        assert_eq!((p.pcp(), p.dei(), p.vid()), (0, false, 200));
        assert_eq!(p.ethertype(), EtherType::VLAN);
        let inner = Packet::new_checked(p.payload()).unwrap();
        assert_eq!(inner.vid(), 2001);
        assert_eq!(inner.ethertype(), EtherType::ARP);
        assert_eq!(inner.payload().len(), 42);
    }

    #[test]
    fn walk_fixture() {
        let s = walk(after_ethertype(), EtherType::QINQ).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.tags()[0],
            Tag {
                tpid: EtherType::QINQ,
                pcp: 0,
                dei: false,
                vid: 200
            }
        );
        assert_eq!(s.tags()[0].layer(), Layer::Qinq);
        assert_eq!(
            s.tags()[1],
            Tag {
                tpid: EtherType::VLAN,
                pcp: 0,
                dei: false,
                vid: 2001
            }
        );
        assert_eq!(s.tags()[1].layer(), Layer::Vlan);
        assert_eq!(s.ethertype(), EtherType::ARP);
        assert_eq!(s.offset(), 8);
    }

    #[test]
    fn walk_untagged() {
        let s = walk(&QINQ_FRAME[22..], EtherType::ARP).unwrap();
        assert!(s.is_empty());
        assert_eq!((s.ethertype(), s.offset()), (EtherType::ARP, 0));
    }

    #[test]
    fn walk_truncated() {
        // Cut inside the C-tag: the S-tag reads, the C-tag does not.
        assert_eq!(
            walk(&after_ethertype()[..6], EtherType::QINQ),
            Err(Error::Truncated {
                layer: Layer::Vlan,
                needed: 8,
                available: 6
            })
        );
        assert_eq!(
            walk(&[], EtherType::QINQ_LEGACY),
            Err(Error::Truncated {
                layer: Layer::Qinq,
                needed: 4,
                available: 0
            })
        );
        let mut it = tags(&after_ethertype()[..6], EtherType::QINQ);
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }

    #[test]
    fn walk_depth_cap() {
        // Eight 0x8100 tags each announcing another, then IPv4: accepted.
        let mut data = Vec::new();
        for i in 0..MAX_DEPTH {
            let next = if i + 1 == MAX_DEPTH {
                0x0800u16
            } else {
                0x8100
            };
            data.extend_from_slice(&(i as u16 + 1).to_be_bytes());
            data.extend_from_slice(&next.to_be_bytes());
        }
        let s = walk(&data, EtherType::VLAN).unwrap();
        assert_eq!(s.len(), MAX_DEPTH);
        assert_eq!(s.tags()[7].vid, 8);
        assert_eq!((s.ethertype(), s.offset()), (EtherType::IPV4, 32));
        // A ninth tag is refused.
        data[30..32].copy_from_slice(&[0x81, 0x00]);
        data.extend_from_slice(&[0x00, 0x09, 0x08, 0x00]);
        assert_eq!(
            walk(&data, EtherType::VLAN),
            Err(Error::Malformed {
                layer: Layer::Vlan,
                what: "more than 8 stacked VLAN tags"
            })
        );
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for tag in [
            &QINQ_FRAME[14..18],
            &QINQ_FRAME[18..22],
            &[0xe0, 0x64, 0x86, 0xdd][..],
            &[0xff, 0xff, 0x00, 0x2a],
        ] {
            let r = Repr::parse(&Packet::new_checked(tag).unwrap()).unwrap();
            let mut out = [0u8; 4];
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], tag);
        }
        let r = Repr::parse(&Packet::new_checked(&[0xf0, 0x64, 0x86, 0xdd][..]).unwrap()).unwrap();
        assert_eq!(
            r,
            Repr {
                pcp: 7,
                dei: true,
                vid: 100,
                ethertype: EtherType::IPV6
            }
        );
    }

    #[test]
    fn setters() {
        let mut b = [0u8; 4];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_vid(0xabc);
        p.set_pcp(5);
        p.set_dei(true);
        p.set_ethertype(EtherType::IPV4);
        assert_eq!((p.pcp(), p.dei(), p.vid()), (5, true, 0xabc));
        p.set_dei(false);
        p.set_vid(VID_RESERVED);
        assert_eq!(p.into_inner(), &[0xaf, 0xff, 0x08, 0x00]);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (0u8..8, any::<bool>(), 0u16..4096, any::<u16>()).prop_map(|(pcp, dei, vid, t)| Repr {
            pcp,
            dei,
            vid,
            ethertype: EtherType(t),
        })
    }

    proptest! {
        #[test]
        fn repr_emit_parse(r in arb_repr()) {
            let mut buf = [0u8; HEADER_LEN];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..48), t in any::<u16>()) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.tci(), p.pcp(), p.dei(), p.vid(), p.ethertype(), p.payload());
                let _ = Repr::parse(&p).unwrap();
            }
            let ethertype = EtherType(t);
            let n = tags(&data, ethertype).count();
            prop_assert!(n <= MAX_DEPTH + 1);
            if let Ok(s) = walk(&data, ethertype) {
                prop_assert!(s.offset() <= data.len());
                prop_assert_eq!(s.offset(), 4 * s.len());
                prop_assert!(!s.ethertype().is_vlan());
            }
        }
    }
}
