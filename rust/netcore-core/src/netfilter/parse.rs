//! The rule language, one rule per line, in nft's words:
//!
//! ```text
//! rule      := match* statement* verdict?
//! match     := ip (saddr|daddr) [op] addrs   | ip6 (saddr|daddr) [op] addrs
//!            | ip protocol [op] protos        | meta l4proto [op] protos | meta nfproto ipv4|ipv6
//!            | (tcp|udp|sctp|dccp|udplite|th) (sport|dport) [op] ports
//!            | tcp flags FLAGS | tcp flags [==|!=] { FLAGS, … } | tcp flags FLAGS / FLAGS
//!            | tcp flags & FLAGS (==|!=) FLAGS
//!            | [meta] (iif|oif|iifname|oifname) [op] names
//!            | [meta] mark [op] numbers       | [meta] length [op] numbers
//! statement := counter | [meta] mark set N | meta priority set N|MAJOR:MINOR
//! verdict   := accept | drop | queue [num N] | jump NAME | goto NAME | return | continue
//! op        := == | != | eq | ne | < | > | <= | >= | lt | gt | le | ge
//! values    := VALUE | VALUE-VALUE | { VALUE[-VALUE], … }   (addresses also ADDR/LEN)
//! ```
//!
//! `< > <= >=` take one number. `tcp flags syn,ack` (nft's implicit operator on a bitmask)
//! matches when any of the flags is set; `{ … }` lists whole flag combinations. Like nft,
//! `ip saddr` implies IPv4, `tcp dport` implies TCP and so on; contradicting an implied
//! family or protocol in one rule is an error.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::RuleError;
use super::hook::{Family, Verdict};
use super::lexer::{Tok, Token, tokenize};
use super::matcher::{AddrField, ByteSet, Match, NumField, RangeSet};
use super::packet::v4_mapped;
use super::ruleset::{Action, Rule, Statement};

type PResult<T> = Result<T, RuleError>;

