//! The columns a dissected batch adds: one `Row` per packet, stored as one `Vec` per field.
//!
//! A batch's columns are sized once, holding every field's default, and the dissector writes
//! only the fields a packet has (through [`RowMut`]): cheaper than building a `Row` per packet
//! and pushing each of its ~40 fields.

/// Offset value meaning "no such header".
pub const NONE16: u16 = u16::MAX;
/// Most layers recorded per packet; deeper stacks stop dissection there.
pub const MAX_LAYERS: usize = 16;

macro_rules! columns {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty = $default:expr, )*) => {
        /// The dissection of one packet (a row of [`Columns`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Row {
            $( $(#[$doc])* pub $name: $ty, )*
        }

        impl Default for Row {
            fn default() -> Self {
                Row { $( $name: $default, )* }
            }
        }

        /// Dissection results of a batch, one `Vec` per field of [`Row`].
        #[derive(Debug, Clone, Default)]
        pub struct Columns {
            $( $(#[$doc])* pub $name: Vec<$ty>, )*
        }

        impl Columns {
            /// Names of every column, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Empty columns with room for `n` rows.
            #[must_use]
            pub fn with_capacity(n: usize) -> Self {
                Columns { $( $name: Vec::with_capacity(n), )* }
            }

            /// `n` rows holding the defaults of [`Row`], to be filled in place (each column is
            /// one fill, which is cheaper than pushing every field of every row).
            #[must_use]
            pub fn with_defaults(n: usize) -> Self {
                let d = Row::default();
                Columns { $( $name: vec![d.$name; n], )* }
            }

            /// Keeps the first `n` rows, giving back the memory of the others when they
            /// were most of it.
            pub fn truncate(&mut self, n: usize) {
                let shrink = n < self.nlayers.capacity() / 2;
                $(
                    self.$name.truncate(n);
                    if shrink {
                        self.$name.shrink_to_fit();
                    }
                )*
            }

            /// Appends a row.
            #[inline]
            pub fn push(&mut self, r: &Row) {
                $( self.$name.push(r.$name); )*
            }

            /// Row `i`, if present.
            #[must_use]
            pub fn row(&self, i: usize) -> Option<Row> {
                if i >= self.len() {
                    return None;
                }
                Some(Row { $( $name: self.$name[i], )* })
            }
        }

        /// Mutable access to the fields of one row, wherever the row is stored: the
        /// dissector fills a [`Row`] or a row of [`Columns`] in place through it.
        pub(super) trait RowMut {
            $( fn $name(&mut self) -> &mut $ty; )*
        }

        impl RowMut for Row {
            $( #[inline] fn $name(&mut self) -> &mut $ty { &mut self.$name } )*
        }

        impl RowMut for ColumnsRow<'_> {
            $( #[inline] fn $name(&mut self) -> &mut $ty { &mut self.cols.$name[self.i] } )*
        }
    };
}

/// Row `i` of columns whose columns all have the same length (as
/// [`Columns::with_defaults`] makes them), so that `i` is in range in every one.
pub(super) struct ColumnsRow<'a> {
    pub(super) cols: &'a mut Columns,
    pub(super) i: usize,
}

impl<'a> ColumnsRow<'a> {
    /// Row `i` of `cols` (whose columns have equal lengths), if there is one.
    #[inline]
    pub(super) fn new(cols: &'a mut Columns, i: usize) -> Option<Self> {
        (i < cols.len()).then_some(ColumnsRow { cols, i })
    }
}

columns! {
    /// Layer codes (`wire::Layer as u8`), outermost first, 0 after the last.
    layers: [u8; MAX_LAYERS] = [0; MAX_LAYERS],
    /// Offset of each layer's header, aligned with `layers`.
    layer_off: [u16; MAX_LAYERS] = [0; MAX_LAYERS],
    /// Number of layers.
    nlayers: u8 = 0,
    /// Ethertype of the outermost network layer (after VLAN tags and MPLS), 0 if none.
    ethertype: u16 = 0,
    /// VLAN ID of the outermost tag, `NONE16` if untagged.
    vlan: u16 = NONE16,
    /// Number of VLAN tags (802.1Q and 802.1ad).
    vlan_depth: u8 = 0,
    /// Offset of the outermost network header.
    l3_off: u16 = NONE16,
    /// Offset of the outermost transport header.
    l4_off: u16 = NONE16,
    /// Offset of the outermost transport payload.
    payload_off: u16 = NONE16,
    /// IP version of the outermost network layer (4, 6) or 0.
    ip_version: u8 = 0,
    /// IP protocol (IPv6: after extension headers) of the outermost network layer, 0 if none.
    l4proto: u8 = 0,
    /// TTL or hop limit.
    ttl: u8 = 0,
    /// IPv4 source address as a number (10.0.0.1 is 0x0a000001).
    src4: u32 = 0,
    /// IPv4 destination address as a number.
    dst4: u32 = 0,
    /// IPv6 source address.
    src6: [u8; 16] = [0; 16],
    /// IPv6 destination address.
    dst6: [u8; 16] = [0; 16],
    /// Source port (TCP, UDP, SCTP).
    sport: u16 = 0,
    /// Destination port (TCP, UDP, SCTP).
    dport: u16 = 0,
    /// TCP flags (FIN 0x01 … CWR 0x80, AE 0x100).
    tcp_flags: u16 = 0,
    /// TCP sequence number.
    seq: u32 = 0,
    /// TCP acknowledgement number.
    ack: u32 = 0,
    /// TCP window (unscaled).
    window: u16 = 0,
    /// Transport payload length according to the headers (not what was captured).
    payload_len: u32 = 0,
    /// 0 not a fragment, 1 first fragment, 2 later fragment (outermost network layer).
    frag: u8 = 0,
    /// Encapsulation of the first tunnel (`Layer` code: vxlan, geneve, gre, ipv4, ipv6), 0 none.
    tunnel: u8 = 0,
    /// VXLAN or Geneve network identifier; GRE key.
    vni: u32 = 0,
    /// Ethertype of the tunnel's inner network layer.
    inner_ethertype: u16 = 0,
    /// Offset of the inner network header.
    inner_l3_off: u16 = NONE16,
    /// Offset of the inner transport header.
    inner_l4_off: u16 = NONE16,
    /// IP protocol of the inner network layer.
    inner_l4proto: u8 = 0,
    /// Inner IPv4 source.
    inner_src4: u32 = 0,
    /// Inner IPv4 destination.
    inner_dst4: u32 = 0,
    /// Inner source port.
    inner_sport: u16 = 0,
    /// Inner destination port.
    inner_dport: u16 = 0,
    /// Dissection stopped because the capture cut the packet (snaplen), not a fault.
    truncated: bool = false,
    /// The packet's own lengths or fields are inconsistent.
    malformed: bool = false,
    /// Code of the `DropReason` of a malformed packet, 0 otherwise.
    drop_reason: u16 = 0,
}

impl Columns {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nlayers.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nlayers.is_empty()
    }
}

impl Row {
    /// The layers of this row, outermost first.
    pub fn layers(&self) -> impl Iterator<Item = (crate::wire::Layer, usize)> + '_ {
        self.layers[..usize::from(self.nlayers)]
            .iter()
            .zip(&self.layer_off)
            .filter_map(|(&c, &off)| Some((crate::wire::Layer::from_code(c)?, usize::from(off))))
    }
}
