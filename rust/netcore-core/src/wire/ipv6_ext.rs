//! IPv6 extension headers (RFC 8200 section 4), the Authentication Header (RFC 4302) and the
//! Mobility Header (RFC 6275), and a walker over a chain of them.
//!
//! Header lengths, as each RFC defines them:
//! - hop-by-hop (0), routing (43), destination options (60), mobility (135):
//!   `(hdr_ext_len + 1) * 8` bytes, the length byte counting 8-octet units after the first 8;
//! - fragment (44): always 8 bytes (its second byte is reserved);
//! - AH (51): `(payload_len + 2) * 4` bytes (RFC 4302 section 2.2: 32-bit words minus 2).
//!
//! [`walk`] steps over these from the next-header value of the IPv6 header, and reports each
//! header's kind, offset and length, the fragment header's fields, and where the upper-layer
//! protocol starts. ESP (50) ends the walk like an upper-layer protocol: what follows it is
//! encrypted. The walk stops at a fragment header whose offset is nonzero, because in a
//! non-first fragment the bytes that follow are the middle of the original payload, not headers
//! (RFC 8200 section 4.5); the kernel likewise only parses past a fragment header after
//! reassembly.
//!
//! Hostile chains are bounded: more than [`MAX_CHAIN`] headers is `Malformed` (in the spirit of
//! the kernel's `max_hbh_opts_number`/`max_dst_opts_number` sysctls, which bound the work one
//! options header can cause), so a packet made of hundreds of tiny headers costs a bounded
//! amount of work and stack. tshark has no such cap, so it decodes chains this walk refuses.

use crate::wire::ipv4::Protocol;
use crate::wire::{Error, Layer, Result, ipv6};

/// Most extension headers [`walk`] follows before calling the chain `Malformed`.
pub const MAX_CHAIN: usize = 16;

/// The Jumbo Payload option type (RFC 2675).
pub const OPT_JUMBO: u8 = 0xc2;
/// The Router Alert option type (RFC 2711).
pub const OPT_ROUTER_ALERT: u8 = 0x05;
/// The Pad1 option type (RFC 8200 section 4.2).
pub const OPT_PAD1: u8 = 0x00;
/// The `PadN` option type (RFC 8200 section 4.2).
pub const OPT_PADN: u8 = 0x01;
/// The Home Address destination option type (RFC 6275 section 6.3).
pub const OPT_HOME_ADDRESS: u8 = 0xc9;

/// Which extension header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtKind {
    /// Hop-by-hop options (0).
    HopByHop,
    /// Routing (43).
    Routing,
    /// Fragment (44).
    Fragment,
    /// Destination options (60).
    DestinationOptions,
    /// Authentication Header (51, RFC 4302).
    Auth,
    /// Mobility Header (135, RFC 6275).
    Mobility,
}

impl ExtKind {
    /// The kind for a next-header value, if it is an extension header [`walk`] steps over.
    #[must_use]
    pub const fn from_protocol(p: Protocol) -> Option<ExtKind> {
        Some(match p.0 {
            0 => ExtKind::HopByHop,
            43 => ExtKind::Routing,
            44 => ExtKind::Fragment,
            60 => ExtKind::DestinationOptions,
            51 => ExtKind::Auth,
            135 => ExtKind::Mobility,
            _ => return None,
        })
    }

    /// The next-header value naming this kind.
    #[must_use]
    pub const fn protocol(self) -> Protocol {
        match self {
            ExtKind::HopByHop => Protocol::HOPOPT,
            ExtKind::Routing => Protocol::ROUTING,
            ExtKind::Fragment => Protocol::FRAGMENT,
            ExtKind::DestinationOptions => Protocol::DSTOPTS,
            ExtKind::Auth => Protocol::AH,
            ExtKind::Mobility => Protocol::MOBILITY,
        }
    }

    /// The layer errors about this header are reported under. AH and the mobility header have
    /// no layer of their own yet and are reported as [`Layer::Ipv6`].
    #[must_use]
    pub const fn layer(self) -> Layer {
        match self {
            ExtKind::HopByHop => Layer::Ipv6HopOpts,
            ExtKind::Routing => Layer::Ipv6Routing,
            ExtKind::Fragment => Layer::Ipv6Frag,
            ExtKind::DestinationOptions => Layer::Ipv6DstOpts,
            ExtKind::Auth | ExtKind::Mobility => Layer::Ipv6,
        }
    }
}

/// One extension header found by [`walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtHeader {
    /// What it is.
    pub kind: ExtKind,
    /// Offset of its first byte in the walked bytes.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
    /// Its next-header field.
    pub next_header: Protocol,
}

/// The fields of a fragment header, as [`walk`] found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// Offset of the fragment header in the walked bytes.
    pub header_offset: usize,
    /// Fragment offset in 8-byte units (13 bits).
    pub frag_offset: u16,
    /// More Fragments.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
    /// The fragment header's next-header field: the protocol of the fragmentable part.
    pub next_header: Protocol,
}

impl FragmentInfo {
    /// Whether this is the first fragment (offset 0), whose payload starts with the
    /// upper-layer header.
    #[must_use]
    pub const fn is_first(&self) -> bool {
        self.frag_offset == 0
    }

    /// Whether this is an atomic fragment (offset 0 and no more fragments, RFC 6946): a whole
    /// datagram that merely carries a fragment header.
    #[must_use]
    pub const fn is_atomic(&self) -> bool {
        self.frag_offset == 0 && !self.more_frags
    }

    /// Fragment offset in bytes.
    #[must_use]
    pub const fn frag_offset_bytes(&self) -> u16 {
        self.frag_offset << 3
    }
}

/// The result of [`walk`]: the extension headers in order, and the upper layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtChain {
    headers: [ExtHeader; MAX_CHAIN],
    count: usize,
    upper_protocol: Protocol,
    upper_offset: usize,
    fragment: Option<FragmentInfo>,
    hop_by_hop_misplaced: bool,
}

impl ExtChain {
    /// The extension headers, in packet order.
    #[must_use]
    pub fn headers(&self) -> &[ExtHeader] {
        self.headers.get(..self.count).unwrap_or(&[])
    }

    /// The protocol after the last extension header (`NONE` (59) when nothing follows, ESP
    /// when the rest is encrypted; for a non-first fragment, the protocol of the original
    /// payload, which does not start here).
    #[must_use]
    pub const fn upper_protocol(&self) -> Protocol {
        self.upper_protocol
    }

    /// Offset where the upper-layer bytes start: the total length of the extension headers.
    #[must_use]
    pub const fn upper_offset(&self) -> usize {
        self.upper_offset
    }

    /// The first fragment header's fields, if there is one.
    #[must_use]
    pub const fn fragment(&self) -> Option<FragmentInfo> {
        self.fragment
    }

    /// Whether the packet is a fragment other than the first: the bytes at
    /// [`Self::upper_offset`] are not an upper-layer header.
    #[must_use]
    pub const fn is_non_first_fragment(&self) -> bool {
        matches!(self.fragment, Some(f) if f.frag_offset != 0)
    }

