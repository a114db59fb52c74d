//! `[licenses]`: which licenses a team takes, by the SPDX expression a version's
//! package.json states.
//!
//! ```toml
//! [licenses]
//! allow = ["MIT", "ISC", "Apache-2.0", "BSD-*"]   # when set, only these
//! deny = ["AGPL-*", "GPL-3.0-*"]                  # never these
//! unknown = "warn"                                # no license, or not SPDX
//! action = "quarantine"                           # what a refused license does
//! ```
//!
//! An expression is acceptable when it can be satisfied with licenses that are not
//! denied (and, with an allow list, are allowed): `MIT OR GPL-3.0-only` is, since the
//! user may take MIT; `MIT AND GPL-3.0-only` is not. `WITH` exceptions count as their
//! license. Off by default.

use serde::Deserialize;

use crate::{Code, Reason, Verdict};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLicenses {
    allow: Option<Vec<String>>,
    #[serde(default)]
    deny: Vec<String>,
    unknown: Option<RawAction>,
    action: Option<RawAction>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawAction {
    Allow,
    Warn,
    Quarantine,
    Block,
}

impl RawAction {
    fn verdict(self) -> Option<Verdict> {
        match self {
            Self::Allow => None,
            Self::Warn => Some(Verdict::Warn),
            Self::Quarantine => Some(Verdict::Quarantine { until: None }),
            Self::Block => Some(Verdict::Block),
        }
    }
}

/// The license policy.
#[derive(Clone, Debug, Default)]
pub struct Licenses {
    allow: Option<Vec<String>>,
    deny: Vec<String>,
    /// What a missing or unreadable license does (nothing by default).
    unknown: Option<Verdict>,
    /// What a refused license does (a warning by default).
    action: Option<Verdict>,
}

impl Licenses {
    pub(crate) fn from_raw(raw: RawLicenses) -> Self {
        Self {
            allow: raw.allow,
            deny: raw.deny,
            unknown: raw.unknown.and_then(RawAction::verdict),
            action: raw.action.map_or(Some(Verdict::Warn), RawAction::verdict),
        }
    }

    /// Whether any license rule is set.
    pub fn is_active(&self) -> bool {
        self.allow.is_some() || !self.deny.is_empty() || self.unknown.is_some()
    }

    /// The `license` reason for a version stating `license`, if the policy has one.
    pub fn reason(&self, license: Option<&str>) -> Option<Reason> {
        if !self.is_active() {
            return None;
        }
        let Some(expression) = license.and_then(Expression::parse) else {
            return Some(Reason {
                code: Code::License,
                action: self.unknown.clone()?,
                message: match license {
                    None => "the version states no license".to_owned(),
                    Some(text) => format!("the license `{text}` is not an SPDX expression"),
                },
            });
        };
        if expression.satisfiable(&|id| self.acceptable(id)) {
            return None;
        }
        Some(Reason {
            code: Code::License,
            action: self.action.clone()?,
            message: format!(
                "the license `{}` is refused by the policy's [licenses] ({})",
                license.unwrap_or_default(),
                if self.allow.is_some() {
                    "not on the allow list, or denied"
                } else {
                    "denied"
                }
            ),
        })
    }

    fn acceptable(&self, id: &str) -> bool {
        let matches = |pattern: &String| glob(pattern, id);
        !self.deny.iter().any(matches)
            && self
                .allow
                .as_ref()
                .is_none_or(|allow| allow.iter().any(matches))
    }
}

/// `pattern` with `*` for any run of characters, case-insensitively (SPDX ids are).
fn glob(pattern: &str, id: &str) -> bool {
    let (pattern, id) = (pattern.to_ascii_lowercase(), id.to_ascii_lowercase());
    match pattern.split_once('*') {
        None => pattern == id,
        Some((prefix, rest)) => {
            id.starts_with(prefix)
                && (0..=id.len() - prefix.len()).any(|skip| glob(rest, &id[prefix.len() + skip..]))
        }
    }
}

/// An SPDX license expression.
#[derive(Debug, PartialEq, Eq)]
enum Expression {
    License(String),
    And(Box<Self>, Box<Self>),
    Or(Box<Self>, Box<Self>),
}

impl Expression {
    /// Parses `MIT`, `(MIT OR Apache-2.0)`, `GPL-2.0-only WITH Classpath-exception-2.0`,
    /// `LicenseRef-x`; `None` for anything else.
    fn parse(text: &str) -> Option<Self> {
        let spaced = text.replace('(', " ( ").replace(')', " ) ");
        let tokens: Vec<&str> = spaced.split_whitespace().collect();
        let mut position = 0;
        let expression = Self::or(&tokens, &mut position)?;
        (position == tokens.len()).then_some(expression)
    }

    fn or(tokens: &[&str], position: &mut usize) -> Option<Self> {
        let mut left = Self::and(tokens, position)?;
        while tokens
            .get(*position)
            .is_some_and(|token| token.eq_ignore_ascii_case("OR"))
        {
            *position += 1;
            left = Self::Or(Box::new(left), Box::new(Self::and(tokens, position)?));
        }
        Some(left)
    }

    fn and(tokens: &[&str], position: &mut usize) -> Option<Self> {
        let mut left = Self::term(tokens, position)?;
        while tokens
            .get(*position)
            .is_some_and(|token| token.eq_ignore_ascii_case("AND"))
        {
            *position += 1;
            left = Self::And(Box::new(left), Box::new(Self::term(tokens, position)?));
        }
        Some(left)
    }

    fn term(tokens: &[&str], position: &mut usize) -> Option<Self> {
        let token = *tokens.get(*position)?;
        *position += 1;
        if token == "(" {
            let inner = Self::or(tokens, position)?;
            (tokens.get(*position) == Some(&")")).then(|| *position += 1)?;
            return Some(inner);
        }
        let id = token.trim_end_matches('+');
        let valid = !id.is_empty()
            && !["AND", "OR", "WITH", ")"]
                .iter()
                .any(|word| id.eq_ignore_ascii_case(word))
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
        if !valid {
            return None;
        }
        if tokens
            .get(*position)
            .is_some_and(|token| token.eq_ignore_ascii_case("WITH"))
        {
            // The exception widens what the license allows; it is judged as its license.
            *position += 2;
            tokens.get(*position - 1)?;
        }
        Some(Self::License(id.to_owned()))
    }

    /// Whether some choice among the `OR`s uses only acceptable licenses.
    fn satisfiable(&self, acceptable: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Self::License(id) => acceptable(id),
            Self::And(left, right) => left.satisfiable(acceptable) && right.satisfiable(acceptable),
            Self::Or(left, right) => left.satisfiable(acceptable) || right.satisfiable(acceptable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn licenses(text: &str) -> Licenses {
        Licenses::from_raw(toml::from_str(text).unwrap())
    }

    #[test]
    fn expressions_parse_as_spdx_writes_them() {
        assert!(Expression::parse("MIT").is_some());
        assert!(Expression::parse("(MIT OR Apache-2.0) AND BSD-3-Clause").is_some());
        assert!(Expression::parse("GPL-2.0-only WITH Classpath-exception-2.0").is_some());
        assert!(Expression::parse("LicenseRef-Corp").is_some());
        assert!(Expression::parse("SEE LICENSE IN LICENSE.md").is_none());
        assert!(Expression::parse("MIT OR").is_none());
        assert!(Expression::parse("(MIT").is_none());
        assert!(Expression::parse("").is_none());
    }

    #[test]
    fn a_license_is_refused_only_when_no_choice_is_acceptable() {
        let policy = licenses("deny = [\"GPL-3.0-*\", \"AGPL-*\"]");
        assert!(policy.reason(Some("MIT")).is_none());
        assert!(policy.reason(Some("MIT OR GPL-3.0-only")).is_none());
        let refused = policy.reason(Some("MIT AND GPL-3.0-only")).unwrap();
        assert_eq!(refused.code, Code::License);
        assert_eq!(refused.action, Verdict::Warn, "a warning by default");
        assert!(
            policy.reason(Some("agpl-3.0-or-later")).is_some(),
            "case-insensitive"
        );
        assert!(
            policy.reason(None).is_none(),
            "unknown licenses pass by default"
        );

        let allow = licenses(
            "allow = [\"MIT\", \"ISC\", \"BSD-*\"]\nunknown = \"quarantine\"\naction = \"block\"",
        );
        assert!(allow.reason(Some("BSD-3-Clause")).is_none());
        assert_eq!(
            allow.reason(Some("Apache-2.0")).unwrap().action,
            Verdict::Block
        );
        assert_eq!(
            allow.reason(None).unwrap().action,
            Verdict::Quarantine { until: None }
        );
        assert!(
            allow
                .reason(Some("SEE LICENSE IN LICENSE"))
                .unwrap()
                .message
                .contains("not an SPDX expression")
        );
        assert!(
            licenses("").reason(Some("GPL-3.0-only")).is_none(),
            "off by default"
        );
    }
}