impl Op {
    /// How the operator is written.
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// TCP flag names as nft writes them, and their bits in the TCP header's flags byte.
const TCP_FLAGS: [(&str, u8); 8] = [
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("psh", 0x08),
    ("ack", 0x10),
    ("urg", 0x20),
    ("ecn", 0x40),
    ("cwr", 0x80),
];

/// Protocol names nft knows (from `/etc/protocols`), with their numbers.
const PROTOCOLS: [(&str, u8); 13] = [
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("tcp", 6),
    ("udp", 17),
    ("ipv6", 41),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("sctp", 132),
    ("udplite", 136),
];

/// Transports whose header nft reads ports from, with their protocol (`None` for `th`).
const TRANSPORTS: [(&str, Option<u8>); 6] = [
    ("tcp", Some(6)),
    ("udp", Some(17)),
    ("sctp", Some(132)),
    ("dccp", Some(33)),
    ("udplite", Some(136)),
    ("th", None),
];

/// Reads one rule from `line`; `None` for a blank or comment line.
pub(super) fn parse_rule(
    line: &str,
    line_no: u32,
    devices: &dyn Fn(&str) -> Option<u32>,
    jumps: &mut Vec<String>,
) -> PResult<Option<Rule>> {
    let tokens = tokenize(line, line_no)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let text = line.split('#').next().unwrap_or(line).trim();
    let mut p = Parser {
        toks: &tokens,
        pos: 0,
        line: line_no,
        end_col: line.chars().count() as u32 + 1,
        devices,
        rule: Rule {
            text: text.to_string(),
            line: line_no,
            family: None,
            l4proto: None,
            matches: Vec::new(),
            statements: Vec::new(),
            action: Action::Continue,
        },
    };
    p.rule_body(jumps)?;
    let mut rule = p.rule;
    // Cheap, selective matches first; the order of matches does not change the result.
    rule.matches.sort_by_key(Match::cost);
    Ok(Some(rule))
}

struct Parser<'a, 't> {
    toks: &'t [Token<'a>],
    pos: usize,
    line: u32,
    end_col: u32,
    devices: &'t dyn Fn(&str) -> Option<u32>,
    rule: Rule,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<Token<'a>> {
        self.toks.get(self.pos).copied()
    }

    fn peek_word(&self) -> Option<&'a str> {
        match self.peek()?.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn col(&self) -> u32 {
        self.peek().map_or(self.end_col, |t| t.col)
    }

    fn error_at(&self, col: u32, message: String) -> RuleError {
        RuleError {
            line: self.line,
            column: col,
            message,
        }
    }

    /// "expected WHAT, found …" at the current token.
    fn expected(&self, what: &str) -> RuleError {
        let found = self
            .peek()
            .map_or_else(|| "end of rule".to_string(), |t| t.describe());
        self.error_at(self.col(), format!("expected {what}, found {found}"))
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self
            .peek()
            .is_some_and(|t| matches!(t.tok, Tok::Punct(q) if q == p))
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.peek_word() == Some(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, what: &str) -> PResult<(&'a str, u32)> {
        match self.peek() {
            Some(Token {
                tok: Tok::Word(w),
                col,
            }) => {
                self.pos += 1;
                Ok((w, col))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn rule_body(&mut self, jumps: &mut Vec<String>) -> PResult<()> {
        while let Some(tok) = self.peek() {
            let Tok::Word(w) = tok.tok else {
                return Err(self.expected("a match, a statement or a verdict"));
            };
            if let Some(action) = self.verdict(w, jumps)? {
                self.rule.action = action;
                if self.peek().is_some() {
                    return Err(self.expected("end of rule after the verdict"));
                }
                return Ok(());
            }
            if self.statement(w)? {
                continue;
            }
            if !self.rule.statements.is_empty() {
                return Err(self.error_at(
                    tok.col,
                    format!(
                        "expected a statement or a verdict, found {} (matches come before \
                         statements)",
                        tok.describe()
                    ),
                ));
            }
            self.matcher(w)?;
        }
        Ok(())
    }

    fn verdict(&mut self, w: &str, jumps: &mut Vec<String>) -> PResult<Option<Action>> {
        let action = match w {
            "accept" => Action::Verdict(Verdict::Accept),
            "drop" => Action::Verdict(Verdict::Drop),
            "return" => Action::Return,
            "continue" => Action::Continue,
            "queue" => {
                self.pos += 1;
                let mut num = 0;
                if self.eat_word("num") {
                    num = self.number("a queue number (0-65535)", u32::from(u16::MAX))? as u16;
                }
                return Ok(Some(Action::Verdict(Verdict::Queue(num))));
            }
            "jump" | "goto" => {
                self.pos += 1;
                let name = match self.peek() {
                    Some(Token {
                        tok: Tok::Word(n) | Tok::Str(n),
                        ..
                    }) if !n.is_empty() => n,
                    _ => return Err(self.expected("the name of a hook to jump to")),
                };
                self.pos += 1;
                let id = jumps.iter().position(|j| j == name).unwrap_or_else(|| {
                    jumps.push(name.to_string());
                    jumps.len() - 1
                });
                let id = u16::try_from(id)
                    .map_err(|_| self.error_at(self.col(), "too many jump targets".into()))?;
                return Ok(Some(Action::Jump(id)));
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(action))
    }

    /// Reads a statement if one starts here.
    fn statement(&mut self, w: &str) -> PResult<bool> {
        let next = |k: usize| match self.toks.get(self.pos + k).map(|t| t.tok) {
            Some(Tok::Word(w)) => w,
            _ => "",
        };
        let stmt = if w == "counter" {
            self.pos += 1;
            Statement::Counter
        } else if (w == "mark" && next(1) == "set") || (w == "meta" && next(2) == "set") {
            let key = if w == "meta" { next(1) } else { "mark" };
            self.pos += if w == "meta" { 3 } else { 2 };
            match key {
                "mark" => Statement::SetMark(self.number("a mark (a 32-bit number)", u32::MAX)?),
                "priority" => Statement::SetPriority(self.priority()?),
                _ => {
                    self.pos -= 2;
                    return Err(self.expected("\"mark\" or \"priority\" before \"set\""));
                }
            }
        } else {
            return Ok(false);
        };
        self.rule.statements.push(stmt);
        Ok(true)
    }

    /// A priority: a number, or `MAJOR:MINOR` in hexadecimal as tc writes class handles.
    fn priority(&mut self) -> PResult<u32> {
        let (w, col) = self.word("a priority (a number or MAJOR:MINOR)")?;
        let parsed = match w.split_once(':') {
            Some((major, minor)) => u16::from_str_radix(major, 16)
                .ok()
                .zip(u16::from_str_radix(minor, 16).ok())
                .map(|(a, b)| (u32::from(a) << 16) | u32::from(b)),
            None => parse_u32(w),
        };
        parsed.ok_or_else(|| {
            self.error_at(
                col,
                format!("expected a priority (a number or MAJOR:MINOR), found \"{w}\""),
            )
        })
    }

    fn matcher(&mut self, w: &str) -> PResult<()> {
        let col = self.col();
        self.pos += 1;
        match w {
            "ip" | "ip6" => {
                let family = if w == "ip" {
                    Family::Ipv4
                } else {
                    Family::Ipv6
                };
                self.require_family(family, col)?;
                let (key, kcol) = self.word("\"saddr\", \"daddr\" or \"protocol\"")?;
                match key {
                    "saddr" => self.addr_match(AddrField::Src, family),
                    "daddr" => self.addr_match(AddrField::Dst, family),
                    "protocol" if family == Family::Ipv4 => self.proto_match(),
                    _ => {
                        self.pos -= 1;
                        let keys = if family == Family::Ipv4 {
                            "\"saddr\", \"daddr\" or \"protocol\""
                        } else {
                            "\"saddr\" or \"daddr\""
                        };
                        Err(self.error_at(
                            kcol,
                            format!("expected {keys} after \"{w}\", found \"{key}\""),
                        ))
                    }
                }
            }
            "meta" => {
                let (key, _) =
                    self.word("a meta key (l4proto, nfproto, mark, length, iif, oif)")?;
                match key {
                    "l4proto" => self.proto_match(),
                    "nfproto" => {
                        let (f, fcol) = self.word("\"ipv4\" or \"ipv6\"")?;
                        let family = match f {
                            "ipv4" => Family::Ipv4,
                            "ipv6" => Family::Ipv6,
                            _ => {
                                return Err(self.error_at(
                                    fcol,
                                    format!("expected \"ipv4\" or \"ipv6\", found \"{f}\""),
                                ));
                            }
                        };
                        self.require_family(family, fcol)
                    }
                    "mark" | "length" | "iif" | "oif" | "iifname" | "oifname" => {
                        self.simple_match(key)
                    }
                    _ => {
                        self.pos -= 1;
                        Err(self.expected(
                            "a meta key (l4proto, nfproto, mark, length, iif, oif, priority)",
                        ))
                    }
                }
            }
            "mark" | "length" | "iif" | "oif" | "iifname" | "oifname" => self.simple_match(w),
            _ => {
                if let Some(&(name, proto)) = TRANSPORTS.iter().find(|(n, _)| *n == w) {
                    if let Some(p) = proto {
                        self.require_proto(p, col)?;
                    }
                    let keys = if name == "tcp" {
                        "\"sport\", \"dport\" or \"flags\""
                    } else {
                        "\"sport\" or \"dport\""
                    };
                    let (key, kcol) = self.word(keys)?;
                    match key {
                        "sport" => self.num_match(NumField::Sport),
                        "dport" => self.num_match(NumField::Dport),
                        "flags" if name == "tcp" => self.tcp_flags(),
                        _ => Err(self.error_at(
                            kcol,
                            format!("expected {keys} after \"{name}\", found \"{key}\""),
                        )),
                    }
                } else {
                    self.pos -= 1;
                    Err(self.expected("a match, a statement or a verdict"))
                }
            }
        }
    }

    fn simple_match(&mut self, key: &str) -> PResult<()> {
        match key {
            "mark" => self.num_match(NumField::Mark),
            "length" => self.num_match(NumField::Length),
            "iif" | "iifname" => self.device_match(NumField::Iif),
            _ => self.device_match(NumField::Oif),
        }
    }

    fn require_family(&mut self, family: Family, col: u32) -> PResult<()> {
        match self.rule.family {
            Some(f) if f != family => Err(self.error_at(
                col,
                format!(
                    "this rule already matches {} packets only; it cannot also match {}",
                    f.name(),
                    family.name()
                ),
            )),
            _ => {
                self.rule.family = Some(family);
                Ok(())
            }
        }
    }

    fn require_proto(&mut self, proto: u8, col: u32) -> PResult<()> {
        match self.rule.l4proto {
            Some(p) if p != proto => Err(self.error_at(
                col,
                format!(
                    "this rule already matches protocol {} only; it cannot also match {}",
                    proto_name(p),
                    proto_name(proto)
                ),
            )),
            _ => {
                self.rule.l4proto = Some(proto);
                Ok(())
            }
        }
    }

    fn op(&mut self) -> Op {
        let op = match self.peek().map(|t| t.tok) {
            Some(Tok::Punct("==") | Tok::Word("eq")) => Op::Eq,
            Some(Tok::Punct("!=") | Tok::Word("ne")) => Op::Ne,
            Some(Tok::Punct("<") | Tok::Word("lt")) => Op::Lt,
            Some(Tok::Punct(">") | Tok::Word("gt")) => Op::Gt,
            Some(Tok::Punct("<=") | Tok::Word("le")) => Op::Le,
            Some(Tok::Punct(">=") | Tok::Word("ge")) => Op::Ge,
            _ => return Op::Eq,
        };
        self.pos += 1;
        op
    }

    /// Values: one element, or a `{ … }` set of them (`element` reads one).
    fn values<T>(
        &mut self,
        mut element: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<(Vec<T>, bool)> {
        if !self.eat_punct("{") {
            return Ok((vec![element(self)?], false));
        }
        let mut out = Vec::new();
        loop {
            if self.eat_punct("}") && !out.is_empty() {
                return Ok((out, true));
            }
            out.push(element(self)?);
            if self.eat_punct("}") {
                return Ok((out, true));
            }
            if !self.eat_punct(",") {
                return Err(self.expected("\",\" or \"}\""));
            }
        }
    }

    /// A number match: ports, mark, length. `what` names one element for errors.
    fn num_match(&mut self, field: NumField) -> PResult<()> {
        let (what, max) = match field {
            NumField::Sport | NumField::Dport => ("a port or port range", u32::from(u16::MAX)),
            NumField::Length => ("a length or length range", u32::MAX),
            _ => ("a number or number range", u32::MAX),
        };
        let op = self.op();
        let col = self.col();
        let (ranges, is_set) = self.values(|p| p.num_range(what, max))?;
        let (set, negate) = relational(op, ranges, is_set, max).ok_or_else(|| {
            self.error_at(
                col,
                format!(
                    "\"{}\" needs a single value, not a range or set",
                    op.symbol()
                ),
            )
        })?;
        self.rule.matches.push(Match::Num {
            field,
            set: RangeSet::new(set),
            negate,
        });
        Ok(())
    }

    fn num_range(&mut self, what: &str, max: u32) -> PResult<(u32, u32)> {
        let (w, col) = self.word(what)?;
        let bad = || self.error_at(col, format!("expected {what}, found \"{w}\""));
        let parse = |s: &str| parse_u32(s).filter(|&v| v <= max);
        let (a, b) = w.split_once('-').unwrap_or((w, w));
        let (lo, hi) = (parse(a).ok_or_else(bad)?, parse(b).ok_or_else(bad)?);
        if lo > hi {
            return Err(self.error_at(col, format!("range \"{w}\" ends before it starts")));
        }
        Ok((lo, hi))
    }

    fn number(&mut self, what: &str, max: u32) -> PResult<u32> {
        let (w, col) = self.word(what)?;
        parse_u32(w)
            .filter(|&v| v <= max)
            .ok_or_else(|| self.error_at(col, format!("expected {what}, found \"{w}\"")))
    }

    fn device_match(&mut self, field: NumField) -> PResult<()> {
        let negate = match self.op() {
            Op::Eq => false,
            Op::Ne => true,
            _ => return Err(self.error_at(self.col(), "devices compare with == or != only".into())),
        };
        let (ranges, _) = self.values(|p| {
            let Some(Token {
                tok: Tok::Word(name) | Tok::Str(name),
                col,
            }) = p.peek()
            else {
                return Err(p.expected("a device name"));
            };
            p.pos += 1;
            let idx = (p.devices)(name)
                .ok_or_else(|| p.error_at(col, format!("unknown device \"{name}\"")))?;
            Ok((idx, idx))
        })?;
        self.rule.matches.push(Match::Num {
            field,
            set: RangeSet::new(ranges),
            negate,
        });
        Ok(())
    }

    fn proto_match(&mut self) -> PResult<()> {
        let op = self.op();
        let col = self.col();
        if !matches!(op, Op::Eq | Op::Ne) {
            return Err(self.error_at(col, "protocols compare with == or != only".into()));
        }
        let (protos, is_set) = self.values(|p| {
            let (w, col) = p.word("a protocol name or number")?;
            PROTOCOLS
                .iter()
                .find(|(n, _)| *n == w)
                .map(|&(_, n)| n)
                .or_else(|| parse_u32(w).and_then(|v| u8::try_from(v).ok()))
                .ok_or_else(|| {
                    p.error_at(
                        col,
                        format!("expected a protocol name or number, found \"{w}\""),
                    )
                })
        })?;
        if op == Op::Eq && !is_set {
            return self.require_proto(protos[0], col);
        }
        let mut set = ByteSet::default();
        for p in protos {
            set.insert(p);
        }
        self.rule.matches.push(Match::Proto(if op == Op::Ne {
            set.complement()
        } else {
            set
        }));
        Ok(())
    }

    fn addr_match(&mut self, field: AddrField, family: Family) -> PResult<()> {
        let negate = match self.op() {
            Op::Eq => false,
            Op::Ne => true,
            _ => {
                return Err(
                    self.error_at(self.col(), "addresses compare with == or != only".into())
                );
            }
        };
        let (ranges, _) = self.values(|p| p.addr_range(family))?;
        self.rule.matches.push(Match::Addr {
            field,
            set: RangeSet::new(ranges),
            negate,
        });
        Ok(())
    }

    /// An address, a prefix `ADDR/LEN` or a range `ADDR-ADDR`, as an address range.
    fn addr_range(&mut self, family: Family) -> PResult<(u128, u128)> {
        let what = match family {
            Family::Ipv4 => "an IPv4 address or prefix",
            Family::Ipv6 => "an IPv6 address or prefix",
        };
        let (w, col) = self.word(what)?;
        let bad = || self.error_at(col, format!("expected {what}, found \"{w}\""));
        let addr = |s: &str| match family {
            Family::Ipv4 => s.parse::<Ipv4Addr>().ok().map(|a| v4_mapped(a.octets())),
            Family::Ipv6 => s.parse::<Ipv6Addr>().ok().map(u128::from),
        };
        if let Some((a, b)) = w.split_once('-') {
            let (lo, hi) = (addr(a).ok_or_else(bad)?, addr(b).ok_or_else(bad)?);
            if lo > hi {
                return Err(self.error_at(col, format!("range \"{w}\" ends before it starts")));
            }
            return Ok((lo, hi));
        }
        let base = addr(w).ok_or_else(bad)?;
        let bits = match family {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        };
        let len = if self.eat_punct("/") {
            let lcol = self.col();
            let max = format!("a prefix length (0-{bits})");
            let n = self.number(&max, bits)?;
            let host = host_mask(128 - bits + n);
            if base & host != 0 {
                return Err(self.error_at(
                    lcol,
                    format!("\"{w}/{n}\" has host bits set; the network is written with them zero"),
                ));
            }
            n
        } else {
            bits
        };
        Ok((base, base | host_mask(128 - bits + len)))
    }

    fn tcp_flags(&mut self) -> PResult<()> {
        let col = self.col();
        if self.eat_punct("&") {
            // tcp flags & MASK (==|!=) VALUE
            let mask = self.flag_expr(true, true)?;
            let negate = match self.explicit_op() {
                Some(Op::Eq) => false,
                Some(Op::Ne) => true,
                _ => return Err(self.expected("\"==\" or \"!=\" after the flag mask")),
            };
            let value = self.flag_expr(false, true)?;
            let allowed = ByteSet::from_fn(|b| b == value);
            self.push_flags(
                mask,
                if negate {
                    allowed.complement()
                } else {
                    allowed
                },
            );
            return Ok(());
        }
        let op = self.explicit_op();
        let (mask, allowed) = if self.peek().is_some_and(|t| t.tok == Tok::Punct("{")) {
            // A set of whole flag combinations.
            let (values, _) = self.values(|p| p.flag_expr(false, false))?;
            (0xff, ByteSet::from_fn(|b| values.contains(&b)))
        } else {
            let flags = self.flag_expr(false, true)?;
            if self.eat_punct("/") {
                // tcp flags VALUE / MASK: the flags under MASK equal VALUE.
                let mask = self.flag_expr(false, true)?;
                (mask, ByteSet::from_fn(|b| b == flags & mask))
            } else if op.is_none() {
                // nft's implicit operator on a bitmask: any of the flags is set.
                (flags, ByteSet::from_fn(|b| b != 0))
            } else {
                (0xff, ByteSet::from_fn(|b| b == flags))
            }
        };
        match op {
            None | Some(Op::Eq) => self.push_flags(mask, allowed),
            Some(Op::Ne) => self.push_flags(mask, allowed.complement()),
            Some(_) => {
                return Err(self.error_at(col, "TCP flags compare with == or != only".into()));
            }
        }
        Ok(())
    }

    /// The operator written here, if any (no operator means nft's implicit one).
    fn explicit_op(&mut self) -> Option<Op> {
        let before = self.pos;
        let op = self.op();
        (self.pos != before).then_some(op)
    }

    fn push_flags(&mut self, mask: u8, allowed: ByteSet) {
        self.rule.matches.push(Match::TcpFlags { mask, allowed });
    }

    /// Flags joined by `|` (or by `,` when `commas`, i.e. outside a set whose elements
    /// commas separate), or a number; in parentheses when `allow_parens`.
    fn flag_expr(&mut self, allow_parens: bool, commas: bool) -> PResult<u8> {
        let parens = allow_parens && self.eat_punct("(");
        let mut bits = 0u8;
        loop {
            let (w, col) = self.word("a TCP flag (fin, syn, rst, psh, ack, urg, ecn, cwr)")?;
            bits |= TCP_FLAGS
                .iter()
                .find(|(n, _)| *n == w)
                .map(|&(_, b)| b)
                .or_else(|| parse_u32(w).and_then(|v| u8::try_from(v).ok()))
                .ok_or_else(|| {
                    self.error_at(
                        col,
                        format!(
                            "expected a TCP flag (fin, syn, rst, psh, ack, urg, ecn, cwr), found \"{w}\""
                        ),
                    )
                })?;
            if self.eat_punct("|") || (commas && self.eat_punct(",")) {
                continue;
            }
            break;
        }
        if parens && !self.eat_punct(")") {
            return Err(self.expected("\")\""));
        }
        Ok(bits)
    }
}

/// The values an operator accepts: `==` the ranges, `!=` their complement (by negation),
/// `< > <= >=` a range derived from a single value. `None` when a relational operator has a
/// range or a set.
fn relational(
    op: Op,
    ranges: Vec<(u32, u32)>,
    is_set: bool,
    max: u32,
) -> Option<(Vec<(u32, u32)>, bool)> {
    let single = match (ranges.as_slice(), is_set) {
        ([(lo, hi)], false) if lo == hi => Some(*lo),
        _ => None,
    };
    Some(match op {
        Op::Eq => (ranges, false),
        Op::Ne => (ranges, true),
        Op::Lt => match single? {
            0 => (Vec::new(), false),
            v => (vec![(0, v - 1)], false),
        },
        Op::Le => (vec![(0, single?)], false),
        Op::Gt => match single? {
            v if v >= max => (Vec::new(), false),
            v => (vec![(v + 1, max)], false),
        },
        Op::Ge => (vec![(single?, max)], false),
    })
}

/// The mask of the host bits of a prefix `len` bits long out of 128.
fn host_mask(len: u32) -> u128 {
    u128::MAX.checked_shr(len).unwrap_or(0)
}

/// A decimal or `0x` hexadecimal number.
fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        None => None,
    }
}

fn proto_name(p: u8) -> String {
    PROTOCOLS
        .iter()
        .find(|(_, n)| *n == p)
        .map_or_else(|| p.to_string(), |(name, _)| (*name).to_string())
}