    /// Whether a hop-by-hop header appeared other than first. RFC 8200 section 4.1 allows it
    /// only right after the IPv6 header; the kernel has no handler for next header 0 after
    /// the first position, so `ip6_protocol_deliver_rcu` answers with an ICMPv6 parameter
    /// problem (unrecognised next header) and drops the packet. The walk still reports it, as
    /// tshark does.
    #[must_use]
    pub const fn hop_by_hop_misplaced(&self) -> bool {
        self.hop_by_hop_misplaced
    }
}

/// Walks the extension headers in `bytes` (the IPv6 payload), starting from the IPv6
/// header's next-header value.
///
/// Errors: `Truncated` when a header runs past `bytes` (with `needed`/`available` counted from
/// that header's start), `Malformed` for an AH shorter than its 12-byte fixed part or a chain
/// longer than [`MAX_CHAIN`].
pub fn walk(first_next_header: u8, bytes: &[u8]) -> Result<ExtChain> {
    let empty = ExtHeader {
        kind: ExtKind::HopByHop,
        offset: 0,
        len: 0,
        next_header: Protocol(0),
    };
    let mut chain = ExtChain {
        headers: [empty; MAX_CHAIN],
        count: 0,
        upper_protocol: Protocol(first_next_header),
        upper_offset: 0,
        fragment: None,
        hop_by_hop_misplaced: false,
    };
    let mut next = Protocol(first_next_header);
    let mut offset = 0usize;
    while let Some(kind) = ExtKind::from_protocol(next) {
        if chain.count == MAX_CHAIN {
            return Err(Error::Malformed {
                layer: kind.layer(),
                what: "extension header chain longer than 16 headers",
            });
        }
        let rest = bytes.get(offset..).unwrap_or(&[]);
        let len = ext_header_len(kind, rest)?;
        let next_header = Protocol(rest[0]);
        if kind == ExtKind::HopByHop && chain.count != 0 {
            chain.hop_by_hop_misplaced = true;
        }
        chain.headers[chain.count] = ExtHeader {
            kind,
            offset,
            len,
            next_header,
        };
        chain.count += 1;
        offset += len;
        next = next_header;
        if kind == ExtKind::Fragment {
            let f = FragmentHeader::new_unchecked(rest);
            let info = FragmentInfo {
                header_offset: offset - len,
                frag_offset: f.frag_offset(),
                more_frags: f.more_frags(),
                ident: f.ident(),
                next_header,
            };
            if chain.fragment.is_none() {
                chain.fragment = Some(info);
            }
            if info.frag_offset != 0 {
                break;
            }
        }
    }
    chain.upper_protocol = next;
    chain.upper_offset = offset;
    Ok(chain)
}

/// The addresses a transport checksum's pseudo-header uses for a packet with source `src`,
/// destination `dst` and extension headers `chain` found in `ext_bytes` (the bytes [`walk`]
/// read): the final destination of a routing header with segments left (RFC 8200 section 8.1)
/// replaces `dst`, and a Home Address destination option replaces `src`, as the kernel's
/// `ipv6_dest_hao` swaps it in before transport processing (RFC 6275 section 6.3). Headers that
/// cannot be read leave the addresses as they are.
#[must_use]
pub fn pseudo_addresses(
    chain: &ExtChain,
    ext_bytes: &[u8],
    src: ipv6::Address,
    dst: ipv6::Address,
) -> (ipv6::Address, ipv6::Address) {
    let (mut src, mut dst) = (src, dst);
    for h in chain.headers() {
        // The chain normally comes from walking `ext_bytes`; re-check anyway so that a
        // mismatched pair cannot make this panic.
        let Some(bytes) = h
            .offset
            .checked_add(h.len)
            .and_then(|end| ext_bytes.get(h.offset..end))
        else {
            continue;
        };
        match h.kind {
            ExtKind::Routing => {
                if let Some(d) = RoutingHeader::new_checked(bytes)
                    .ok()
                    .and_then(|r| r.final_destination())
                {
                    dst = d;
                }
            }
            ExtKind::DestinationOptions => {
                let Ok(opts) = OptionsHeader::new_checked(bytes) else {
                    continue;
                };
                for opt in opts.options().flatten() {
                    if let Ipv6Option::HomeAddress(home) = opt {
                        src = home;
                    }
                }
            }
            _ => {}
        }
    }
    (src, dst)
}

/// Length of the extension header of `kind` at the start of `rest`, checked against `rest`.
fn ext_header_len(kind: ExtKind, rest: &[u8]) -> Result<usize> {
    let min = match kind {
        ExtKind::Fragment => FRAGMENT_HEADER_LEN,
        _ => 2,
    };
    if rest.len() < min {
        return Err(Error::Truncated {
            layer: kind.layer(),
            needed: min,
            available: rest.len(),
        });
    }
    let len = match kind {
        ExtKind::Fragment => FRAGMENT_HEADER_LEN,
        ExtKind::Auth => auth_len(rest[1])?,
        _ => (usize::from(rest[1]) + 1) * 8,
    };
    if rest.len() < len {
        return Err(Error::Truncated {
            layer: kind.layer(),
            needed: len,
            available: rest.len(),
        });
    }
    Ok(len)
}

/// AH length from its payload-length byte (RFC 4302 section 2.2), refusing values below the
/// 12-byte fixed part.
fn auth_len(payload_len: u8) -> Result<usize> {
    let len = (usize::from(payload_len) + 2) * 4;
    if len < AUTH_HEADER_LEN {
        return Err(Error::Malformed {
            layer: Layer::Ipv6,
            what: "AH length below 12 bytes",
        });
    }
    Ok(len)
}

/// Checks a generic "next header, length in 8-octet units" header.
fn check_generic(d: &[u8], layer: Layer, min: usize) -> Result<usize> {
    if d.len() < 2 {
        return Err(Error::Truncated {
            layer,
            needed: min.max(2),
            available: d.len(),
        });
    }
    let len = (usize::from(d[1]) + 1) * 8;
    if d.len() < len {
        return Err(Error::Truncated {
            layer,
            needed: len,
            available: d.len(),
        });
    }
    Ok(len)
}

/// Encodes a generic header length in 8-octet units, if `len` is a multiple of 8 in 8..=2048.
fn generic_len_field(len: usize, layer: Layer) -> Result<u8> {
    if !len.is_multiple_of(8) || !(8..=2048).contains(&len) {
        return Err(Error::Malformed {
            layer,
            what: "header length not a multiple of 8 in 8..=2048",
        });
    }
    Ok((len / 8 - 1) as u8)
}

fn check_room(available: usize, needed: usize, layer: Layer) -> Result<()> {
    if available < needed {
        return Err(Error::Truncated {
            layer,
            needed,
            available,
        });
    }
    Ok(())
}

// --------------------------------------------------------------------------------------------
// Hop-by-hop and destination options headers

