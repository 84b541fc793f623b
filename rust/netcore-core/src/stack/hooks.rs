//! Hook points and what is attached to them: per point a list ordered by priority, like
//! netfilter's `nf_hook_entries` (equal priorities keep registration order,
//! `nf_hook_entries_grow`), holding native rulesets and hooks that live outside the core
//! (Python), plus the consumers of queued packets (`NFQUEUE`).

use std::sync::Arc;

use crate::batch::Bytes;
use crate::netfilter::{Family, HookPoint, PacketInfo, Ruleset, Verdict};

use super::rewrite::Edit;

/// Identifies a hook or queue consumer implemented outside the core.
pub type ExternalId = u32;

/// What a hook entry runs.
#[derive(Clone)]
pub enum HookAction {
    /// A native ruleset, evaluated per packet at Rust speed.
    Rules(Arc<Ruleset>),
    /// A hook outside the core, called once per batch with the packets that reach it.
    External(ExternalId),
}

impl std::fmt::Debug for HookAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookAction::Rules(r) => write!(f, "Rules({} rules)", r.rules().len()),
            HookAction::External(id) => write!(f, "External({id})"),
        }
    }
}

/// One entry at a hook point.
#[derive(Debug, Clone)]
pub struct HookEntry {
    /// Name in reports (unique per point).
    pub name: String,
    /// Lower runs first (the kernel's `NF_IP_PRI_*` scale).
    pub priority: i32,
    /// Only packets of this family reach it; `None`: every packet (at ingress and egress also
    /// those that are not IP).
    pub family: Option<Family>,
    /// What it runs.
    pub action: HookAction,
    /// Only reached by a rule's `jump NAME`, not in the point's traversal (an nft chain
    /// without a hook).
    pub jump_only: bool,
}

impl HookEntry {
    /// Whether a packet of `family` (`None`: not IP) passes through this entry.
    #[must_use]
    pub fn applies_to(&self, family: Option<Family>) -> bool {
        self.family.is_none() || self.family == family
    }

    /// Key of the entry in reports: `point/name`.
    #[must_use]
    pub fn key(&self, point: HookPoint) -> String {
        format!("{}/{}", point.name(), self.name)
    }
}

/// Every hook point's entries, and the queue consumers. Replaced as a whole (copy on write)
/// when hooks change, so a running replay picks the new table up at its next batch.
#[derive(Debug, Clone, Default)]
pub struct HookTable {
    points: [Vec<HookEntry>; 7],
    queues: Vec<(u16, ExternalId)>,
}

fn slot(point: HookPoint) -> usize {
    HookPoint::ALL.iter().position(|p| *p == point).unwrap_or(0)
}

impl HookTable {
    /// Attaches `entry` at `point` after every entry of lower or equal priority.
    pub fn add(&mut self, point: HookPoint, entry: HookEntry) -> crate::Result<()> {
        let list = &mut self.points[slot(point)];
        if list.iter().any(|e| e.name == entry.name) {
            return Err(crate::Error::Config(format!(
                "a hook named {:?} is already attached at {}",
                entry.name,
                point.name()
            )));
        }
        let at = list.partition_point(|e| e.priority <= entry.priority);
        list.insert(at, entry);
        Ok(())
    }

    /// Detaches the entry `name` from `point`; whether there was one.
    pub fn remove(&mut self, point: HookPoint, name: &str) -> bool {
        let list = &mut self.points[slot(point)];
        let before = list.len();
        list.retain(|e| e.name != name);
        list.len() != before
    }

    /// The entries of `point`, in the order they run.
    #[must_use]
    pub fn entries(&self, point: HookPoint) -> &[HookEntry] {
        &self.points[slot(point)]
    }

    /// Whether nothing is attached at `point`.
    #[must_use]
    pub fn is_empty(&self, point: HookPoint) -> bool {
        self.points[slot(point)].is_empty()
    }

    /// Sets (or with `None` removes) the consumer of queue `num`.
    pub fn set_queue(&mut self, num: u16, consumer: Option<ExternalId>) {
        self.queues.retain(|(n, _)| *n != num);
        if let Some(c) = consumer {
            self.queues.push((num, c));
        }
    }

