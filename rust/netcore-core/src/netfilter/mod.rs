//! Netfilter: hook points with priorities and verdicts, and native rules in a small language
//! in the spirit of nftables, compiled to matchers that run at full speed.
//!
//! A [`Ruleset`] is parsed once ([`Ruleset::parse`]) and then shared read-only by the workers;
//! each worker owns its [`RuleCounters`] and evaluates packets described by a [`PacketInfo`]
//! with [`Ruleset::eval`], which allocates nothing and takes no lock. The language is
//! described in `parse.rs`; errors name the line and column ([`RuleError`]).

mod classify;
mod hook;
mod lexer;
mod matcher;
mod packet;
mod parse;
mod ruleset;

#[cfg(test)]
mod tests;

use std::fmt;

pub use hook::{Family, HookPoint, Verdict, priority};
pub use matcher::{AddrField, ByteSet, Match, NumField, RangeSet, Step};
pub use packet::{PacketInfo, V4_MAPPED, v4_mapped};
pub use ruleset::{Action, JUMP_CODE, Outcome, Rule, RuleCounters, RuleResult, Ruleset, Statement};

/// A rule that could not be parsed: where, and what was expected instead of what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Line of the ruleset text (1-based).
    pub line: u32,
    /// Column of the offending character (1-based, in characters).
    pub column: u32,
    /// What is wrong, e.g. `expected a port or port range, found "http"`.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}
