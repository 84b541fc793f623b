//! Splits one line of the rule language into tokens that know their column.

use super::RuleError;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    /// A keyword, number, address or bare name.
    Word(&'a str),
    /// A double-quoted string (without the quotes).
    Str(&'a str),
    /// Punctuation: `{ } ( ) , | & / == != < > <= >=`.
    Punct(&'static str),
}

/// A token and the 1-based column of its first character.
#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub tok: Tok<'a>,
    pub col: u32,
}

impl Token<'_> {
    /// How an error message shows the token: quoted, as written.
    pub(super) fn describe(&self) -> String {
        match self.tok {
            Tok::Word(w) => format!("\"{w}\""),
            Tok::Str(s) => format!("\"\\\"{s}\\\"\""),
            Tok::Punct(p) => format!("\"{p}\""),
        }
    }
}

/// Characters of a word: names, numbers, IPv4 and IPv6 addresses, ranges (`80-90`).
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '@')
}

const PUNCT: [&str; 14] = [
    "==", "!=", "<=", ">=", "{", "}", "(", ")", ",", "|", "&", "/", "<", ">",
];

/// The tokens of `line` (line number `line_no`, for errors), up to a `#` comment.
pub(super) fn tokenize(line: &str, line_no: u32) -> Result<Vec<Token<'_>>, RuleError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().enumerate().peekable();
    while let Some(&(n, (at, c))) = chars.peek() {
        let col = n as u32 + 1;
        let rest = &line[at..];
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        let err = |message: String| RuleError {
            line: line_no,
            column: col,
            message,
        };
        if c == '"' {
            let Some(len) = rest[1..].find('"') else {
                return Err(err("unterminated string: a closing \" is missing".into()));
            };
            let s = &rest[1..=len];
            tokens.push(Token {
                tok: Tok::Str(s),
                col,
            });
            for _ in 0..s.chars().count() + 2 {
                chars.next();
            }
        } else if is_word_char(c) {
            let len = rest.find(|ch| !is_word_char(ch)).unwrap_or(rest.len());
            tokens.push(Token {
                tok: Tok::Word(&rest[..len]),
                col,
            });
            for _ in 0..len {
                chars.next();
            }
        } else if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
            tokens.push(Token {
                tok: Tok::Punct(p),
                col,
            });
            for _ in 0..p.len() {
                chars.next();
            }
        } else {
            return Err(err(format!("unexpected character '{c}'")));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_columns() {
        let t = tokenize("ip saddr != {10.0.0.0/8, \"x y\"} # drop", 1).unwrap();
        let kinds: Vec<_> = t.iter().map(|t| (t.tok, t.col)).collect();
        assert_eq!(
            kinds,
            vec![
                (Tok::Word("ip"), 1),
                (Tok::Word("saddr"), 4),
                (Tok::Punct("!="), 10),
                (Tok::Punct("{"), 13),
                (Tok::Word("10.0.0.0"), 14),
                (Tok::Punct("/"), 22),
                (Tok::Word("8"), 23),
                (Tok::Punct(","), 24),
                (Tok::Str("x y"), 26),
                (Tok::Punct("}"), 31),
            ]
        );
    }

    #[test]
    fn lexical_errors_name_the_column() {
        let e = tokenize("meta mark = 1", 4).unwrap_err();
        assert_eq!((e.line, e.column), (4, 11));
        assert!(e.message.contains("'='"), "{e}");
        let e = tokenize("iif \"eth0", 2).unwrap_err();
        assert_eq!(e.column, 5);
        assert!(e.message.contains("unterminated"));
    }
}
