//! Offloads in software, with Linux semantics: GRO (`net/core/gro.c`, `tcp_offload.c`,
//! `udp_offload.c`), GSO/TSO/USO and IP fragmentation, and device features.

pub mod features;

pub mod gro;
pub mod gso;
pub mod run;

pub use features::{Features, GroParams, UdpGro};
