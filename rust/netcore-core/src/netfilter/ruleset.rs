//! A parsed ruleset, its evaluation and its per-worker counters.

use super::RuleError;
use super::classify::{Classifier, MAX_WORDS};
use super::hook::{Family, Verdict};
use super::matcher::{Match, NumField};
use super::packet::PacketInfo;
use super::parse::parse_rule;

/// A statement that runs when a rule's matches all pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    /// `counter`: the rule shows its counter (every matching rule is counted).
    Counter,
    /// `meta mark set N`.
    SetMark(u32),
    /// `meta priority set N`.
    SetPriority(u32),
}

/// How a rule ends when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// No verdict: evaluation goes on with the next rule (also `continue`).
    Continue,
    /// A terminal verdict.
    Verdict(Verdict),
    /// `jump NAME`: hand the packet to the external hook [`Ruleset::jump_target`] names.
    Jump(u16),
    /// `return`: stop here with no verdict (a base chain's policy applies).
    Return,
}

/// One rule: its source, the guards its matches imply, its matches, statements and action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub(super) text: String,
    pub(super) line: u32,
    /// The family every match of the rule needs (`ip …` implies IPv4).
    pub(super) family: Option<Family>,
    /// The transport protocol the rule needs (`tcp dport` implies TCP).
    pub(super) l4proto: Option<u8>,
    pub(super) matches: Vec<Match>,
    pub(super) statements: Vec<Statement>,
    pub(super) action: Action,
}

impl Rule {
    /// The rule as written (comment and surrounding blanks removed).
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line of the ruleset text the rule is on (1-based).
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The rule's statements, in order.
    #[must_use]
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// What the rule does when it matches.
    #[must_use]
    pub fn action(&self) -> Action {
        self.action
    }

    /// Whether the rule has a `counter` statement.
    #[must_use]
    pub fn has_counter(&self) -> bool {
        self.statements.contains(&Statement::Counter)
    }

    #[inline]
    fn matches(&self, pkt: &PacketInfo, mark: u32) -> bool {
        self.matches.iter().all(|m| m.test(pkt, mark))
    }

    /// Whether the rule's `meta mark` matches accept `mark`.
    fn mark_matches(&self, pkt: &PacketInfo, mark: u32) -> bool {
        self.matches
            .iter()
            .filter(|m| {
                matches!(
                    m,
                    Match::Num {
                        field: NumField::Mark,
                        ..
                    }
                )
            })
            .all(|m| m.test(pkt, mark))
    }

    /// Whether the rule's implied family and protocol, and its protocol matches, accept a
    /// packet of family slot `slot` and transport protocol `proto`.
    fn accepts_proto(&self, slot: usize, proto: u8) -> bool {
        self.family.is_none_or(|f| family_slot(Some(f)) == slot)
            && self.l4proto.is_none_or(|p| p == proto)
            && self.matches.iter().all(|m| match m {
                Match::Proto(set) => set.contains(proto),
                _ => true,
            })
    }
}

/// How the evaluation of a ruleset ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// No rule gave a verdict (the hook's policy applies: accept).
    #[default]
    FallThrough,
    /// A rule gave this verdict.
    Verdict(Verdict),
    /// A rule jumped to the external hook with this index ([`Ruleset::jump_target`]).
    Jump(u16),
}

/// nft's code for a jump (`NFT_JUMP`), used where verdict codes are stored.
pub const JUMP_CODE: i32 = -3;

/// The result of evaluating a ruleset on one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleResult {
    /// Verdict, jump or fall-through.
    pub outcome: Outcome,
    /// The index of the rule that ended the evaluation (verdict, jump or `return`).
    pub rule: Option<u32>,
    /// The mark the packet must carry from now on, if a rule set it.
    pub mark: Option<u32>,
    /// The priority the packet must carry from now on, if a rule set it.
    pub priority: Option<u32>,
}

impl RuleResult {
    /// The verdict as a code: the kernel's `NF_*` code, `NF_ACCEPT` for a fall-through (the
    /// default policy), [`JUMP_CODE`] for a jump.
    #[must_use]
    pub fn code(&self) -> i32 {
        match self.outcome {
            Outcome::FallThrough => i32::from(Verdict::ACCEPT),
            Outcome::Verdict(v) => i32::from(v.code()),
            Outcome::Jump(_) => JUMP_CODE,
        }
    }
}

