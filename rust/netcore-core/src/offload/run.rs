//! Whole captures through GRO or GSO: what `netcore gro` and `netcore gso` do.
//!
//! GRO receives every packet of a capture, in order, through NAPI polls of the configured
//! budget (the last poll, under budget, flushes everything, as `napi_complete_done` does), and
//! writes each packet that goes up as one contiguous frame, as a capture on a GRO device
//! shows it. GSO segments every packet larger than the MSS (or fragments it over the MTU) as
//! a device without the offload would, and writes the segments with complete checksums.

use super::gro::{FrameCsum, Gro, GroStats, UdpTunnel, gro_frame};
use super::gso::{self, FragOptions, FragOutcome, FrameSpec, SegmentOptions, UdpMode};
use super::{Features, GroParams};
use crate::batch::Batch;
use crate::capture::{CaptureReader, CaptureWriter};
use crate::error::{Error, Result};
use crate::skb::Skb;

/// One packet a run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    /// Frame length written.
    pub len: u32,
    /// Segments it carries (1 for a packet that was not merged or a single segment).
    pub segs: u32,
    /// `gso_size` (0 when not a GSO packet).
    pub gso_size: u32,
    /// Names of the `gso_type` flags.
    pub gso_type: Vec<&'static str>,
}

/// Counts of a GSO run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GsoStats {
    /// Packets read.
    pub packets_in: u64,
    /// Packets written.
    pub packets_out: u64,
    /// Input packets that were segmented or fragmented.
    pub segmented: u64,
    /// Input packets with DF over the MTU: not sent, an ICMP error due.
    pub too_big: u64,
    /// Input packets left as they were (not IP, or nothing to segment), checksums completed.
    pub passed: u64,
}

/// Reads batches lazily and yields every packet as a zero-copy `Skb`; the first read error
/// ends the stream and is kept.
struct Packets<'r> {
    reader: &'r mut CaptureReader,
    batch: Option<Batch>,
    row: usize,
    error: Option<Error>,
}

impl Iterator for Packets<'_> {
    type Item = Skb;

    fn next(&mut self) -> Option<Skb> {
        loop {
            if let Some(b) = &self.batch {
                if self.row < b.len() {
                    self.row += 1;
                    if let Some(skb) = Skb::from_batch(b, self.row - 1) {
                        return Some(skb);
                    }
                    continue;
                }
            }
            match self.reader.next_batch(4096) {
                Ok(Some(b)) => {
                    self.batch = Some(b);
                    self.row = 0;
                }
                Ok(None) => return None,
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            }
        }
    }
}

/// Runs a capture through GRO with `params` and `features` and writes what goes up.
/// `tunnels` are the UDP ports owned by VXLAN or Geneve devices, whose packets GRO merges by
/// their inner packets (none by default, as in a namespace without such a device).
pub fn gro_capture(
    reader: &mut CaptureReader,
    writer: &mut CaptureWriter,
    params: GroParams,
    features: Features,
    tunnels: &[(u16, UdpTunnel)],
    records: &mut Vec<OutRecord>,
) -> Result<GroStats> {
    let mut gro = Gro::new(params, features);
    for &(port, kind) in tunnels {
        gro.add_udp_tunnel_port(port, kind);
    }
    let mut input = Packets {
        reader,
        batch: None,
        row: 0,
        error: None,
    };
    let mut out = Vec::new();
    let budget = params.budget.max(1);
    loop {
        let taken = gro.napi_poll(&mut input, &mut out);
        for skb in out.drain(..) {
            let frame = gro_frame(&skb, FrameCsum::AsCaptured);
            write(writer, &skb, &frame, records)?;
        }
        if taken < budget {
            break;
        }
    }
    if let Some(e) = input.error {
        return Err(e);
    }
    Ok(*gro.stats())
}

fn write(
    writer: &mut CaptureWriter,
    skb: &Skb,
    frame: &[u8],
    records: &mut Vec<OutRecord>,
) -> Result<()> {
    let gso = skb.meta.gso;
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    writer.write_packet(skb.meta.iif, skb.meta.tstamp, frame, len, [])?;
    records.push(OutRecord {
        len,
        segs: u32::from(gso.segs).max(1),
        gso_size: u32::from(gso.size),
        gso_type: gso.gso_type.names().collect(),
    });
    Ok(())
}

