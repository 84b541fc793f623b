//! The stack: devices with receive queues, NAPI polling with GRO, netfilter-style hook points,
//! the IPv4/IPv6 receive, forward and output paths, and egress with GSO and checksum offload —
//! what `ns.replay()` runs a capture through.
//!
//! ```text
//! capture ─ dispatcher: RSS hash → indirection table → queue q ─ ring q
//!   worker q: NAPI poll (budget) ─ GRO ─ INGRESS ─ eth_type_trans / VLAN ─ ip_rcv checks
//!     ─ PRE_ROUTING ─ FIB ─┬─ local: LOCAL_IN ─ delivered (per protocol)
//!                          └─ forward: TTL, MTU, ICMP errors ─ FORWARD ─ POST_ROUTING
//!     ─ egress device: EGRESS ─ validate_xmit (GSO / checksum in software where the device
//!       lacks the feature) ─ Ethernet header ─ capture sink
//! ```
//!
//! Every input packet ends in exactly one outcome — delivered, transmitted, dropped with a
//! reason, or stolen — counted in a [`Report`] whose [`Report::check`] verifies that the
//! counts close. Packets the stack creates (ICMP errors) are counted as created and reach an
//! outcome too.

pub mod hooks;
pub mod l2;
mod path;
mod replay;
pub mod report;
pub mod rewrite;

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use crate::ip::Fib;
use crate::offload::{Features, GroParams};
use crate::rss::{RssConfig, XpsMap};

pub use hooks::{
    ExternalHooks, ExternalId, HookAbort, HookAction, HookColumns, HookEntry, HookReply, HookRow,
    HookTable, NoExternalHooks,
};
pub use replay::{ReplayError, ReplayOptions, Sink, output, replay};
pub use report::{DeviceCounters, HookCounters, QueueCounters, Report, RuleCounts};

/// A device of the stack (`struct net_device` as far as the paths need it).
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// Name (`eth0`).
    pub name: String,
    /// MTU: the largest IP packet it sends without fragmenting.
    pub mtu: u32,
    /// Hardware address; `None` takes every unicast frame as addressed to it.
    pub mac: Option<[u8; 6]>,
    /// Offload features (`ethtool -k`).
    pub features: Features,
    /// NAPI budget and GRO parameters of each receive queue.
    pub gro: GroParams,
    /// Receive queues, each polled by its own worker.
    pub rx_queues: u16,
    /// Transmit queues (chosen by XPS or the flow hash).
    pub tx_queues: u16,
    /// Receive-side scaling: the hash and the indirection table spreading flows over the
    /// receive queues; `None`: Microsoft's key and an even table over `rx_queues`.
    pub rss: Option<RssConfig>,
    /// Receive packet steering: spread received packets over this many workers by their hash
    /// (`rps_cpus`, `get_rps_cpu`) instead of one worker per receive queue; 0 turns it off.
    pub rps_workers: u16,
    /// Transmit packet steering (`xps_cpus`): the transmit queues each worker uses; `None`
    /// picks by hash or by the receive queue (`skb_tx_hash`).
    pub xps: Option<XpsMap>,
    /// VLAN IDs with a VLAN device on top: frames tagged with them are for this host.
    pub vlans: Vec<u16>,
    /// Addresses of the device, with prefix length (also routes in the FIB).
    pub addresses: Vec<(IpAddr, u8)>,
}

impl DeviceConfig {
    /// A device with Linux's defaults: MTU 1500, default offloads, one queue each way.
    #[must_use]
    pub fn new(name: &str) -> Self {
        DeviceConfig {
            name: name.to_string(),
            mtu: 1500,
            mac: None,
            features: Features::default(),
            gro: GroParams::default(),
            rx_queues: 1,
            tx_queues: 1,
            rss: None,
            rps_workers: 0,
            xps: None,
            vlans: Vec::new(),
            addresses: Vec::new(),
        }
    }
}

/// A stack instance (`struct net`): devices, the FIB and the hook table.
#[derive(Debug, Default)]
pub struct Stack {
    /// Devices; a device's index (`ifindex`) is its position plus one.
    pub devices: Vec<DeviceConfig>,
    /// Routes and local addresses.
    pub fib: Fib,
    /// Forward packets not addressed to the host (`net.ipv4.ip_forward`,
    /// `net.ipv6.conf.all.forwarding`).
    pub forwarding: bool,
    /// Hooks; replaced whole when they change, read at the start of every batch.
    pub hooks: Arc<RwLock<Arc<HookTable>>>,
    /// Packets a worker takes in one receive round over its queues before yielding
    /// (`net.core.netdev_budget`, default 300).
    pub netdev_budget: usize,
}

impl Stack {
    /// An empty stack that forwards.
    #[must_use]
    pub fn new() -> Self {
        Stack {
            forwarding: true,
            netdev_budget: 300,
            ..Stack::default()
        }
    }

    /// Adds a device and returns its index; its addresses become local routes.
    pub fn add_device(&mut self, dev: DeviceConfig) -> crate::Result<u32> {
        if self.devices.iter().any(|d| d.name == dev.name) {
            return Err(crate::Error::Config(format!(
                "a device named {:?} exists already",
                dev.name
            )));
        }
        if let Some(rss) = &dev.rss
            && rss.queues() > dev.rx_queues
        {
            return Err(crate::Error::Config(format!(
                "device {:?}: its RSS table spreads over {} queues but it has {}",
                dev.name,
                rss.queues(),
                dev.rx_queues
            )));
        }
        if let Some(xps) = &dev.xps
            && xps.tx_queues() != dev.tx_queues
        {
            return Err(crate::Error::Config(format!(
                "device {:?}: its XPS map is for {} transmit queues but it has {}",
                dev.name,
                xps.tx_queues(),
                dev.tx_queues
            )));
        }
        if dev.rx_queues == 0 || dev.tx_queues == 0 {
            return Err(crate::Error::Config(format!(
                "device {:?}: queue counts must be at least 1",
                dev.name
            )));
        }
        let ifindex = u32::try_from(self.devices.len() + 1).unwrap_or(u32::MAX);
        for &(addr, len) in &dev.addresses {
            self.fib
                .add_local(ifindex, addr, len)
                .map_err(|e| crate::Error::Config(format!("device {:?}: {e}", dev.name)))?;
        }
        self.devices.push(dev);
        Ok(ifindex)
    }

    /// The device with index `ifindex`.
    #[must_use]
    pub fn device(&self, ifindex: u32) -> Option<&DeviceConfig> {
        self.devices.get((ifindex as usize).checked_sub(1)?)
    }

    /// The index of the device named `name`.
    #[must_use]
    pub fn ifindex(&self, name: &str) -> Option<u32> {
        self.devices
            .iter()
            .position(|d| d.name == name)
            .and_then(|i| u32::try_from(i + 1).ok())
    }

    /// The current hook table.
    #[must_use]
    pub fn hook_table(&self) -> Arc<HookTable> {
        self.hooks.read().map_or_else(
            |poisoned| Arc::clone(&poisoned.into_inner()),
            |t| Arc::clone(&t),
        )
    }

    /// Changes the hook table (copy on write: a running replay sees the change at its next
    /// batch).
    pub fn update_hooks<R>(&self, f: impl FnOnce(&mut HookTable) -> R) -> R {
        let mut guard = self
            .hooks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut table = (**guard).clone();
        let r = f(&mut table);
        *guard = Arc::new(table);
        r
    }
}