    /// The consumer of queue `num`, if any.
    #[must_use]
    pub fn queue(&self, num: u16) -> Option<ExternalId> {
        self.queues.iter().find(|(n, _)| *n == num).map(|(_, c)| *c)
    }
}

/// The packets reaching an external hook, as columns: a hook sees its batch as columns anyway,
/// and building them in one pass touches each packet's memory once.
#[derive(Debug, Default)]
pub struct HookColumns<'a> {
    /// Each frame: from the link-layer header when there is one, else from the IP header.
    pub frame: Vec<&'a [u8]>,
    /// Link type of each frame (`LINKTYPE_ETHERNET` or `LINKTYPE_RAW`).
    pub linktype: Vec<u16>,
    /// Position in the input of the (first) packet each came from.
    pub index: Vec<u64>,
    /// Timestamp, ns.
    pub ts: Vec<i64>,
    /// Input device index (0: none).
    pub iif: Vec<u32>,
    /// Output device index (0: not routed yet).
    pub oif: Vec<u32>,
    /// Firewall mark.
    pub mark: Vec<u32>,
    /// Queueing priority.
    pub priority: Vec<u32>,
    /// IP version read by the stack (4, 6, or 0 for a packet that is not IP).
    pub ip_version: Vec<u8>,
    /// Transport protocol number (0 when not IP).
    pub l4proto: Vec<u8>,
    /// IPv4 source address as a host-order integer (0 unless IPv4).
    pub src4: Vec<u32>,
    /// IPv4 destination address (0 unless IPv4).
    pub dst4: Vec<u32>,
    /// Transport source port (0 without ports).
    pub sport: Vec<u16>,
    /// Transport destination port (0 without ports).
    pub dport: Vec<u16>,
    /// When every frame is still an untouched view of one window of capture memory: that
    /// memory and each frame's offset in it, so that the batch is lent without copying.
    pub lent: Option<(Bytes, Vec<u64>)>,
}

/// One packet, as [`HookColumns::push`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct HookRow<'a> {
    /// See [`HookColumns::frame`].
    pub frame: &'a [u8],
    /// See [`HookColumns::linktype`].
    pub linktype: u16,
    /// See [`HookColumns::index`].
    pub index: u64,
    /// See [`HookColumns::ts`].
    pub ts: i64,
    /// See [`HookColumns::iif`].
    pub iif: u32,
    /// See [`HookColumns::oif`].
    pub oif: u32,
    /// See [`HookColumns::mark`].
    pub mark: u32,
    /// See [`HookColumns::priority`].
    pub priority: u32,
    /// The memory `frame` lies in and its offset there, when the packet is an untouched view
    /// of its capture.
    pub shared: Option<(&'a Bytes, usize)>,
    /// What the stack already read of the packet's IP and transport headers.
    pub info: &'a PacketInfo,
}

impl<'a> HookColumns<'a> {
    /// Empty columns with room for `n` packets.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        HookColumns {
            frame: Vec::with_capacity(n),
            linktype: Vec::with_capacity(n),
            index: Vec::with_capacity(n),
            ts: Vec::with_capacity(n),
            iif: Vec::with_capacity(n),
            oif: Vec::with_capacity(n),
            mark: Vec::with_capacity(n),
            priority: Vec::with_capacity(n),
            ip_version: Vec::with_capacity(n),
            l4proto: Vec::with_capacity(n),
            src4: Vec::with_capacity(n),
            dst4: Vec::with_capacity(n),
            sport: Vec::with_capacity(n),
            dport: Vec::with_capacity(n),
            lent: None,
        }
    }

    /// Number of packets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.frame.len()
    }

    /// Whether there is no packet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.frame.is_empty()
    }

    /// Appends one packet.
    pub fn push(&mut self, row: HookRow<'a>) {
        // Lent while every packet so far lies in the first packet's window.
        match (row.shared, &mut self.lent) {
            (Some((bytes, at)), Some((first, offsets))) if bytes.same_window(first) => {
                offsets.push(at as u64);
            }
            (Some((bytes, at)), lent @ None) if self.frame.is_empty() => {
                let mut offsets = Vec::with_capacity(self.frame.capacity());
                offsets.push(at as u64);
                *lent = Some((bytes.clone(), offsets));
            }
            (_, lent) => *lent = None,
        }
        let i = row.info;
        // The rules' view keeps IPv4 addresses IPv4-mapped (::ffff:a.b.c.d).
        let v4 = |a: u128| if a >> 32 == 0xffff { a as u32 } else { 0 };
        self.frame.push(row.frame);
        self.linktype.push(row.linktype);
        self.index.push(row.index);
        self.ts.push(row.ts);
        self.iif.push(row.iif);
        self.oif.push(row.oif);
        self.mark.push(row.mark);
        self.priority.push(row.priority);
        self.ip_version.push(match i.family {
            Some(Family::Ipv4) => 4,
            Some(Family::Ipv6) => 6,
            None => 0,
        });
        self.l4proto.push(i.l4proto);
        self.src4.push(v4(i.saddr));
        self.dst4.push(v4(i.daddr));
        self.sport.push(if i.has_ports { i.sport } else { 0 });
        self.dport.push(if i.has_ports { i.dport } else { 0 });
    }
}

