//! Findings: what the analyser, the provenance checks and the registry facts report,
//! with evidence a person can judge in seconds. They live here, beside the [`Code`]s
//! and the policy that judges them, so that every crate can report one without
//! pulling in the analyser.

use crate::Code;
use serde::{Deserialize, Serialize};

/// How much harm the behaviour can do where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth showing, not worth a decision on its own.
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The name as written in reports and metrics (`info` ... `critical`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// How sure the rule is that the pattern means what it looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// When the code runs for someone who installs the package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// Not reached from an install script or an entry point: tests, tools, `bin`.
    Elsewhere,
    /// Runs when the package is imported (`main`, `exports` and what they require).
    Import,
    /// Runs during `npm install`: lifecycle scripts and the files they run.
    Install,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Elsewhere => "elsewhere",
            Self::Import => "import",
            Self::Install => "install",
        }
    }
}

/// One behaviour found in a package, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub confidence: Confidence,
    /// What was found, in a sentence.
    pub message: String,
    /// The file inside the package (`package/` stripped), or the manifest field.
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The code or text it was found in, shortened.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub snippet: String,
    pub reach: Reach,
    /// The rule of the capability table that decided the severity
    /// (`exfil-host-identity`), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// How the data got there, from its source to the sink:
    /// `os.hostname() (line 3)`, `trackingData`, `postData`, `https.request`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trail: Vec<String>,
    /// The previous version of the release line did the same: the package's
    /// ordinary behaviour, weighed one step milder and never escalated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub established: bool,
    /// Runs only when a function of the package is called, not on install or load.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferred: bool,
}

impl Finding {
    /// A finding without a place in the package (facts from the registry).
    pub fn new(
        code: Code,
        severity: Severity,
        confidence: Confidence,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            confidence,
            message: message.into(),
            file: None,
            line: None,
            snippet: String::new(),
            reach: Reach::Elsewhere,
            rule: None,
            trail: Vec::new(),
            established: false,
            deferred: false,
        }
    }

    /// The trail as one line: `a → b → c`.
    pub fn trail_text(&self) -> String {
        self.trail.join(" → ")
    }

    /// Placed at `file:line`, with the code it was found in (shortened to one line).
    #[must_use]
    pub fn at(mut self, file: &str, line: Option<u32>, snippet: &str) -> Self {
        self.file = Some(file.to_owned());
        self.line = line;
        self.snippet = one_line(snippet, 160);
        self
    }

    /// With `reach`: when the code runs for someone who installs the package.
    #[must_use]
    pub fn reach(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    /// Where, as `file:line`.
    pub fn location(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.clone(),
            (None, _) => String::new(),
        }
    }
}

/// `text` on one line, at most `max` characters, with an ellipsis when cut: how
/// snippets and trails are shown.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= max {
        return flat.to_owned();
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