/// Packets and bytes matched by each rule of a ruleset, owned by one worker; workers' counters
/// are summed with [`add`](Self::add).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCounters {
    packets: Vec<u64>,
    bytes: Vec<u64>,
}

impl RuleCounters {
    /// Zeroed counters for `rules` rules.
    #[must_use]
    pub fn new(rules: usize) -> RuleCounters {
        RuleCounters {
            packets: vec![0; rules],
            bytes: vec![0; rules],
        }
    }

    /// Grows the counters to at least `rules` rules.
    fn fit(&mut self, rules: usize) {
        if self.packets.len() < rules {
            self.packets.resize(rules, 0);
            self.bytes.resize(rules, 0);
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &RuleCounters) {
        self.fit(other.packets.len());
        for (a, b) in self.packets.iter_mut().zip(&other.packets) {
            *a += b;
        }
        for (a, b) in self.bytes.iter_mut().zip(&other.bytes) {
            *a += b;
        }
    }

    /// Packets rule `rule` matched.
    #[must_use]
    pub fn packets(&self, rule: usize) -> u64 {
        self.packets.get(rule).copied().unwrap_or(0)
    }

    /// Bytes (`meta length`) of the packets rule `rule` matched.
    #[must_use]
    pub fn bytes(&self, rule: usize) -> u64 {
        self.bytes.get(rule).copied().unwrap_or(0)
    }

    #[inline]
    fn count(&mut self, rule: usize, len: u32) {
        if let (Some(p), Some(b)) = (self.packets.get_mut(rule), self.bytes.get_mut(rule)) {
            *p += 1;
            *b += u64::from(len);
        }
    }
}

/// Slots of the candidate index: no family, IPv4, IPv6.
const FAMILY_SLOTS: usize = 3;

fn family_slot(f: Option<Family>) -> usize {
    match f {
        None => 0,
        Some(Family::Ipv4) => 1,
        Some(Family::Ipv6) => 2,
    }
}

/// Rules parsed from the rule language and compiled to matchers, shared read-only by the
/// workers that evaluate it.
///
/// Up to 512 rules are classified by bit vectors (see `classify.rs`): a packet costs about
/// one lookup per field the rules look at, then the few rules left are taken in order. Larger
/// rulesets are walked rule by rule, over the rules listed for the packet's family and
/// transport protocol.
#[derive(Debug, Clone)]
pub struct Ruleset {
    rules: Vec<Rule>,
    jumps: Vec<String>,
    /// Per family slot and transport protocol, an index into `candidates`.
    index: Box<[[u16; 256]; FAMILY_SLOTS]>,
    /// Distinct lists of rule indices, in rule order.
    candidates: Vec<Box<[u32]>>,
    classifier: Option<Classifier>,
}

impl Ruleset {
    /// Parses `text`: one rule per line, `#` comments, blank lines ignored. Device names
    /// (`iif`, `oif`) are resolved with `devices`, which gives a name's ifindex.
    pub fn parse(text: &str, devices: &dyn Fn(&str) -> Option<u32>) -> Result<Ruleset, RuleError> {
        let mut rules = Vec::new();
        let mut jumps = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
            if let Some(rule) = parse_rule(line, line_no, devices, &mut jumps)? {
                rules.push(rule);
            }
        }
        if rules.len() > u32::MAX as usize {
            return Err(RuleError {
                line: u32::MAX,
                column: 1,
                message: "too many rules".into(),
            });
        }
        Ok(Ruleset::build(rules, jumps))
    }