/// A view of a hop-by-hop or destination options header (RFC 8200 sections 4.3 and 4.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> OptionsHeader<T> {
    /// Wraps `buffer` (starting at the header) without checking it.
    pub const fn new_unchecked(buffer: T) -> OptionsHeader<T> {
        OptionsHeader { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<OptionsHeader<T>> {
        let h = OptionsHeader::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the whole header is present. Errors are reported as
    /// [`Layer::Ipv6HopOpts`] whichever of the two headers this is; [`walk`] reports the
    /// precise layer.
    pub fn check_len(&self) -> Result<()> {
        check_generic(self.buffer.as_ref(), Layer::Ipv6HopOpts, 8).map(|_| ())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    pub fn next_header(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[0])
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[1]) + 1) * 8
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> OptionsHeader<&'a T> {
    /// The option bytes (after the first two bytes, to the header end).
    #[must_use]
    pub fn options_bytes(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(2..self.header_len()).unwrap_or(&[])
    }

    /// The options, in order.
    #[must_use]
    pub fn options(&self) -> Ipv6Options<'a> {
        Ipv6Options::new(self.options_bytes())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> OptionsHeader<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, next: Protocol) {
        self.buffer.as_mut()[0] = next.0;
    }
}

/// The meaning of a hop-by-hop or destination options header, option bytes kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionsRepr<'a> {
    /// Next header.
    pub next_header: Protocol,
    /// Option bytes, padding included: `2 + options.len()` must be a multiple of 8.
    pub options: &'a [u8],
}

impl<'a> OptionsRepr<'a> {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(h: &OptionsHeader<&'a T>) -> Result<OptionsRepr<'a>> {
        h.check_len()?;
        Ok(OptionsRepr {
            next_header: h.next_header(),
            options: h.options_bytes(),
        })
    }

    /// Header length in bytes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        2 + self.options.len()
    }

    /// Writes the header into `h`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut OptionsHeader<T>) -> Result<()> {
        let len = self.buffer_len();
        let field = generic_len_field(len, Layer::Ipv6HopOpts)?;
        let d = h.buffer.as_mut();
        check_room(d.len(), len, Layer::Ipv6HopOpts)?;
        d[0] = self.next_header.0;
        d[1] = field;
        d[2..len].copy_from_slice(self.options);
        Ok(())
    }
}

/// One option of a hop-by-hop or destination options header (RFC 8200 section 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6Option<'a> {
    /// One byte of padding.
    Pad1,
    /// Padding of `2 + data.len()` bytes.
    PadN(&'a [u8]),
    /// Router Alert (RFC 2711) with its value (0: MLD, 1: RSVP, 2: active networks).
    RouterAlert(u16),
    /// Jumbo Payload (RFC 2675): the real payload length of a jumbogram.
    JumboPayload(u32),
    /// Home Address (RFC 6275 section 6.3), in a destination options header: the mobile
    /// node's home address, which stands for the IPv6 source address in transport checksums.
    HomeAddress(ipv6::Address),
    /// Any other option, or a known one with the wrong length, kept raw.
    Unknown {
        /// Option type.
        kind: u8,
        /// Option data.
        data: &'a [u8],
    },
}

impl Ipv6Option<'_> {
    /// The option type byte.
    #[must_use]
    pub const fn kind(&self) -> u8 {
        match self {
            Ipv6Option::Pad1 => OPT_PAD1,
            Ipv6Option::PadN(_) => OPT_PADN,
            Ipv6Option::RouterAlert(_) => OPT_ROUTER_ALERT,
            Ipv6Option::JumboPayload(_) => OPT_JUMBO,
            Ipv6Option::HomeAddress(_) => OPT_HOME_ADDRESS,
            Ipv6Option::Unknown { kind, .. } => *kind,
        }
    }

    /// Bytes the option occupies.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 1,
            Ipv6Option::PadN(d) | Ipv6Option::Unknown { data: d, .. } => 2 + d.len(),
            Ipv6Option::RouterAlert(_) => 4,
            Ipv6Option::JumboPayload(_) => 6,
            Ipv6Option::HomeAddress(_) => 18,
        }
    }
}

/// What a node must do with an option type it does not recognise: the two high bits of the
/// type (RFC 8200 section 4.2; the kernel's `ip6_tlvopt_unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnknownOptionAction {
    /// `00`: skip the option.
    Skip,
    /// `01`: discard the packet.
    Discard,
    /// `10`: discard and send an ICMPv6 parameter problem.
    DiscardAndReport,
    /// `11`: discard, and report unless the destination is multicast.
    DiscardAndReportUnlessMulticast,
}

impl UnknownOptionAction {
    /// The action encoded in option type `kind`.
    #[must_use]
    pub const fn of(kind: u8) -> UnknownOptionAction {
        match kind >> 6 {
            0 => UnknownOptionAction::Skip,
            1 => UnknownOptionAction::Discard,
            2 => UnknownOptionAction::DiscardAndReport,
            _ => UnknownOptionAction::DiscardAndReportUnlessMulticast,
        }
    }
}

/// Iterator over the options of a hop-by-hop or destination options header. Yields
/// `Err(Malformed)` once, then stops, if an option runs past the end.
#[derive(Debug, Clone)]
pub struct Ipv6Options<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Ipv6Options<'a> {
    /// Iterates over the options in `bytes` (the header after its first two bytes).
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> Ipv6Options<'a> {
        Ipv6Options {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for Ipv6Options<'a> {
    type Item = Result<Ipv6Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let (&kind, after) = self.rest.split_first()?;
        if kind == OPT_PAD1 {
            self.rest = after;
            return Some(Ok(Ipv6Option::Pad1));
        }
        let Some((&len, after)) = after.split_first() else {
            self.failed = true;
            return Some(Err(Error::Malformed {
                layer: Layer::Ipv6HopOpts,
                what: "option length byte missing",
            }));
        };
        let Some((data, after)) = after.split_at_checked(usize::from(len)) else {
            self.failed = true;
            return Some(Err(Error::Malformed {
                layer: Layer::Ipv6HopOpts,
                what: "option runs past the header",
            }));
        };
        self.rest = after;
        Some(Ok(match (kind, data) {
            (OPT_PADN, _) => Ipv6Option::PadN(data),
            (OPT_ROUTER_ALERT, &[a, b]) => Ipv6Option::RouterAlert(u16::from_be_bytes([a, b])),
            (OPT_JUMBO, &[a, b, c, d]) => {
                Ipv6Option::JumboPayload(u32::from_be_bytes([a, b, c, d]))
            }
            (OPT_HOME_ADDRESS, _) if data.len() == 16 => match ipv6::Address::from_bytes(data) {
                Some(a) => Ipv6Option::HomeAddress(a),
                None => Ipv6Option::Unknown { kind, data },
            },
            _ => Ipv6Option::Unknown { kind, data },
        }))
    }
}

// --------------------------------------------------------------------------------------------
// Routing header

