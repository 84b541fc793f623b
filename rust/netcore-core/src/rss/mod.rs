//! Receive side scaling: the Toeplitz hash of a packet's flow, and the queue it leads to.
//!
//! A NIC with RSS parses each frame ([`flow_key`]), picks the fields its input set selects for
//! the traffic type ([`InputSet`], like `ethtool -N DEV rx-flow-hash tcp4 sdfn`), hashes them
//! with the Toeplitz function under a 40-byte key ([`toeplitz`]), and looks the hash up in the
//! indirection table ([`Indirection`], like `ethtool -X`) to find the receive queue. The hash is
//! kept with the packet with a flag saying whether it covered the ports (`skb_set_hash` with
//! `PKT_HASH_TYPE_L4`), and later steering reuses it: RPS ([`RpsMap`], `get_rps_cpu`) to hand
//! the packet to another worker, XPS ([`XpsMap`], `netdev_pick_tx`) to choose a transmit queue.
//!
//! Symmetric hashing: when [`RssConfig::symmetric`] is set, the (address, port) pairs of the
//! source and destination are put in ascending order before the input is built, so both
//! directions of a connection give the same input, hence the same hash and queue, under any
//! key. (The other common method, a key repeating one 16-bit pattern, restricts the key.)
//!
//! The hash and the indirection follow Microsoft's RSS specification, whose verification vectors
//! are tests here; the queue of a hash is entry `hash % table size`.

mod fields;
mod flow;
mod indir;
mod steer;
#[cfg(test)]
mod tests;
mod toeplitz;

use std::sync::Arc;

pub use fields::{FlowType, HashFields, InputSet};
pub use flow::{FlowKey, MAX_EXT_HEADERS, MAX_VLAN_TAGS, flow_key};
pub use indir::{DEFAULT_TABLE_SIZE, Indirection, MAX_TABLE_SIZE};
pub use steer::{RpsMap, XpsMap, reciprocal_scale, skb_tx_hash};
pub use toeplitz::{KEY_LEN, MAX_INPUT, MICROSOFT_KEY, RssKey, ToeplitzTable, toeplitz};

use crate::batch::Batch;
use crate::capture::LinkType;
use crate::error::Result;
use crate::skb::Skb;

/// A device's RSS settings: key, input sets, symmetry, tunnel depth and indirection table.
#[derive(Debug, Clone)]
pub struct RssConfig {
    key: RssKey,
    table: Arc<ToeplitzTable>,
    /// Fields hashed per traffic type.
    pub input: InputSet,
    /// Give both directions of a flow the same hash (see the module documentation).
    pub symmetric: bool,
    /// Hash the inner headers of VXLAN, Geneve and IP-in-IP tunnels instead of the outer ones.
    pub inner: bool,
    /// Hash → receive queue.
    pub indirection: Indirection,
}

/// Hash, L4 flag and queue of every packet of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RssColumns {
    /// Toeplitz hash; 0 for a packet without IP header (not hashed).
    pub hash: Vec<u32>,
    /// The hash covered the ports (`skb->l4_hash`).
    pub l4: Vec<bool>,
    /// Receive queue; queue 0 for packets not hashed, where a NIC puts them.
    pub queue: Vec<u16>,
}

impl RssConfig {
    /// `queues` receive queues with the defaults: Microsoft's key, the default input sets, no
    /// symmetry, outer headers, and a table of [`DEFAULT_TABLE_SIZE`] entries `i % queues`.
    pub fn new(queues: usize) -> Result<Self> {
        let key = RssKey::default();
        Ok(RssConfig {
            key,
            table: Arc::new(ToeplitzTable::new(&key)),
            input: InputSet::default(),
            symmetric: false,
            inner: false,
            indirection: Indirection::new(queues, DEFAULT_TABLE_SIZE)?,
        })
    }

    /// The hash key.
    #[must_use]
    pub fn key(&self) -> &RssKey {
        &self.key
    }

    /// Changes the hash key (and rebuilds its table).
    pub fn set_key(&mut self, key: RssKey) {
        self.table = Arc::new(ToeplitzTable::new(&key));
        self.key = key;
    }

    /// Number of receive queues.
    #[must_use]
    pub fn queues(&self) -> u16 {
        self.indirection.queues()
    }

    /// The hash of a frame whose link header is of type `linktype`, and whether it covers the
    /// ports; `None` when the frame holds no IP packet.
    #[must_use]
    pub fn hash(&self, frame: &[u8], linktype: LinkType) -> Option<(u32, bool)> {
        flow_key(frame, linktype, self.inner).map(|k| self.hash_flow(&k))
    }

    /// The hash of a flow key, and whether it covers the ports.
    #[must_use]
    pub fn hash_flow(&self, key: &FlowKey) -> (u32, bool) {
        let flow = FlowType::classify(key.ipv6, key.proto, key.ports.is_some());
        let fields = self.input.get(flow);
        let n = key.addr_len();
        let (mut src, mut dst) = (&key.src[..n], &key.dst[..n]);
        let (mut sport, mut dport) = key.ports.unwrap_or((0, 0));
        if self.symmetric && (dst, dport) < (src, sport) {
            (src, dst) = (dst, src);
            (sport, dport) = (dport, sport);
        }
        let mut hash = 0;
        let mut offset = 0;
        for (field, bytes) in [
            (HashFields::SRC, src),
            (HashFields::DST, dst),
            (HashFields::SPORT, &sport.to_be_bytes()[..]),
            (HashFields::DPORT, &dport.to_be_bytes()[..]),
        ] {
            if fields.contains(field) {
                hash ^= self.table.hash_at(offset, bytes);
                offset += bytes.len();
            }
        }
        (hash, fields.has_ports())
    }

    /// The receive queue of `hash`.
    #[inline]
    #[must_use]
    pub fn queue(&self, hash: u32) -> u16 {
        self.indirection.queue(hash)
    }

    /// Hashes the packet in `skb` (its data starting at the link header) as the device would,
    /// records the hash (`skb_set_hash`) and the receive queue (in `queue_mapping`), and
    /// returns the queue. A packet without IP header is not hashed and goes to queue 0.
    pub fn receive(&self, skb: &mut Skb, linktype: LinkType) -> u16 {
        let queue = if let Some((hash, l4)) = self.hash(skb.data(), linktype) {
            skb.meta.set_hash(hash, l4);
            self.queue(hash)
        } else {
            skb.meta.clear_hash();
            0
        };
        skb.meta.queue_mapping = queue;
        queue
    }

    /// Hashes every packet of `batch` into `out` (cleared first, its memory reused).
    pub fn hash_batch(&self, batch: &Batch, out: &mut RssColumns) {
        out.hash.clear();
        out.l4.clear();
        out.queue.clear();
        for (frame, &linktype) in batch.packets().zip(&batch.linktype) {
            let (hash, l4, queue) = match self.hash(frame, LinkType(linktype)) {
                Some((hash, l4)) => (hash, l4, self.queue(hash)),
                None => (0, false, 0),
            };
            out.hash.push(hash);
            out.l4.push(l4);
            out.queue.push(queue);
        }
    }
}
