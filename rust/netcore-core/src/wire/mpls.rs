//! MPLS label stack entries (RFC 3032), walking a stack, and guessing what follows it.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------------------------------+-----+-+---------------+
//! |                 Label                 | TC  |S|      TTL      |
//! +---------------------------------------+-----+-+---------------+
//! ```
//!
//! TC is the traffic class (formerly EXP, renamed by RFC 5462); S marks the bottom of the stack.
//!
//! The label stack does not say what it carries: that is agreed out of band with the label's
//! forwarding equivalence class. Like Linux (`mpls_egress` takes the IP version nibble as the
//! payload type when the route's `rt_payload_type` is unspecified) and Wireshark (its heuristic
//! after the bottom of stack), [`guess_payload`] reads the first nibble of the payload: 4 is IPv4, 6 is
//! IPv6, anything else ([`Payload::Unknown`]) may be a pseudowire control word (first nibble 0,
//! RFC 4385) or a raw Ethernet pseudowire, which only configuration can tell apart.
//!
//! [`walk`] stops with [`Error::Malformed`] after [`MAX_DEPTH`] entries without a bottom of stack,
//! so a stack of junk cannot make the parser crawl a whole frame four bytes at a time.

use super::ethernet::EtherType;
use super::{Error, Field, Layer, Rest, Result};

mod field {
    use super::{Field, Rest};

    pub const ENTRY: Field = 0..4;
    pub const PAYLOAD: Rest = 4..;
}

/// Length of one label stack entry.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Most entries [`walk`] reads before giving up with [`Error::Malformed`].
pub const MAX_DEPTH: usize = 16;

/// Reserved label values (RFC 3032 section 2.1, RFC 7274).
pub mod label {
    /// IPv4 explicit null: pop, an IPv4 packet follows (valid only at the bottom).
    pub const IPV4_EXPLICIT_NULL: u32 = 0;
    /// Router alert: deliver to the local control plane.
    pub const ROUTER_ALERT: u32 = 1;
    /// IPv6 explicit null: pop, an IPv6 packet follows (valid only at the bottom).
    pub const IPV6_EXPLICIT_NULL: u32 = 2;
    /// Implicit null: advertised in signalling, never sent on the wire.
    pub const IMPLICIT_NULL: u32 = 3;
    /// Entropy label indicator (RFC 6790).
    pub const ENTROPY_LABEL_INDICATOR: u32 = 7;
    /// Generic associated channel label (RFC 5586).
    pub const GAL: u32 = 13;
    /// OAM alert (RFC 3429).
    pub const OAM_ALERT: u32 = 14;
    /// Extension label (RFC 7274).
    pub const EXTENSION: u32 = 15;
    /// Largest reserved label; labels above it are allocated by signalling.
    pub const MAX_RESERVED: u32 = 15;
    /// Largest label value (20 bits).
    pub const MAX: u32 = 0xf_ffff;
}

const LABEL_SHIFT: u32 = 12;
const TC_SHIFT: u32 = 9;
const BOS_BIT: u32 = 0x100;

/// A read/write view of one label stack entry followed by what comes after it.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors panic if it is shorter than an entry.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds a four-byte entry.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Mpls,
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

    /// Length of the entry (always [`HEADER_LEN`]).
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// The whole 32-bit entry.
    #[must_use]
    pub fn entry(&self) -> u32 {
        let d = &self.buffer.as_ref()[field::ENTRY];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// Label (20 bits).
    #[must_use]
    pub fn label(&self) -> u32 {
        self.entry() >> LABEL_SHIFT
    }

    /// Traffic class (3 bits).
    #[must_use]
    pub fn traffic_class(&self) -> u8 {
        ((self.entry() >> TC_SHIFT) & 0x7) as u8
    }

    /// Whether this is the bottom of the stack (S bit).
    #[must_use]
    pub fn bottom_of_stack(&self) -> bool {
        self.entry() & BOS_BIT != 0
    }

    /// Time to live.
    #[must_use]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[3]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after this entry (the next entry, or the payload at the bottom of the stack).
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the whole 32-bit entry.
    pub fn set_entry(&mut self, value: u32) {
        self.buffer.as_mut()[field::ENTRY].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the label (only the low 20 bits of `value` are used).
    pub fn set_label(&mut self, value: u32) {
        let entry = (self.entry() & 0xfff) | ((value & label::MAX) << LABEL_SHIFT);
        self.set_entry(entry);
    }

    /// Sets the traffic class (only the low 3 bits of `value` are used).
    pub fn set_traffic_class(&mut self, value: u8) {
        let entry = (self.entry() & !(0x7 << TC_SHIFT)) | (u32::from(value & 0x7) << TC_SHIFT);
        self.set_entry(entry);
    }

    /// Sets the bottom-of-stack bit.
    pub fn set_bottom_of_stack(&mut self, value: bool) {
        let entry = (self.entry() & !BOS_BIT) | if value { BOS_BIT } else { 0 };
        self.set_entry(entry);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[3] = value;
    }

    /// The bytes after this entry, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of one label stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Repr {
    /// Label, 0 to 2^20 − 1.
    pub label: u32,
    /// Traffic class, 0–7.
    pub traffic_class: u8,
    /// Bottom-of-stack bit.
    pub bottom_of_stack: bool,
    /// Time to live.
    pub ttl: u8,
}

impl Repr {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            label: packet.label(),
            traffic_class: packet.traffic_class(),
            bottom_of_stack: packet.bottom_of_stack(),
            ttl: packet.ttl(),
        })
    }

    /// The 32-bit entry this represents (out-of-range label/TC bits dropped).
    #[must_use]
    pub fn entry(&self) -> u32 {
        ((self.label & label::MAX) << LABEL_SHIFT)
            | (u32::from(self.traffic_class & 0x7) << TC_SHIFT)
            | if self.bottom_of_stack { BOS_BIT } else { 0 }
            | u32::from(self.ttl)
    }

    /// Length of the entry this emits.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the entry into `packet` (at least [`HEADER_LEN`] bytes). A label above 2^20 − 1
    /// or a TC above 7 is cut to its low bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_entry(self.entry());
    }
}