/// A view of a routing header (RFC 8200 section 4.4). The type-specific data (addresses for
/// type 0/2, the segment list of a segment routing header, RFC 8754) is left as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RoutingHeader<T> {
    /// Wraps `buffer` without checking it.
    pub const fn new_unchecked(buffer: T) -> RoutingHeader<T> {
        RoutingHeader { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<RoutingHeader<T>> {
        let h = RoutingHeader::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the whole header is present (at least 8 bytes by construction).
    pub fn check_len(&self) -> Result<()> {
        check_generic(self.buffer.as_ref(), Layer::Ipv6Routing, 8).map(|_| ())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    pub fn next_header(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[0])
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[1]) + 1) * 8
    }

    /// Routing type (0: deprecated source route, 2: mobile IPv6, 3: RPL, 4: segment routing).
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[2]
    }

    /// Segments left.
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[3]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> RoutingHeader<&'a T> {
    /// Type-specific data: from byte 4 to the header end.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(4..self.header_len()).unwrap_or(&[])
    }

    /// The final destination named by the header while segments remain (segments left above
    /// zero): the last address of a type 0 or type 2 header, or segment list entry 0 of a
    /// segment routing header (type 4, RFC 8754 section 2, whose list is stored in reverse).
    /// `None` when no segment is left (the IPv6 destination is then the final one), for other
    /// types, or when the list is empty. RFC 8200 section 8.1 has transport checksums use this
    /// address in the pseudo-header.
    #[must_use]
    pub fn final_destination(&self) -> Option<ipv6::Address> {
        if self.segments_left() == 0 {
            return None;
        }
        // Types 0, 2 and 4 all start their address list 8 bytes into the header (4 into the
        // data): after reserved bytes (0, 2) or last entry, flags and tag (4).
        let list = self.data().get(4..)?;
        match self.routing_type() {
            0 | 2 => {
                let n = list.len() / 16;
                ipv6::Address::from_bytes(list.get(n.checked_sub(1)? * 16..)?)
            }
            4 => ipv6::Address::from_bytes(list),
            _ => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RoutingHeader<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, next: Protocol) {
        self.buffer.as_mut()[0] = next.0;
    }

    /// Sets segments left (routers decrement it).
    pub fn set_segments_left(&mut self, left: u8) {
        self.buffer.as_mut()[3] = left;
    }
}

/// The meaning of a routing header, type-specific data kept as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoutingRepr<'a> {
    /// Next header.
    pub next_header: Protocol,
    /// Routing type.
    pub routing_type: u8,
    /// Segments left.
    pub segments_left: u8,
    /// Type-specific data: `4 + data.len()` must be a multiple of 8.
    pub data: &'a [u8],
}

impl<'a> RoutingRepr<'a> {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(h: &RoutingHeader<&'a T>) -> Result<RoutingRepr<'a>> {
        h.check_len()?;
        Ok(RoutingRepr {
            next_header: h.next_header(),
            routing_type: h.routing_type(),
            segments_left: h.segments_left(),
            data: h.data(),
        })
    }

    /// Header length in bytes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }

    /// Writes the header into `h`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut RoutingHeader<T>) -> Result<()> {
        let len = self.buffer_len();
        let field = generic_len_field(len, Layer::Ipv6Routing)?;
        let d = h.buffer.as_mut();
        check_room(d.len(), len, Layer::Ipv6Routing)?;
        d[0] = self.next_header.0;
        d[1] = field;
        d[2] = self.routing_type;
        d[3] = self.segments_left;
        d[4..len].copy_from_slice(self.data);
        Ok(())
    }
}

// --------------------------------------------------------------------------------------------
// Fragment header

/// Length of a fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// A view of a fragment header (RFC 8200 section 4.5).
///
/// ```text
/// | Next Header |  Reserved  |      Fragment Offset    |Res|M|
/// |                         Identification                    |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    /// Wraps `buffer` without checking it.
    pub const fn new_unchecked(buffer: T) -> FragmentHeader<T> {
        FragmentHeader { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<FragmentHeader<T>> {
        let h = FragmentHeader::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the 8 bytes are present.
    pub fn check_len(&self) -> Result<()> {
        check_room(
            self.buffer.as_ref().len(),
            FRAGMENT_HEADER_LEN,
            Layer::Ipv6Frag,
        )
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header: the protocol of the fragmentable part.
    pub fn next_header(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[0])
    }

    /// The reserved byte (zero on send, ignored on receipt).
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    fn offset_word(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[2], d[3]])
    }

    /// Fragment offset in 8-byte units (13 bits).
    pub fn frag_offset(&self) -> u16 {
        self.offset_word() >> 3
    }

    /// The two reserved bits between the offset and M.
    pub fn res_bits(&self) -> u8 {
        ((self.offset_word() >> 1) & 0x3) as u8
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.offset_word() & 1 != 0
    }

    /// Identification.
    pub fn ident(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[4], d[5], d[6], d[7]])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> FragmentHeader<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, next: Protocol) {
        self.buffer.as_mut()[0] = next.0;
    }

    /// Sets offset (8-byte units, 13 bits), reserved bits (zero) and M.
    pub fn set_offset_and_more(&mut self, frag_offset: u16, more_frags: bool) {
        let w = (frag_offset << 3) | u16::from(more_frags);
        self.buffer.as_mut()[2..4].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, ident: u32) {
        self.buffer.as_mut()[4..8].copy_from_slice(&ident.to_be_bytes());
    }
}

/// The meaning of a fragment header. Reserved fields are written as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentRepr {
    /// Next header.
    pub next_header: Protocol,
    /// Fragment offset in 8-byte units (13 bits).
    pub frag_offset: u16,
    /// More Fragments.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
}

impl FragmentRepr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(h: &FragmentHeader<&T>) -> Result<FragmentRepr> {
        h.check_len()?;
        Ok(FragmentRepr {
            next_header: h.next_header(),
            frag_offset: h.frag_offset(),
            more_frags: h.more_frags(),
            ident: h.ident(),
        })
    }

    /// Header length: always 8.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Writes the header into `h` (`Malformed` if the offset exceeds 13 bits).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut FragmentHeader<T>) -> Result<()> {
        if self.frag_offset > 0x1fff {
            return Err(Error::Malformed {
                layer: Layer::Ipv6Frag,
                what: "offset over 13 bits",
            });
        }
        check_room(
            h.buffer.as_ref().len(),
            FRAGMENT_HEADER_LEN,
            Layer::Ipv6Frag,
        )?;
        h.set_next_header(self.next_header);
        h.buffer.as_mut()[1] = 0;
        h.set_offset_and_more(self.frag_offset, self.more_frags);
        h.set_ident(self.ident);
        Ok(())
    }
}

// --------------------------------------------------------------------------------------------
// Authentication Header

/// Length of the AH fixed part (next header, length, reserved, SPI, sequence number).
pub const AUTH_HEADER_LEN: usize = 12;

/// A view of an Authentication Header (RFC 4302 section 2), over IPv6 or IPv4.
///
/// ```text
/// | Next Header   |  Payload Len  |          RESERVED             |
/// |                 Security Parameters Index (SPI)               |
/// |                    Sequence Number Field                      |
/// |                Integrity Check Value-ICV (variable)           |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AuthHeader<T> {
    /// Wraps `buffer` without checking it.
    pub const fn new_unchecked(buffer: T) -> AuthHeader<T> {
        AuthHeader { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<AuthHeader<T>> {
        let h = AuthHeader::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks the length byte (at least the 12-byte fixed part) and that the whole header is
    /// present. Errors are reported as [`Layer::Ipv6`].
    pub fn check_len(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        check_room(d.len(), 2, Layer::Ipv6)?;
        let len = auth_len(d[1])?;
        check_room(d.len(), len, Layer::Ipv6)
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    pub fn next_header(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[0])
    }

    /// The payload length field: header length in 32-bit words, minus 2.
    pub fn payload_len(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Header length in bytes: `(payload_len + 2) * 4`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len()) + 2) * 4
    }

    /// The reserved field.
    pub fn reserved(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[2], d[3]])
    }

    /// Security Parameters Index.
    pub fn spi(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[4], d[5], d[6], d[7]])
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[8], d[9], d[10], d[11]])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> AuthHeader<&'a T> {
    /// Integrity Check Value: from byte 12 to the header end.
    #[must_use]
    pub fn icv(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(AUTH_HEADER_LEN..self.header_len()).unwrap_or(&[])
    }
}