    fn build(rules: Vec<Rule>, jumps: Vec<String>) -> Ruleset {
        let mut candidates: Vec<Box<[u32]>> = Vec::new();
        let mut index = Box::new([[0u16; 256]; FAMILY_SLOTS]);
        for (slot, row) in index.iter_mut().enumerate() {
            for (proto, cell) in row.iter_mut().enumerate() {
                let list: Box<[u32]> = rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.accepts_proto(slot, proto as u8))
                    .map(|(i, _)| i as u32)
                    .collect();
                // At most 3 × 256 lists exist, so the position fits 16 bits.
                let at = candidates
                    .iter()
                    .position(|c| *c == list)
                    .unwrap_or_else(|| {
                        candidates.push(list);
                        candidates.len() - 1
                    });
                *cell = at as u16;
            }
        }
        let classifier = Classifier::build(&rules, Rule::accepts_proto);
        Ruleset {
            rules,
            jumps,
            index,
            candidates,
            classifier,
        }
    }

    /// The rules, in order.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no rule.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The name of the external hook [`Outcome::Jump`] refers to.
    #[must_use]
    pub fn jump_target(&self, id: u16) -> Option<&str> {
        self.jumps.get(usize::from(id)).map(String::as_str)
    }

    /// Counters sized for this ruleset.
    #[must_use]
    pub fn new_counters(&self) -> RuleCounters {
        RuleCounters::new(self.rules.len())
    }

    /// Evaluates the rules on `pkt` in order, counting matches in `counters`: the first
    /// terminal verdict, jump or `return` ends it, statements of matching rules take effect
    /// on the way (a mark set is seen by later `meta mark` matches).
    pub fn eval(&self, pkt: &PacketInfo, counters: &mut RuleCounters) -> RuleResult {
        let Some(classifier) = &self.classifier else {
            return self.eval_linear(pkt, counters);
        };
        counters.fit(self.rules.len());
        let mut acc = [0u64; MAX_WORDS];
        let mut mark_ok = [0u64; MAX_WORDS];
        let slot = family_slot(pkt.family);
        let words = classifier.candidates(pkt, slot, pkt.mark, &mut acc, &mut mark_ok);
        let mut state = Eval::new(pkt);
        for (w, (&word, &marks)) in acc.iter().zip(&mark_ok).take(words).enumerate() {
            let mut bits = word;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let i = w * 64 + bit as usize;
                let Some(rule) = self.rules.get(i) else {
                    continue;
                };
                // The mark bits hold for the packet's own mark; once a rule changed it, the
                // rule's mark matches are tested against the new one.
                let mark_passes = if state.mark == pkt.mark {
                    marks >> bit & 1 == 1
                } else {
                    rule.mark_matches(pkt, state.mark)
                };
                if mark_passes && state.fire(i, rule, pkt, counters) {
                    return state.result;
                }
            }
        }
        state.result
    }

    /// Evaluation by walking the rules listed for the packet's family and protocol, testing
    /// each: the reference the classifier agrees with, and the path of large rulesets.
    pub(super) fn eval_linear(&self, pkt: &PacketInfo, counters: &mut RuleCounters) -> RuleResult {
        counters.fit(self.rules.len());
        let mut state = Eval::new(pkt);
        let list = &self.candidates
            [usize::from(self.index[family_slot(pkt.family)][usize::from(pkt.l4proto)])];
        for &i in list {
            let Some(rule) = self.rules.get(i as usize) else {
                continue;
            };
            if rule.matches(pkt, state.mark) && state.fire(i as usize, rule, pkt, counters) {
                return state.result;
            }
        }
        state.result
    }

    /// Evaluates every packet of `pkts` into the matching slot of `results` (the shorter of
    /// the two sets the count).
    pub fn eval_many(
        &self,
        pkts: &[PacketInfo],
        results: &mut [RuleResult],
        counters: &mut RuleCounters,
    ) {
        for (p, r) in pkts.iter().zip(results.iter_mut()) {
            *r = self.eval(p, counters);
        }
    }
}

/// The state of one evaluation: the packet's current mark and the result so far.
struct Eval {
    mark: u32,
    result: RuleResult,
}

impl Eval {
    fn new(pkt: &PacketInfo) -> Eval {
        Eval {
            mark: pkt.mark,
            result: RuleResult::default(),
        }
    }

    /// Runs matching rule `i`: counts it, applies its statements, and says whether its action
    /// ends the evaluation.
    #[inline]
    fn fire(
        &mut self,
        i: usize,
        rule: &Rule,
        pkt: &PacketInfo,
        counters: &mut RuleCounters,
    ) -> bool {
        counters.count(i, pkt.length);
        for s in &rule.statements {
            match *s {
                Statement::Counter => {}
                Statement::SetMark(m) => {
                    self.mark = m;
                    self.result.mark = Some(m);
                }
                Statement::SetPriority(p) => self.result.priority = Some(p),
            }
        }
        self.result.outcome = match rule.action {
            Action::Continue => return false,
            Action::Return => Outcome::FallThrough,
            Action::Verdict(v) => Outcome::Verdict(v),
            Action::Jump(j) => Outcome::Jump(j),
        };
        self.result.rule = Some(i as u32);
        true
    }
}