/// What the bytes after the bottom of the stack look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// First nibble 4: an IPv4 header.
    Ipv4,
    /// First nibble 6: an IPv6 header.
    Ipv6,
    /// Anything else (pseudowire control word, Ethernet pseudowire, nothing at all): only the
    /// label's configuration can say.
    Unknown,
}

impl Payload {
    /// The ethertype to demultiplex the payload with, when it is IP.
    #[must_use]
    pub fn ethertype(self) -> Option<EtherType> {
        match self {
            Payload::Ipv4 => Some(EtherType::IPV4),
            Payload::Ipv6 => Some(EtherType::IPV6),
            Payload::Unknown => None,
        }
    }
}

/// Guesses the payload after the bottom of the stack from its first nibble (IP version).
#[must_use]
pub fn guess_payload(payload: &[u8]) -> Payload {
    match payload.first().map(|b| b >> 4) {
        Some(4) => Payload::Ipv4,
        Some(6) => Payload::Ipv6,
        _ => Payload::Unknown,
    }
}

/// A walked label stack, outermost (top) first, and what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelStack {
    entries: [Repr; MAX_DEPTH],
    len: usize,
    payload: Payload,
}

impl LabelStack {
    /// The entries, top of the stack first; the last one has the bottom-of-stack bit.
    #[must_use]
    pub fn entries(&self) -> &[Repr] {
        &self.entries[..self.len]
    }

    /// Number of entries (at least 1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stack is empty (never, for a stack [`walk`] returned).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Offset of the payload from the start of the walked bytes (4 × number of entries).
    #[must_use]
    pub fn offset(&self) -> usize {
        self.len * HEADER_LEN
    }

    /// The payload guess (see [`guess_payload`]).
    #[must_use]
    pub fn payload(&self) -> Payload {
        self.payload
    }
}

