//! CloudWatch Logs JSON filter patterns, the subset the CIS filters use: `{ … }` around
//! comparisons of a `$.`-selector with `=` / `!=` against a quoted or bare string (with `*`
//! wildcards), `NOT EXISTS`, parentheses, `&&` and `||` (CloudWatch Logs User Guide, "Filter
//! pattern syntax for metric filters", "Using filter patterns to match terms in JSON log
//! events"). It lets the CIS table be tested against real CloudTrail records: which events a
//! filter counts, and which it must not.
//!
//! A selector that names no property makes `=` and `!=` false (CloudWatch Logs matches a
//! comparison only against a property that exists); `NOT EXISTS` is true exactly then.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Equals { selector: Vec<String>, value: String, negated: bool },
    NotExists { selector: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter pattern {pattern:?}: {reason} at character {at}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: &'static str,
    pub at: usize,
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, reason: &'static str) -> PatternError {
        PatternError { pattern: self.text.to_owned(), reason, at: self.pos }
    }

    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.text[self.pos..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, PatternError> {
        if self.eat("(") {
            let inner = self.or()?;
            return if self.eat(")") { Ok(inner) } else { Err(self.error("a ')' is missing")) };
        }
        self.comparison()
    }

    fn selector(&mut self) -> Result<Vec<String>, PatternError> {
        self.skip_space();
        if !self.eat("$") {
            return Err(self.error("a selector ($.field) is expected"));
        }
        let mut path = Vec::new();
        while self.text[self.pos..].starts_with('.') {
            self.pos += 1;
            let start = self.pos;
            while self.text[self.pos..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                self.pos += 1;
            }
            if start == self.pos {
                return Err(self.error("a field name is expected after '.'"));
            }
            path.push(self.text[start..self.pos].to_owned());
        }
        if path.is_empty() {
            return Err(self.error("a selector names at least one field"));
        }
        Ok(path)
    }

    fn value(&mut self) -> Result<String, PatternError> {
        self.skip_space();
        if self.eat("\"") {
            let start = self.pos;
            let end = self.text[start..].find('"').ok_or_else(|| self.error("a closing '\"' is missing"))?;
            self.pos = start + end + 1;
            return Ok(self.text[start..start + end].to_owned());
        }
        let start = self.pos;
        while self.text[self.pos..]
            .starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '*' | '-' | '_' | '.' | ':' | '/'))
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.error("a value is expected"));
        }
        Ok(self.text[start..self.pos].to_owned())
    }

    fn comparison(&mut self) -> Result<Expr, PatternError> {
        let selector = self.selector()?;
        if self.eat("NOT EXISTS") {
            return Ok(Expr::NotExists { selector });
        }
        let negated = if self.eat("!=") {
            true
        } else if self.eat("=") {
            false
        } else {
            return Err(self.error("'=', '!=' or NOT EXISTS is expected"));
        };
        Ok(Expr::Equals { selector, value: self.value()?, negated })
    }
}

pub fn parse(pattern: &str) -> Result<Expr, PatternError> {
    let mut p = Parser { text: pattern, pos: 0 };
    if !p.eat("{") {
        return Err(p.error("a JSON filter pattern starts with '{'"));
    }
    let expr = p.or()?;
    if !p.eat("}") {
        return Err(p.error("a '}' (or '&&' / '||') is expected"));
    }
    p.skip_space();
    if p.pos != pattern.len() {
        return Err(p.error("nothing may follow the closing '}'"));
    }
    Ok(expr)
}

fn lookup<'v>(event: &'v Value, selector: &[String]) -> Option<&'v Value> {
    selector.iter().try_fold(event, |v, key| v.get(key)).filter(|v| !v.is_null())
}

fn value_matches(actual: &Value, expected: &str) -> bool {
    let text = match actual {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    wildmatch::WildMatch::new(expected).matches(&text)
}

impl Expr {
    /// Whether a log event (a CloudTrail record, as CloudTrail writes it to CloudWatch Logs)
    /// matches.
    pub fn matches(&self, event: &Value) -> bool {
        match self {
            Expr::Or(a, b) => a.matches(event) || b.matches(event),
            Expr::And(a, b) => a.matches(event) && b.matches(event),
            Expr::NotExists { selector } => lookup(event, selector).is_none(),
            Expr::Equals { selector, value, negated } => {
                lookup(event, selector).is_some_and(|actual| value_matches(actual, value) != *negated)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn precedence_parentheses_wildcards_and_missing_fields() {
        let e = parse(r#"{ ($.a = "x*") || $.b = y && $.c NOT EXISTS }"#).unwrap();
        assert!(e.matches(&json!({"a": "xyz"})));
        assert!(e.matches(&json!({"b": "y"})));
        assert!(!e.matches(&json!({"b": "y", "c": 1})), "&& binds tighter than ||");
        let ne = parse(r#"{$.mfa != "Yes"}"#).unwrap();
        assert!(ne.matches(&json!({"mfa": "No"})));
        assert!(!ne.matches(&json!({})), "no property, no match");
    }

    #[test]
    fn malformed_patterns_say_where() {
        for bad in ["$.a = 1", "{ $.a = }", "{ ($.a = 1 }", "{ $.a = 1 } x", "{ a = 1 }"] {
            let err = parse(bad).unwrap_err();
            assert!(err.to_string().contains("at character"), "{err}");
        }
    }
}
