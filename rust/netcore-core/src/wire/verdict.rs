//! The outcome of checking one checksum, shared by every protocol view.
//!
//! The five values are the ones tshark reports (`good`, `bad`, `not_present`, `illegal`,
//! `unverified`), so per-packet verdicts can be compared with the reference expectations of
//! the capture corpus without translation.

use core::fmt;

/// What checking a checksum found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// The checksum field matches the data.
    Good,
    /// The checksum field does not match the data.
    Bad,
    /// The sender chose not to compute a checksum: a zero UDP checksum over IPv4 (RFC 768).
    NotPresent,
    /// A checksum the protocol forbids: a zero UDP checksum over IPv6 (RFC 8200 section 8.1),
    /// which receivers must discard.
    Illegal,
    /// Nothing was checked: the bytes covered by the checksum are not all present (a capture
    /// cut by its snapshot length) or checking was not asked for.
    Unverified,
}

impl Verdict {
    /// Every verdict, in declaration order.
    pub const ALL: [Verdict; 5] = [
        Verdict::Good,
        Verdict::Bad,
        Verdict::NotPresent,
        Verdict::Illegal,
        Verdict::Unverified,
    ];

    /// The verdict for a plain comparison: `Good` when `ok`, `Bad` otherwise.
    #[must_use]
    pub const fn from_ok(ok: bool) -> Verdict {
        if ok { Verdict::Good } else { Verdict::Bad }
    }

    /// The name tshark gives this verdict in the reference expectations (`good`, `bad`,
    /// `not_present`, `illegal`, `unverified`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Verdict::Good => "good",
            Verdict::Bad => "bad",
            Verdict::NotPresent => "not_present",
            Verdict::Illegal => "illegal",
            Verdict::Unverified => "unverified",
        }
    }

    /// Whether a receiver following the RFCs accepts the packet: `Good` and `NotPresent` (an
    /// absent optional checksum) pass; `Unverified` passes too, since nothing contradicts it.
    #[must_use]
    pub const fn is_acceptable(self) -> bool {
        matches!(
            self,
            Verdict::Good | Verdict::NotPresent | Verdict::Unverified
        )
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_tshark_expectations() {
        let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.name()).collect();
        assert_eq!(
            names,
            ["good", "bad", "not_present", "illegal", "unverified"]
        );
        assert_eq!(Verdict::NotPresent.to_string(), "not_present");
    }

    #[test]
    fn acceptance() {
        assert_eq!(Verdict::from_ok(true), Verdict::Good);
        assert_eq!(Verdict::from_ok(false), Verdict::Bad);
        assert!(Verdict::Good.is_acceptable());
        assert!(Verdict::NotPresent.is_acceptable());
        assert!(!Verdict::Bad.is_acceptable());
        assert!(!Verdict::Illegal.is_acceptable());
    }
}