/// What `netcore gso` does with each packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GsoConfig {
    /// Payload bytes per TCP segment or UDP datagram (`gso_size`).
    pub mss: u16,
    /// Largest IP packet leaving the device; bigger ones are fragmented or refused.
    pub mtu: u16,
    /// UDP as IP fragments of one datagram (UFO) instead of one datagram per segment (USO).
    pub ufo: bool,
    /// The device has `tx-checksumming`: segments are `CHECKSUM_PARTIAL` and leave with the
    /// pseudo-header sum in their (inner) TCP or UDP checksum field, for the NIC to complete.
    /// This is what a capture taken on such a device shows (the "incorrect" checksums of
    /// outgoing packets). IP header checksums, outer tunnel UDP checksums (`lco_csum`), UFO
    /// datagrams and IP fragments stay complete, as in the kernel, and packets that are not
    /// segmented leave as they came.
    pub csum_offload: bool,
}

impl Default for GsoConfig {
    /// MSS 1448, MTU 1500, USO, software checksums.
    fn default() -> Self {
        GsoConfig {
            mss: 1448,
            mtu: 1500,
            ufo: false,
            csum_offload: false,
        }
    }
}

/// Runs a capture through software GSO: TCP as TSO, UDP as USO (or, with `ufo`, IP
/// fragments of the datagram) by `mss`, then IP fragmentation of whatever exceeds `mtu`
/// (`ip_do_fragment`; with DF set, or for IPv6 as a router, the packet is not sent and an
/// ICMP "fragmentation needed" / "packet too big" is due: counted in `too_big`). Checksums
/// are as [`GsoConfig::csum_offload`] says; a packet needing nothing leaves as it came.
pub fn gso_capture(
    reader: &mut CaptureReader,
    writer: &mut CaptureWriter,
    cfg: GsoConfig,
    records: &mut Vec<OutRecord>,
) -> Result<GsoStats> {
    let mut stats = GsoStats::default();
    let mut spec = FrameSpec::mss(cfg.mss);
    if cfg.ufo {
        spec.udp = UdpMode::Ufo;
    }
    let opts = SegmentOptions {
        csum_offload: cfg.csum_offload,
        ..SegmentOptions::default()
    };
    let mtu = u32::from(cfg.mtu);
    let mut segments = Vec::new();
    let mut out: Vec<Vec<u8>> = Vec::new();
    while let Some(b) = reader.next_batch(4096)? {
        for (i, frame) in b.packets().enumerate() {
            stats.packets_in += 1;
            spec.linktype = b.linktype[i];
            segments.clear();
            out.clear();
            // A packet that is not a GSO candidate (not TCP/UDP, or no larger than one
            // segment) is refused by segmentation and goes on whole.
            let segmented = gso::skb_from_frame(frame, &spec)
                .and_then(|skb| gso::segment_into(&skb, &opts, &mut segments))
                .is_ok()
                && segments.len() > 1;
            let mut changed = segmented;
            let mut dropped = false;
            let outcomes = if segmented {
                segments
                    .drain(..)
                    .map(|seg| gso::ip_fragment(seg, mtu, &FragOptions::default()))
                    .collect()
            } else {
                vec![gso::fragment_frame(
                    frame,
                    mtu,
                    b.linktype[i],
                    &FragOptions::default(),
                )]
            };
            for outcome in outcomes {
                match outcome {
                    Ok(FragOutcome::Fragments(frags)) => {
                        changed = true;
                        out.extend(frags.iter().map(Skb::to_vec));
                    }
                    Ok(FragOutcome::TooBig(_)) => dropped = true,
                    Ok(FragOutcome::Fits(skb)) => out.push(skb.to_vec()),
                    // Not IP at all: leaves as it is.
                    Err(_) if !segmented => out.push(frame.to_vec()),
                    // Segmentation checked the headers the fragmenter reads.
                    Err(e) => {
                        return Err(Error::Config(format!(
                            "packet {}: segment not fragmentable: {e}",
                            stats.packets_in
                        )));
                    }
                }
            }
            if dropped {
                stats.too_big += 1;
                continue;
            }
            if changed {
                stats.segmented += 1;
            } else {
                stats.passed += 1;
            }
            for o in &out {
                put(writer, &b, i, o, records, &mut stats)?;
            }
        }
    }
    Ok(stats)
}

fn put(
    writer: &mut CaptureWriter,
    b: &Batch,
    i: usize,
    frame: &[u8],
    records: &mut Vec<OutRecord>,
    stats: &mut GsoStats,
) -> Result<()> {
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    writer.write_packet(b.ifindex[i], b.ts[i], frame, len, [])?;
    stats.packets_out += 1;
    records.push(OutRecord {
        len,
        segs: 1,
        gso_size: 0,
        gso_type: Vec::new(),
    });
    Ok(())
}