/// The meaning of an Authentication Header. The reserved field is written as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthRepr<'a> {
    /// Next header.
    pub next_header: Protocol,
    /// Security Parameters Index.
    pub spi: u32,
    /// Sequence number.
    pub seq_number: u32,
    /// Integrity Check Value: a multiple of 4 bytes, at most 1008.
    pub icv: &'a [u8],
}

impl<'a> AuthRepr<'a> {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(h: &AuthHeader<&'a T>) -> Result<AuthRepr<'a>> {
        h.check_len()?;
        Ok(AuthRepr {
            next_header: h.next_header(),
            spi: h.spi(),
            seq_number: h.seq_number(),
            icv: h.icv(),
        })
    }

    /// Header length in bytes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        AUTH_HEADER_LEN + self.icv.len()
    }

    /// Writes the header into `h`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut AuthHeader<T>) -> Result<()> {
        let len = self.buffer_len();
        if !len.is_multiple_of(4) || len / 4 - 2 > 255 {
            return Err(Error::Malformed {
                layer: Layer::Ipv6,
                what: "ICV not a multiple of 4 bytes or too long",
            });
        }
        let d = h.buffer.as_mut();
        check_room(d.len(), len, Layer::Ipv6)?;
        d[0] = self.next_header.0;
        d[1] = (len / 4 - 2) as u8;
        d[2..4].fill(0);
        d[4..8].copy_from_slice(&self.spi.to_be_bytes());
        d[8..12].copy_from_slice(&self.seq_number.to_be_bytes());
        d[12..len].copy_from_slice(self.icv);
        Ok(())
    }
}

// --------------------------------------------------------------------------------------------
// Mobility Header

/// Length of the mobility header's fixed part (payload proto, length, type, reserved,
/// checksum).
pub const MOBILITY_FIXED_LEN: usize = 6;

/// A view of a Mobility Header (RFC 6275 section 6.1.1).
///
/// ```text
/// | Payload Proto |  Header Len   |   MH Type     |   Reserved    |
/// |           Checksum            |                               |
/// |                       Message Data                            |
/// ```
///
/// The checksum covers the header with the IPv6 pseudo-header (next header 135), like
/// ICMPv6's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilityHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MobilityHeader<T> {
    /// Wraps `buffer` without checking it.
    pub const fn new_unchecked(buffer: T) -> MobilityHeader<T> {
        MobilityHeader { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<MobilityHeader<T>> {
        let h = MobilityHeader::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the whole header is present. Errors are reported as [`Layer::Ipv6`].
    pub fn check_len(&self) -> Result<()> {
        check_generic(self.buffer.as_ref(), Layer::Ipv6, 8).map(|_| ())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Payload proto (the next-header field; 59 in practice, RFC 6275 section 6.1.1).
    pub fn payload_proto(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[0])
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[1]) + 1) * 8
    }

    /// Mobility header type (e.g. 5 binding update, 6 binding acknowledgement, 7 binding
    /// error).
    pub fn mh_type(&self) -> u8 {
        self.buffer.as_ref()[2]
    }

    /// The reserved byte.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[3]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[4], d[5]])
    }

    /// Whether the checksum is correct, given the IPv6 pseudo-header partial sum `pseudo`
    /// (next header 135, length = header length).
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        let d = self.buffer.as_ref();
        d.get(..self.header_len())
            .is_some_and(|h| crate::checksum::fold(crate::checksum::partial(h, pseudo)) == 0)
    }

    /// [`Self::verify_checksum`] with the pseudo-header built from the addresses.
    pub fn verify_checksum_v6(
        &self,
        src: &crate::wire::ipv6::Address,
        dst: &crate::wire::ipv6::Address,
    ) -> bool {
        self.verify_checksum(self.pseudo_v6(src, dst))
    }

    fn pseudo_v6(&self, src: &crate::wire::ipv6::Address, dst: &crate::wire::ipv6::Address) -> u32 {
        crate::checksum::pseudo_v6(
            &src.0,
            &dst.0,
            Protocol::MOBILITY.0,
            self.header_len() as u32,
        )
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> MobilityHeader<&'a T> {
    /// Message data: from byte 6 to the header end.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(MOBILITY_FIXED_LEN..self.header_len()).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MobilityHeader<T> {
    /// Computes the checksum with pseudo-header partial sum `pseudo` and stores it.
    pub fn fill_checksum(&mut self, pseudo: u32) {
        let len = self.header_len();
        let d = self.buffer.as_mut();
        if let Some(h) = d.get_mut(..len) {
            h[4..6].fill(0);
            let c = crate::checksum::fold(crate::checksum::partial(h, pseudo));
            h[4..6].copy_from_slice(&c.to_be_bytes());
        }
    }

    /// [`Self::fill_checksum`] with the pseudo-header built from the addresses.
    pub fn fill_checksum_v6(
        &mut self,
        src: &crate::wire::ipv6::Address,
        dst: &crate::wire::ipv6::Address,
    ) {
        let pseudo = self.pseudo_v6(src, dst);
        self.fill_checksum(pseudo);
    }
}

/// The meaning of a mobility header, message data kept as bytes. The reserved byte is written
/// as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MobilityRepr<'a> {
    /// Payload proto.
    pub payload_proto: Protocol,
    /// Mobility header type.
    pub mh_type: u8,
    /// Message data: `6 + data.len()` must be a multiple of 8.
    pub data: &'a [u8],
}

