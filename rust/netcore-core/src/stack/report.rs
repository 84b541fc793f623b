//! What a run did: per device, queue, hook, rule and drop reason, and the accounting
//! invariant that every packet ends in exactly one outcome.
//!
//! Outcomes are counted in *input packets*: a GRO super-packet standing for `k` received
//! frames adds `k` to whatever outcome it reaches, so the sums always close over what entered.
//! Wire-level figures (frames received and sent by each device) are kept beside them.

use std::collections::BTreeMap;

use crate::drop_reason::DropReason;
use crate::offload::gro::GroStats;

/// Counters of one receive queue (`ethtool -S` style, plus NAPI's view).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounters {
    /// Frames the queue received.
    pub packets: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Frames dropped at the queue (ring full with `drop_on_full`).
    pub drops: u64,
    /// NAPI polls run.
    pub polls: u64,
    /// Polls that used their whole budget (NAPI stayed scheduled).
    pub budget_exhausted: u64,
    /// Receive rounds cut short because the worker's `netdev_budget` ran out with work left
    /// (`softnet_stat`'s `time_squeeze`).
    pub time_squeeze: u64,
}

impl QueueCounters {
    fn add(&mut self, o: &QueueCounters) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.drops += o.drops;
        self.polls += o.polls;
        self.budget_exhausted += o.budget_exhausted;
        self.time_squeeze += o.time_squeeze;
    }
}

/// Counters of one device (`struct rtnl_link_stats64` subset, plus offload figures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceCounters {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames sent (after software GSO: one per segment on the wire).
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Super-packets GSO segmented in software before this device.
    pub gso_segmented: u64,
    /// Segments software GSO made for this device.
    pub gso_segments: u64,
    /// Super-packets handed to the device whole for TSO/USO.
    pub tso_packets: u64,
    /// Checksums completed in software because the device lacks `tx_csum`.
    pub tx_csum_sw: u64,
    /// GRO figures, summed over the device's queues.
    pub gro: GroStats,
    /// Per receive queue.
    pub queues: Vec<QueueCounters>,
    /// Per worker backlog, when RPS steers received packets to workers (`softnet_data`).
    pub backlog: Vec<QueueCounters>,
    /// Frames sent per transmit queue.
    pub tx_queues: Vec<u64>,
    /// Packets handed to the device by the number of segments they carry (index 1 for a
    /// plain packet; the last slot counts 64 and more): the distribution of super-packets.
    pub tx_segs: Vec<u64>,
}

/// Counters of one hook entry (a Python hook or a ruleset attached at a hook point).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookCounters {
    /// Times the hook was entered (Python: calls; rules: batches).
    pub calls: u64,
    /// Packets the hook judged.
    pub packets: u64,
    /// Verdicts ACCEPT.
    pub accepted: u64,
    /// Verdicts DROP.
    pub dropped: u64,
    /// Verdicts STOLEN.
    pub stolen: u64,
    /// Verdicts QUEUE.
    pub queued: u64,
    /// Verdicts REPEAT.
    pub repeated: u64,
    /// Packets whose verdict came from the error policy (the hook raised).
    pub errors: u64,
}

impl HookCounters {
    /// Adds another entry's counts.
    pub fn add(&mut self, o: &HookCounters) {
        self.calls += o.calls;
        self.packets += o.packets;
        self.accepted += o.accepted;
        self.dropped += o.dropped;
        self.stolen += o.stolen;
        self.queued += o.queued;
        self.repeated += o.repeated;
        self.errors += o.errors;
    }
}

/// Per-rule counters of one ruleset, as (packets, bytes) per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCounts {
    /// (packets, bytes) of each rule, in rule order.
    pub rules: Vec<(u64, u64)>,
}