/// What an external hook answered for a batch.
#[derive(Debug, Clone, Default)]
pub struct HookReply {
    /// One verdict per packet.
    pub verdicts: Vec<Verdict>,
    /// Changes to make, as (packet position in the batch, edit).
    pub edits: Vec<(usize, Edit)>,
    /// Positions whose verdict came from the error policy (the hook raised for them).
    pub errors: Vec<usize>,
}

/// An external hook asked to stop the run (its error policy is "raise").
#[derive(Debug, Clone)]
pub struct HookAbort {
    /// Input position of the packet being judged.
    pub index: u64,
    /// What went wrong.
    pub message: String,
}

/// The hooks that live outside the core. Called from worker threads, one batch at a time.
pub trait ExternalHooks: Send + Sync {
    /// Judges `packets` reaching external hook (or queue consumer) `id` at `point`.
    fn call(
        &self,
        id: ExternalId,
        point: HookPoint,
        packets: HookColumns<'_>,
    ) -> Result<HookReply, HookAbort>;

    /// Runs the whole life of a worker thread that may call [`ExternalHooks::call`], so that
    /// a binding can prepare the thread once rather than on every call (a Python binding
    /// attaches the thread to the interpreter once). Must run `body` exactly once.
    fn run_worker(&self, body: &mut (dyn FnMut() + Send)) {
        body();
    }
}

/// No external hooks at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExternalHooks;

impl ExternalHooks for NoExternalHooks {
    fn call(
        &self,
        _id: ExternalId,
        _point: HookPoint,
        packets: HookColumns<'_>,
    ) -> Result<HookReply, HookAbort> {
        Ok(HookReply {
            verdicts: vec![Verdict::Accept; packets.len()],
            ..HookReply::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(name: &str, priority: i32) -> HookEntry {
        HookEntry {
            name: name.into(),
            priority,
            family: None,
            action: HookAction::External(0),
            jump_only: false,
        }
    }

    #[test]
    fn entries_run_by_priority_and_registration_order() {
        let mut t = HookTable::default();
        t.add(HookPoint::PreRouting, ext("filter", 0)).unwrap();
        t.add(HookPoint::PreRouting, ext("raw", -300)).unwrap();
        t.add(HookPoint::PreRouting, ext("filter2", 0)).unwrap();
        t.add(HookPoint::PreRouting, ext("mangle", -150)).unwrap();
        let names: Vec<&str> = t
            .entries(HookPoint::PreRouting)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["raw", "mangle", "filter", "filter2"]);
        assert!(t.add(HookPoint::PreRouting, ext("raw", 5)).is_err());
        assert!(t.is_empty(HookPoint::Forward));
        assert!(t.remove(HookPoint::PreRouting, "mangle"));
        assert!(!t.remove(HookPoint::PreRouting, "mangle"));
        assert_eq!(t.entries(HookPoint::PreRouting).len(), 3);
    }

    #[test]
    fn queues_have_one_consumer() {
        let mut t = HookTable::default();
        t.set_queue(3, Some(7));
        t.set_queue(3, Some(8));
        assert_eq!(t.queue(3), Some(8));
        t.set_queue(3, None);
        assert_eq!(t.queue(3), None);
    }
}