impl<'a> MobilityRepr<'a> {
    /// Reads a header (the checksum is not checked).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(h: &MobilityHeader<&'a T>) -> Result<MobilityRepr<'a>> {
        h.check_len()?;
        Ok(MobilityRepr {
            payload_proto: h.payload_proto(),
            mh_type: h.mh_type(),
            data: h.data(),
        })
    }

    /// Header length in bytes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        MOBILITY_FIXED_LEN + self.data.len()
    }

    /// Writes the header into `h` and fills the checksum with pseudo-header partial sum
    /// `pseudo`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        h: &mut MobilityHeader<T>,
        pseudo: u32,
    ) -> Result<()> {
        let len = self.buffer_len();
        let field = generic_len_field(len, Layer::Ipv6)?;
        let d = h.buffer.as_mut();
        check_room(d.len(), len, Layer::Ipv6)?;
        d[0] = self.payload_proto.0;
        d[1] = field;
        d[2] = self.mh_type;
        d[3] = 0;
        d[6..len].copy_from_slice(self.data);
        h.fill_checksum(pseudo);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The extension headers of pcapplusplus `ipv6_options.pcap` frame 1 (bytes after the
    /// IPv6 header): hop-by-hop (Router Alert, `PadN`), destination options (unknown type
    /// 0x0b, `PadN`), routing type 0 with one address (`2200::210:2:0:0:4`), AH (SPI 0x100,
    /// 12-byte ICV), then OSPF (89).
    static CHAIN: [u8; 64] = [
        // hop-by-hop: next 60, len 0
        0x3c, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, //
        // destination options: next 43, len 0
        0x2b, 0x00, 0x0b, 0x01, 0x09, 0x01, 0x01, 0x00, //
        // routing: next 51, len 2, type 0, segments left 1, reserved, one address
        0x33, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, //
        // AH: next 89, payload len 4 (24 bytes), SPI 0x100, seq 32, ICV
        0x59, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x20, 0x35, 0x48, 0x21,
        0x48, 0xb2, 0x43, 0x5a, 0x23, 0xdc, 0xdd, 0x55, 0x36,
    ];

    /// Atomic fragment header from Zeek `ipv6-http-atomic-frag.pcap` frame 13 (next 6, offset 0,
    /// M 0, ident 0), followed by the first 8 bytes of its TCP header.
    static ATOMIC_FRAG: [u8; 16] = [
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe9, 0x2e, 0x00, 0x50, 0x69, 0x81, 0x79,
        0x05,
    ];

    /// Non-first fragment header from pcapplusplus `ipv6-frag.pcap` frame 4 (next 17, offset
    /// 181 units = 1448 bytes, M set, ident 0xf88eb466) and the first payload bytes.
    static LATER_FRAG: [u8; 16] = [
        0x11, 0x00, 0x05, 0xa9, 0xf8, 0x8e, 0xb4, 0x66, 0x68, 0x68, 0x68, 0x68, 0x68, 0x68, 0x68,
        0x68,
    ];

    /// Mobility header (binding error) from Zeek `chksums/mip6-good-mh-chksum.pcap`, with the
    /// IPv6 addresses of that packet; checksum good per tshark.
    static MIP6: [u8; 24] = [
        0x3b, 0x02, 0x07, 0x00, 0xb0, 0xd8, 0x01, 0x00, 0x20, 0x01, 0x00, 0x78, 0x00, 0x01, 0x00,
        0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];
    const MIP6_SRC: ipv6::Address =
        ipv6::Address::new([0x2001, 0x4f8, 4, 7, 0x2e0, 0x81ff, 0xfe52, 0xffff]);
    const MIP6_DST: ipv6::Address =
        ipv6::Address::new([0x2001, 0x4f8, 4, 7, 0x2e0, 0x81ff, 0xfe52, 0x9a6b]);

    #[test]
    fn walk_fixture_chain() {
        let mut bytes = CHAIN.to_vec();
        bytes.extend_from_slice(&[0x03, 0x01, 0x00, 0x28]); // start of OSPF
        let c = walk(0, &bytes).unwrap();
        let kinds: Vec<(ExtKind, usize, usize)> = c
            .headers()
            .iter()
            .map(|h| (h.kind, h.offset, h.len))
            .collect();
        assert_eq!(
            kinds,
            [
                (ExtKind::HopByHop, 0, 8),
                (ExtKind::DestinationOptions, 8, 8),
                (ExtKind::Routing, 16, 24),
                (ExtKind::Auth, 40, 24),
            ]
        );
        assert_eq!(c.upper_protocol(), Protocol(89));
        assert_eq!(c.upper_offset(), 64);
        assert!(c.fragment().is_none() && !c.is_non_first_fragment());
        assert!(!c.hop_by_hop_misplaced());
    }

    #[test]
    fn options_of_fixture() {
        let hbh = OptionsHeader::new_checked(&CHAIN[..8]).unwrap();
        assert_eq!(hbh.next_header(), Protocol::DSTOPTS);
        let opts: Vec<_> = hbh.options().collect::<Result<_>>().unwrap();
        assert_eq!(opts, [Ipv6Option::RouterAlert(0), Ipv6Option::PadN(&[])]);
        let dst = OptionsHeader::new_checked(&CHAIN[8..16]).unwrap();
        let opts: Vec<_> = dst.options().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            [
                Ipv6Option::Unknown {
                    kind: 0x0b,
                    data: &[0x09]
                },
                Ipv6Option::PadN(&[0x00])
            ]
        );
        assert_eq!(UnknownOptionAction::of(0x0b), UnknownOptionAction::Skip);
        assert_eq!(
            UnknownOptionAction::of(OPT_JUMBO),
            UnknownOptionAction::DiscardAndReportUnlessMulticast
        );
    }

    #[test]
    fn fixture_headers_round_trip() {
        // Options headers.
        for range in [0..8, 8..16] {
            let h = OptionsHeader::new_checked(&CHAIN[range.clone()]).unwrap();
            let r = OptionsRepr::parse(&h).unwrap();
            let mut out = vec![0u8; r.buffer_len()];
            r.emit(&mut OptionsHeader::new_unchecked(&mut out[..]))
                .unwrap();
            assert_eq!(out, &CHAIN[range]);
        }
        // Routing.
        let h = RoutingHeader::new_checked(&CHAIN[16..40]).unwrap();
        assert_eq!(
            (h.routing_type(), h.segments_left(), h.header_len()),
            (0, 1, 24)
        );
        assert_eq!(
            ipv6::Address::from_bytes(&h.data()[4..])
                .unwrap()
                .to_string(),
            "2200::210:2:0:0:4"
        );
        let r = RoutingRepr::parse(&h).unwrap();
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut RoutingHeader::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, &CHAIN[16..40]);
        // AH.
        let h = AuthHeader::new_checked(&CHAIN[40..]).unwrap();
        assert_eq!(
            (h.next_header(), h.payload_len(), h.header_len()),
            (Protocol(89), 4, 24)
        );
        assert_eq!((h.spi(), h.seq_number(), h.icv().len()), (0x100, 32, 12));
        let r = AuthRepr::parse(&h).unwrap();
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut AuthHeader::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, &CHAIN[40..]);
        // Fragment.
        let h = FragmentHeader::new_checked(&LATER_FRAG[..]).unwrap();
        let r = FragmentRepr::parse(&h).unwrap();
        assert_eq!(
            r,
            FragmentRepr {
                next_header: Protocol::UDP,
                frag_offset: 181,
                more_frags: true,
                ident: 0xf88e_b466
            }
        );
        let mut out = [0u8; 8];
        r.emit(&mut FragmentHeader::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, LATER_FRAG[..8]);
        // Mobility.
        let h = MobilityHeader::new_checked(&MIP6[..]).unwrap();
        assert_eq!(
            (h.payload_proto(), h.mh_type(), h.header_len()),
            (Protocol::NONE, 7, 24)
        );
        assert!(h.verify_checksum_v6(&MIP6_SRC, &MIP6_DST));
        assert!(!h.verify_checksum_v6(&MIP6_DST, &MIP6_DST));
        let r = MobilityRepr::parse(&h).unwrap();
        let mut out = [0u8; 24];
        let pseudo = crate::checksum::pseudo_v6(&MIP6_SRC.0, &MIP6_DST.0, 135, 24);
        r.emit(&mut MobilityHeader::new_unchecked(&mut out[..]), pseudo)
            .unwrap();
        assert_eq!(out, MIP6);
    }

    /// UDP behind a destination options header carrying a Home Address option (whole IPv6
    /// packet) from Zeek `chksums/ip6-hoa-udp-good-chksum.pcap`; UDP checksum good per tshark.
    static HOA_UDP: [u8; 76] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x3c, 0x40, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00,
        0x07, 0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0xff, 0xff, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04,
        0x00, 0x07, 0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0x9a, 0x6b, 0x11, 0x02, 0x01, 0x02, 0x00,
        0x00, 0xc9, 0x10, 0x20, 0x01, 0x00, 0x78, 0x00, 0x01, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x75, 0x30, 0x32, 0xc8, 0x00, 0x0c, 0x43, 0xde, 0x58, 0x58, 0x58,
        0x58,
    ];

    /// ICMPv6 echo behind a type 0 routing header with one segment left (whole IPv6 packet)
    /// from Zeek `chksums/ip6-route0-icmp6-good-chksum.pcap`; ICMPv6 checksum good per tshark.
    static ROUTE0_ICMP6: [u8; 79] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x27, 0x2b, 0x40, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00,
        0x07, 0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0xff, 0xff, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04,
        0x00, 0x07, 0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0x9a, 0x6b, 0x3a, 0x02, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x78, 0x00, 0x01, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0xa0, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x38, 0x6a, 0x53,
        0x39, 0x46, 0x67, 0x44,
    ];

    #[test]
    fn pseudo_header_uses_home_address() {
        let ip = ipv6::Packet::new_checked(&HOA_UDP[..]).unwrap();
        let ext = ip.payload();
        let chain = walk(ip.next_header().0, ext).unwrap();
        let opts: Vec<_> = OptionsHeader::new_checked(ext).unwrap().options().collect();
        let home = ipv6::Address::new([0x2001, 0x78, 1, 0x32, 0, 0, 0, 1]);
        assert!(opts.contains(&Ok(Ipv6Option::HomeAddress(home))));
        let (src, dst) = pseudo_addresses(&chain, ext, ip.src_addr(), ip.dst_addr());
        assert_eq!((src, dst), (home, ip.dst_addr()));
        let u = crate::wire::udp::Packet::new_checked(&ext[chain.upper_offset()..]).unwrap();
        assert!(u.verify_checksum_v6(&src, &dst));
        assert!(!u.verify_checksum_v6(&ip.src_addr(), &ip.dst_addr()));
    }

    #[test]
    fn pseudo_header_uses_final_destination() {
        let ip = ipv6::Packet::new_checked(&ROUTE0_ICMP6[..]).unwrap();
        let ext = ip.payload();
        let chain = walk(ip.next_header().0, ext).unwrap();
        let r = RoutingHeader::new_checked(ext).unwrap();
        let last = ipv6::Address::new([0x2001, 0x78, 1, 0x32, 0, 0, 0, 1]);
        assert_eq!(r.final_destination(), Some(last));
        let (src, dst) = pseudo_addresses(&chain, ext, ip.src_addr(), ip.dst_addr());
        assert_eq!((src, dst), (ip.src_addr(), last));
        let m = crate::wire::icmpv6::Packet::new_checked(&ext[chain.upper_offset()..]).unwrap();
        assert!(m.verify_checksum_v6(&src, &dst));
        // With no segment left the IPv6 destination is already the final one.
        let mut b = ext.to_vec();
        b[3] = 0;
        assert_eq!(
            RoutingHeader::new_checked(&b[..])
                .unwrap()
                .final_destination(),
            None
        );
        // Segment routing (type 4): segment list entry 0 is the final destination.
        let mut srh = vec![59, 4, 4, 1, 1, 0, 0, 0];
        srh.extend_from_slice(&last.0);
        srh.extend_from_slice(&ipv6::Address::LOOPBACK.0);
        assert_eq!(
            RoutingHeader::new_checked(&srh[..])
                .unwrap()
                .final_destination(),
            Some(last)
        );
    }

    #[test]
    fn walk_fragments() {
        let c = walk(44, &ATOMIC_FRAG).unwrap();
        let f = c.fragment().unwrap();
        assert!(f.is_atomic() && f.is_first());
        assert!(!c.is_non_first_fragment());
        assert_eq!((c.upper_protocol(), c.upper_offset()), (Protocol::TCP, 8));

        let c = walk(44, &LATER_FRAG).unwrap();
        let f = c.fragment().unwrap();
        assert!(c.is_non_first_fragment());
        assert_eq!(
            (f.frag_offset_bytes(), f.more_frags, f.ident),
            (1448, true, 0xf88e_b466)
        );
        assert_eq!((c.upper_protocol(), c.upper_offset()), (Protocol::UDP, 8));
        // The walk stops there even if the fragment data looks like headers.
        let mut b = LATER_FRAG;
        b[0] = 0;
        let c = walk(44, &b).unwrap();
        assert_eq!(c.headers().len(), 1);
        assert_eq!(c.upper_protocol(), Protocol::HOPOPT);
    }

    #[test]
    fn walk_errors_and_edges() {
        // No extension header at all.
        let c = walk(6, &[]).unwrap();
        assert!(c.headers().is_empty());
        assert_eq!((c.upper_protocol(), c.upper_offset()), (Protocol::TCP, 0));
        // No next header.
        let c = walk(59, &[1, 2, 3]).unwrap();
        assert_eq!(c.upper_protocol(), Protocol::NONE);
        // Truncated inside the routing header: counted from its start.
        assert_eq!(
            walk(0, &CHAIN[..30]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv6Routing,
                needed: 24,
                available: 14
            }
        );
        assert_eq!(
            walk(44, &LATER_FRAG[..5]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv6Frag,
                needed: 8,
                available: 5
            }
        );
        assert!(matches!(walk(60, &[]), Err(Error::Truncated { .. })));
        // AH with a length below its fixed part.
        assert!(matches!(
            walk(51, &[59, 0, 0, 0, 0, 0, 0, 0]),
            Err(Error::Malformed { .. })
        ));
        // A loop of destination options headers pointing at themselves.
        let mut looped = Vec::new();
        for _ in 0..40 {
            looped.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert!(matches!(walk(60, &looped), Err(Error::Malformed { .. })));
        // Exactly MAX_CHAIN headers is fine.
        let mut ok = looped[..MAX_CHAIN * 8].to_vec();
        ok[(MAX_CHAIN - 1) * 8] = 59;
        let c = walk(60, &ok).unwrap();
        assert_eq!(c.headers().len(), MAX_CHAIN);
        // Hop-by-hop other than first is reported, not refused.
        let c = walk(60, &[0, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0]).unwrap();
        assert!(c.hop_by_hop_misplaced());
    }

    #[test]
    fn option_iteration_edges() {
        // Pad1, PadN(3), jumbo, then a truncated option.
        let bytes = [
            0, 1, 3, 0, 0, 0, 0xc2, 4, 0x00, 0x01, 0x86, 0xa0, 0x33, 5, 1,
        ];
        let mut it = Ipv6Options::new(&bytes);
        assert_eq!(it.next(), Some(Ok(Ipv6Option::Pad1)));
        assert_eq!(it.next(), Some(Ok(Ipv6Option::PadN(&[0, 0, 0]))));
        assert_eq!(it.next(), Some(Ok(Ipv6Option::JumboPayload(100_000))));
        assert!(matches!(it.next(), Some(Err(Error::Malformed { .. }))));
        assert_eq!(it.next(), None);
        // A known type with the wrong length stays raw.
        let bytes = [0xc2, 2, 1, 2];
        let o: Vec<_> = Ipv6Options::new(&bytes).collect();
        assert_eq!(
            o,
            [Ok(Ipv6Option::Unknown {
                kind: 0xc2,
                data: &[1, 2]
            })]
        );
        assert_eq!(o[0].unwrap().buffer_len(), 4);
        // Length byte missing.
        assert!(matches!(Ipv6Options::new(&[7]).next(), Some(Err(_))));
    }

    #[test]
    fn emit_rejects_bad_lengths() {
        let r = OptionsRepr {
            next_header: Protocol::TCP,
            options: &[0; 5],
        };
        assert!(
            r.emit(&mut OptionsHeader::new_unchecked(&mut [0u8; 16][..]))
                .is_err()
        );
        let r = OptionsRepr {
            next_header: Protocol::TCP,
            options: &[0; 6],
        };
        assert!(matches!(
            r.emit(&mut OptionsHeader::new_unchecked(&mut [0u8; 4][..])),
            Err(Error::Truncated { .. })
        ));
        let r = AuthRepr {
            next_header: Protocol::TCP,
            spi: 0,
            seq_number: 0,
            icv: &[0; 3],
        };
        assert!(
            r.emit(&mut AuthHeader::new_unchecked(&mut [0u8; 16][..]))
                .is_err()
        );
        let r = FragmentRepr {
            next_header: Protocol::TCP,
            frag_offset: 0x2000,
            more_frags: false,
            ident: 0,
        };
        assert!(
            r.emit(&mut FragmentHeader::new_unchecked(&mut [0u8; 8][..]))
                .is_err()
        );
    }

    fn padded(len_units: usize, fixed: usize) -> impl Strategy<Value = Vec<u8>> {
        (0..=len_units)
            .prop_flat_map(move |u| proptest::collection::vec(any::<u8>(), u * 8 + 8 - fixed))
    }

    proptest! {
        #[test]
        fn options_repr_round_trip(nh in any::<u8>(), opts in padded(6, 2)) {
            let r = OptionsRepr { next_header: Protocol(nh), options: &opts };
            let mut out = vec![0u8; r.buffer_len()];
            r.emit(&mut OptionsHeader::new_unchecked(&mut out[..])).unwrap();
            let h = OptionsHeader::new_checked(&out[..]).unwrap();
            prop_assert_eq!(OptionsRepr::parse(&h).unwrap(), r);
            for o in h.options() { let _ = o; }
        }

        #[test]
        fn routing_repr_round_trip(nh in any::<u8>(), t in any::<u8>(), s in any::<u8>(), data in padded(6, 4)) {
            let r = RoutingRepr { next_header: Protocol(nh), routing_type: t, segments_left: s, data: &data };
            let mut out = vec![0u8; r.buffer_len()];
            r.emit(&mut RoutingHeader::new_unchecked(&mut out[..])).unwrap();
            prop_assert_eq!(RoutingRepr::parse(&RoutingHeader::new_checked(&out[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn fragment_repr_round_trip(nh in any::<u8>(), off in 0u16..0x2000, m in any::<bool>(), id in any::<u32>()) {
            let r = FragmentRepr { next_header: Protocol(nh), frag_offset: off, more_frags: m, ident: id };
            let mut out = [0u8; 8];
            r.emit(&mut FragmentHeader::new_unchecked(&mut out[..])).unwrap();
            prop_assert_eq!(FragmentRepr::parse(&FragmentHeader::new_checked(&out[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn auth_repr_round_trip(nh in any::<u8>(), spi in any::<u32>(), seq in any::<u32>(),
                                icv in (0usize..20).prop_flat_map(|w| proptest::collection::vec(any::<u8>(), w * 4))) {
            let r = AuthRepr { next_header: Protocol(nh), spi, seq_number: seq, icv: &icv };
            let mut out = vec![0u8; r.buffer_len()];
            r.emit(&mut AuthHeader::new_unchecked(&mut out[..])).unwrap();
            prop_assert_eq!(AuthRepr::parse(&AuthHeader::new_checked(&out[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn mobility_repr_round_trip(pp in any::<u8>(), t in any::<u8>(), data in padded(4, 6), pseudo in any::<u32>()) {
            let r = MobilityRepr { payload_proto: Protocol(pp), mh_type: t, data: &data };
            let mut out = vec![0u8; r.buffer_len()];
            r.emit(&mut MobilityHeader::new_unchecked(&mut out[..]), pseudo).unwrap();
            let h = MobilityHeader::new_checked(&out[..]).unwrap();
            prop_assert!(h.verify_checksum(pseudo));
            prop_assert_eq!(MobilityRepr::parse(&h).unwrap(), r);
        }

        #[test]
        fn walk_never_panics_and_stays_in_bounds(first in prop_oneof![Just(0u8), Just(43), Just(44), Just(51), Just(60), Just(135), any::<u8>()],
                                                 bytes in proptest::collection::vec(
                                                     prop_oneof![Just(0u8), Just(1), Just(43), Just(44), Just(51), Just(59), Just(60), Just(135), any::<u8>()], 0..200)) {
            if let Ok(c) = walk(first, &bytes) {
                let mut end = 0;
                for h in c.headers() {
                    prop_assert_eq!(h.offset, end);
                    end = h.offset + h.len;
                    prop_assert!(end <= bytes.len());
                }
                prop_assert_eq!(c.upper_offset(), end);
                prop_assert!(c.headers().len() <= MAX_CHAIN);
            }
        }

        #[test]
        fn views_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(h) = OptionsHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.header_len());
                for o in h.options() { let _ = o.map(|o| (o.kind(), o.buffer_len())); }
                prop_assert!(OptionsRepr::parse(&h).is_ok());
            }
            if let Ok(h) = RoutingHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.header_len(), h.routing_type(), h.segments_left(), h.data());
                prop_assert!(RoutingRepr::parse(&h).is_ok());
            }
            if let Ok(h) = FragmentHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.reserved(), h.frag_offset(), h.res_bits(), h.more_frags(), h.ident());
            }
            if let Ok(h) = AuthHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.header_len(), h.reserved(), h.spi(), h.seq_number(), h.icv());
                prop_assert!(AuthRepr::parse(&h).is_ok());
            }
            if let Ok(h) = MobilityHeader::new_checked(&bytes[..]) {
                let _ = (h.payload_proto(), h.header_len(), h.mh_type(), h.reserved(), h.checksum(), h.data(), h.verify_checksum(0));
                prop_assert!(MobilityRepr::parse(&h).is_ok());
            }
        }
    }
}