/// Everything a run counted. Built per worker, merged at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Input packets that entered the stack.
    pub entered: u64,
    /// Packets the stack created itself (ICMP errors) or Python sent (LOCAL_OUT).
    pub created: u64,
    /// Packets delivered locally, per protocol handler ("tcp", "udp", "icmp", "arp", …).
    pub delivered: BTreeMap<String, u64>,
    /// Packets transmitted, per egress device name.
    pub transmitted: BTreeMap<String, u64>,
    /// Packets dropped, per drop reason.
    pub dropped: BTreeMap<DropReason, u64>,
    /// Packets a hook kept (`NF_STOLEN`), per hook name.
    pub stolen: BTreeMap<String, u64>,
    /// ICMP/ICMPv6 errors the stack built (also counted in `created`), per kind.
    pub icmp_errors: BTreeMap<String, u64>,
    /// Per device, by name.
    pub devices: BTreeMap<String, DeviceCounters>,
    /// Per hook entry, by "point/name".
    pub hooks: BTreeMap<String, HookCounters>,
    /// Per ruleset, by "point/name".
    pub rules: BTreeMap<String, RuleCounts>,
    /// Input packets left unprocessed because the run stopped early (a hook's error policy).
    pub unprocessed: u64,
}

impl Report {
    /// Adds `n` packets delivered to `handler`.
    pub fn deliver(&mut self, handler: &str, n: u64) {
        *entry(&mut self.delivered, handler) += n;
    }

    /// Adds `n` packets transmitted by `dev`.
    pub fn transmit(&mut self, dev: &str, n: u64) {
        *entry(&mut self.transmitted, dev) += n;
    }

    /// Adds `n` packets dropped for `reason`.
    pub fn drop(&mut self, reason: DropReason, n: u64) {
        *self.dropped.entry(reason).or_default() += n;
    }

    /// Adds `n` packets stolen by `hook`.
    pub fn steal(&mut self, hook: &str, n: u64) {
        *entry(&mut self.stolen, hook) += n;
    }

    /// The device counters of `name`, created on first use.
    pub fn device(&mut self, name: &str) -> &mut DeviceCounters {
        get_or_insert(&mut self.devices, name)
    }

    /// The counters of hook entry `key`, created on first use.
    pub fn hook(&mut self, key: &str) -> &mut HookCounters {
        get_or_insert(&mut self.hooks, key)
    }

    /// Packets that reached an outcome.
    #[must_use]
    pub fn accounted(&self) -> u64 {
        self.delivered.values().sum::<u64>()
            + self.transmitted.values().sum::<u64>()
            + self.dropped.values().sum::<u64>()
            + self.stolen.values().sum::<u64>()
            + self.unprocessed
    }

    /// Checks that every packet that entered or was created ended in exactly one outcome.
    pub fn check(&self) -> std::result::Result<(), String> {
        let inflow = self.entered + self.created;
        let outflow = self.accounted();
        if inflow == outflow {
            Ok(())
        } else {
            Err(format!(
                "{} packets entered and {} were created, but {outflow} reached an outcome",
                self.entered, self.created
            ))
        }
    }