/// Walks the label stack at the start of `data` down to the entry with the bottom-of-stack bit,
/// without allocating, and guesses the payload after it. Fails with [`Error::Truncated`] if the
/// bytes end first, and with [`Error::Malformed`] after [`MAX_DEPTH`] entries without a bottom.
pub fn walk(data: &[u8]) -> Result<LabelStack> {
    let mut stack = LabelStack {
        entries: [Repr::default(); MAX_DEPTH],
        len: 0,
        payload: Payload::Unknown,
    };
    let mut rest = data;
    for slot in &mut stack.entries {
        let packet = Packet::new_checked(rest).map_err(|_| Error::Truncated {
            layer: Layer::Mpls,
            needed: stack.len * HEADER_LEN + HEADER_LEN,
            available: data.len(),
        })?;
        *slot = Repr::parse(&packet)?;
        stack.len += 1;
        rest = packet.payload();
        if slot.bottom_of_stack {
            stack.payload = guess_payload(rest);
            return Ok(stack);
        }
    }
    Err(Error::Malformed {
        layer: Layer::Mpls,
        what: "no bottom of stack within 16 label entries",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// pcapplusplus `MplsPackets.pcap` frame 1 after Ethernet and two 802.1Q tags (tshark:
    /// `…:vlan:ethertype:vlan:ethertype:mpls:ip:tcp:http`): label 16000, S, TTL 126, IPv4.
    static ONE_LABEL_IPV4: [u8; 12] = [
        0x03, 0xe8, 0x01, 0x7e, 0x45, 0x00, 0x01, 0x4f, 0x7a, 0xc5, 0x00, 0x00,
    ];

    /// pcapplusplus `MplsPackets.pcap` frame 2 after Ethernet (tshark: `eth:ethertype:mpls:
    /// pwethheuristic:pwethcw:eth:…`): labels 18 and 16, then a pseudowire control word.
    static TWO_LABELS_PW: [u8; 16] = [
        0x00, 0x01, 0x20, 0xfe, 0x00, 0x01, 0x01, 0xff, 0x00, 0x00, 0x00, 0x00, 0xcc, 0x07, 0x0d,
        0x08,
    ];

    #[test]
    fn parse_entry() {
        let p = Packet::new_checked(&ONE_LABEL_IPV4[..]).unwrap();
        assert_eq!(p.label(), 16000);
        assert_eq!(p.traffic_class(), 0);
        assert!(p.bottom_of_stack());
        assert_eq!(p.ttl(), 126);
        assert_eq!(p.payload()[0], 0x45);
    }

    #[test]
    fn walk_fixtures() {
        let s = walk(&ONE_LABEL_IPV4).unwrap();
        assert_eq!((s.len(), s.offset(), s.payload()), (1, 4, Payload::Ipv4));
        assert_eq!(s.payload().ethertype(), Some(EtherType::IPV4));

        let s = walk(&TWO_LABELS_PW).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.entries()[0],
            Repr {
                label: 18,
                traffic_class: 0,
                bottom_of_stack: false,
                ttl: 254
            }
        );
        assert_eq!(
            s.entries()[1],
            Repr {
                label: 16,
                traffic_class: 0,
                bottom_of_stack: true,
                ttl: 255
            }
        );
        assert_eq!(s.offset(), 8);
        assert_eq!(s.payload(), Payload::Unknown);
        assert_eq!(s.payload().ethertype(), None);
    }

    #[test]
    fn guesses() {
        assert_eq!(guess_payload(&[0x60, 0, 0, 0]), Payload::Ipv6);
        assert_eq!(guess_payload(&[0x45]), Payload::Ipv4);
        assert_eq!(guess_payload(&[0x00, 0x00]), Payload::Unknown);
        assert_eq!(guess_payload(&[]), Payload::Unknown);
    }

    #[test]
    fn walk_errors() {
        assert_eq!(
            walk(&TWO_LABELS_PW[..6]),
            Err(Error::Truncated {
                layer: Layer::Mpls,
                needed: 8,
                available: 6
            })
        );
        assert_eq!(
            walk(&[]),
            Err(Error::Truncated {
                layer: Layer::Mpls,
                needed: 4,
                available: 0
            })
        );
        // Sixteen entries, none at the bottom.
        let data = [0u8; 4 * MAX_DEPTH + 8];
        assert!(matches!(
            walk(&data),
            Err(Error::Malformed {
                layer: Layer::Mpls,
                ..
            })
        ));
        // Sixteen entries, the last at the bottom: accepted, empty payload.
        let mut data = [0u8; 4 * MAX_DEPTH];
        data[4 * MAX_DEPTH - 2] = 0x01;
        let s = walk(&data).unwrap();
        assert_eq!(
            (s.len(), s.offset(), s.payload()),
            (MAX_DEPTH, 64, Payload::Unknown)
        );
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for entry in [
            &ONE_LABEL_IPV4[..4],
            &TWO_LABELS_PW[..4],
            &TWO_LABELS_PW[4..8],
            &[0xff; 4][..],
        ] {
            let r = Repr::parse(&Packet::new_checked(entry).unwrap()).unwrap();
            let mut out = [0u8; 4];
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], entry);
        }
    }

    #[test]
    fn setters() {
        let mut b = [0u8; 4];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_label(label::MAX);
        p.set_traffic_class(5);
        p.set_bottom_of_stack(true);
        p.set_ttl(64);
        assert_eq!(
            (p.label(), p.traffic_class(), p.bottom_of_stack(), p.ttl()),
            (label::MAX, 5, true, 64)
        );
        p.set_label(label::IPV6_EXPLICIT_NULL);
        p.set_bottom_of_stack(false);
        assert_eq!(p.into_inner(), &[0x00, 0x00, 0x2a, 0x40]);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (0..=label::MAX, 0u8..8, any::<bool>(), any::<u8>()).prop_map(|(l, tc, s, ttl)| Repr {
            label: l,
            traffic_class: tc,
            bottom_of_stack: s,
            ttl,
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
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.entry(), p.label(), p.traffic_class(), p.bottom_of_stack(), p.ttl(), p.payload());
                let _ = Repr::parse(&p).unwrap();
            }
            if let Ok(s) = walk(&data) {
                prop_assert!(s.offset() <= data.len());
                prop_assert!(s.entries().last().unwrap().bottom_of_stack);
                prop_assert!(s.entries()[..s.len() - 1].iter().all(|e| !e.bottom_of_stack));
            }
        }
    }
}
