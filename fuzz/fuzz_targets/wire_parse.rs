//! Any bytes through every wire view's checked constructor and every accessor after it, and
//! the stack walkers (VLAN tags, MPLS labels, IPv6 extension headers, Geneve options, TCP
//! options, SCTP chunks). The no-panic contract of `wire/mod.rs`: after `new_checked`
//! succeeds, nothing indexes out of bounds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcore_core::wire::{
    arp, ethernet, geneve, gre, icmpv4, icmpv6, ipv4, ipv6, ipv6_ext, mpls, null, sctp, sll, tcp,
    udp, vlan, vxlan,
};

fuzz_target!(|data: &[u8]| {
    let Some((&steer, b)) = data.split_first() else {
        return;
    };
    if let Ok(p) = ethernet::Packet::new_checked(b) {
        let _ = (p.dst_addr(), p.src_addr(), p.ethertype());
        let _ = ethernet::Repr::parse(&p);
    }
    let _ = vlan::walk(
        b,
        ethernet::EtherType(if steer & 1 == 0 { 0x8100 } else { 0x88a8 }),
    );
    if let Ok(p) = arp::Packet::new_checked(b) {
        let _ = (p.source_hardware_addr(), p.target_protocol_addr());
        let _ = arp::Repr::parse(&p);
    }
    let _ = mpls::walk(b);
    if let Ok(p) = sll::Packet::new_checked(b) {
        let _ = sll::Repr::parse(&p);
    }
    if let Ok(p) = sll::v2::Packet::new_checked(b) {
        let _ = sll::v2::Repr::parse(&p);
    }
    if let Ok(p) = null::Packet::new_checked(b) {
        let _ = p.payload_kind(steer & 2 != 0);
    }
    if let Ok(p) = gre::Packet::new_checked(b) {
        let _ = (
            p.key(),
            p.sequence_number(),
            p.ack_number(),
            p.verify_checksum(),
        );
        let _ = gre::Repr::parse(&p);
    }
    if let Ok(p) = vxlan::Packet::new_checked(b) {
        let _ = vxlan::Repr::parse(&p);
    }
    if let Ok(p) = geneve::Packet::new_checked(b) {
        for _ in p.option_iter() {}
        let _ = geneve::Repr::parse(&p);
    }
    if let Ok(p) = ipv4::Packet::new_checked(b) {
        let _ = (p.verify_checksum(), ipv4::Repr::parse(&p));
    }
    if let Ok(p) = ipv4::Packet::new_checked_header(b) {
        let _ = (p.options(), p.payload(), p.is_fragment());
    }
    if let Ok(p) = ipv6::Packet::new_checked(b) {
        let _ = (ipv6::Repr::parse(&p), p.payload());
    }
    if let Ok(chain) = ipv6_ext::walk(steer, b) {
        let _ = (chain.upper_protocol(), chain.fragment());
        let _ =
            ipv6_ext::pseudo_addresses(&chain, b, ipv6::Address([0; 16]), ipv6::Address([1; 16]));
    }
    if let Ok(p) = tcp::Packet::new_checked(b) {
        for _ in p.options() {}
        let _ = (p.flags(), p.verify_checksum(0), tcp::Repr::parse(&p));
    }
    if let Ok(p) = udp::Packet::new_checked(b) {
        let _ = (p.verify_checksum(0), udp::Repr::parse(&p));
    }
    if let Ok(p) = icmpv4::Packet::new_checked(b) {
        let _ = (p.verify_checksum(), icmpv4::Repr::parse(&p));
    }
    if let Ok(p) = icmpv6::Packet::new_checked(b) {
        let _ = (icmpv6::Repr::parse(&p), p.verify_checksum(0));
    }
    if let Ok(p) = sctp::Packet::new_checked(b) {
        for _ in p.chunks() {}
        let _ = (p.verify_checksum(), sctp::Repr::parse(&p));
    }
});