    /// Adds another report's counts into this one.
    pub fn merge(&mut self, o: &Report) {
        self.entered += o.entered;
        self.created += o.created;
        self.unprocessed += o.unprocessed;
        for (k, v) in &o.delivered {
            *entry(&mut self.delivered, k) += v;
        }
        for (k, v) in &o.transmitted {
            *entry(&mut self.transmitted, k) += v;
        }
        for (k, v) in &o.dropped {
            *self.dropped.entry(*k).or_default() += v;
        }
        for (k, v) in &o.stolen {
            *entry(&mut self.stolen, k) += v;
        }
        for (k, v) in &o.icmp_errors {
            *entry(&mut self.icmp_errors, k) += v;
        }
        for (k, d) in &o.devices {
            let mine = self.device(k);
            mine.rx_packets += d.rx_packets;
            mine.rx_bytes += d.rx_bytes;
            mine.tx_packets += d.tx_packets;
            mine.tx_bytes += d.tx_bytes;
            mine.gso_segmented += d.gso_segmented;
            mine.gso_segments += d.gso_segments;
            mine.tso_packets += d.tso_packets;
            mine.tx_csum_sw += d.tx_csum_sw;
            add_gro(&mut mine.gro, &d.gro);
            add_all(&mut mine.queues, &d.queues);
            add_all(&mut mine.backlog, &d.backlog);
            if mine.tx_queues.len() < d.tx_queues.len() {
                mine.tx_queues.resize(d.tx_queues.len(), 0);
            }
            for (m, n) in mine.tx_queues.iter_mut().zip(&d.tx_queues) {
                *m += n;
            }
            if mine.tx_segs.len() < d.tx_segs.len() {
                mine.tx_segs.resize(d.tx_segs.len(), 0);
            }
            for (m, n) in mine.tx_segs.iter_mut().zip(&d.tx_segs) {
                *m += n;
            }
        }
        for (k, h) in &o.hooks {
            self.hook(k).add(h);
        }
        for (k, r) in &o.rules {
            let mine = self.rules.entry(k.clone()).or_default();
            if mine.rules.len() < r.rules.len() {
                mine.rules.resize(r.rules.len(), (0, 0));
            }
            for (m, x) in mine.rules.iter_mut().zip(&r.rules) {
                m.0 += x.0;
                m.1 += x.1;
            }
        }
    }
}

/// Adds per-queue counters, growing `mine` to the longer list.
fn add_all(mine: &mut Vec<QueueCounters>, other: &[QueueCounters]) {
    if mine.len() < other.len() {
        mine.resize(other.len(), QueueCounters::default());
    }
    for (m, q) in mine.iter_mut().zip(other) {
        m.add(q);
    }
}

/// Sums GRO counters of several queues.
fn add_gro(a: &mut GroStats, b: &GroStats) {
    a.received += b.received;
    a.merged += b.merged;
    a.held += b.held;
    a.normal += b.normal;
    a.completed += b.completed;
    a.singles += b.singles;
    a.evicted += b.evicted;
    a.complete_errors += b.complete_errors;
    a.polls += b.polls;
    a.full_polls += b.full_polls;
}

fn entry<'m>(m: &'m mut BTreeMap<String, u64>, k: &str) -> &'m mut u64 {
    get_or_insert(m, k)
}

/// The value of `k`, inserted as the default first (without allocating a key when present).
fn get_or_insert<'m, V: Default>(m: &'m mut BTreeMap<String, V>, k: &str) -> &'m mut V {
    if !m.contains_key(k) {
        m.insert(k.to_string(), V::default());
    }
    m.get_mut(k).expect("inserted above")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_closes_over_every_outcome() {
        let mut r = Report {
            entered: 10,
            created: 1,
            ..Report::default()
        };
        r.deliver("tcp", 3);
        r.transmit("wan0", 5);
        r.drop(DropReason::IpCsum, 2);
        assert!(r.check().is_err(), "one packet unaccounted for");
        r.steal("nfq", 1);
        assert_eq!(r.check(), Ok(()));
        r.deliver("udp", 1);
        assert!(r.check().is_err(), "one packet counted twice");
    }

    #[test]
    fn merge_adds_per_key() {
        let mut a = Report {
            entered: 2,
            ..Report::default()
        };
        a.deliver("tcp", 2);
        a.device("eth0").queues = vec![QueueCounters {
            packets: 2,
            ..QueueCounters::default()
        }];
        let mut b = Report {
            entered: 3,
            ..Report::default()
        };
        b.deliver("tcp", 1);
        b.drop(DropReason::IpCsum, 2);
        b.device("eth0").queues = vec![
            QueueCounters::default(),
            QueueCounters {
                packets: 3,
                ..QueueCounters::default()
            },
        ];
        a.merge(&b);
        assert_eq!(a.entered, 5);
        assert_eq!(a.delivered["tcp"], 3);
        assert_eq!(a.dropped[&DropReason::IpCsum], 2);
        let q: Vec<u64> = a.devices["eth0"].queues.iter().map(|q| q.packets).collect();
        assert_eq!(q, [2, 3]);
        assert_eq!(a.check(), Ok(()));
    }
}
