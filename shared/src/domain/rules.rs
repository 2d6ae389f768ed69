//! Project mapping rules: `(glob pattern, project, priority)` matched
//! against a session label, an API key name or a workspace name.

use serde::{Deserialize, Serialize};

/// One stored mapping rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRule {
    pub id: i64,
    pub pattern: String,
    pub project: String,
    pub priority: i32,
}

/// The rules seeded into a new database.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("peakpaws-*", "PeakPaws"),
    ("kanban-*", "Kanban Board"),
    ("trading-*", "Trading Tools"),
    ("cost-tracker-*", "Cost Tracker"),
    ("context-vault-*", "Context Vault"),
];

/// What a record offers to match against, in order of preference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleSubject<'a> {
    pub session_label: Option<&'a str>,
    pub api_key_name: Option<&'a str>,
    pub workspace_name: Option<&'a str>,
}

/// A set of rules, ordered once for resolution.
#[derive(Debug, Clone)]
pub struct ProjectRules {
    ordered: Vec<ProjectRule>,
    default_project: String,
}

impl ProjectRules {
    /// Orders rules by priority (highest first), then pattern length (longest first), then id.
    pub fn new(mut rules: Vec<ProjectRule>, default_project: impl Into<String>) -> Self {
        rules.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(b.pattern.len().cmp(&a.pattern.len()))
                .then(a.id.cmp(&b.id))
        });
        ProjectRules {
            ordered: rules,
            default_project: default_project.into(),
        }
    }

    /// The project for a subject: the session label is tried first, then the
    /// API key name, then the workspace name; no match gives the default project.
    pub fn resolve(&self, subject: RuleSubject<'_>) -> &str {
        [
            subject.session_label,
            subject.api_key_name,
            subject.workspace_name,
        ]
        .into_iter()
        .flatten()
        .find_map(|text| self.matching(text))
        .unwrap_or(&self.default_project)
    }

    fn matching(&self, text: &str) -> Option<&str> {
        self.ordered
            .iter()
            .find(|rule| glob_matches(&rule.pattern, text))
            .map(|rule| rule.project.as_str())
    }

    pub fn default_project(&self) -> &str {
        &self.default_project
    }
}

/// Case-insensitive glob: `*` is any run of characters, `?` any one character.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Checks a pattern submitted over the API; the error says what is wrong.
pub fn validate_pattern(pattern: &str) -> Result<(), String> {
    if pattern.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if pattern.len() > 200 {
        return Err("must be at most 200 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, pattern: &str, project: &str, priority: i32) -> ProjectRule {
        ProjectRule {
            id,
            pattern: pattern.into(),
            project: project.into(),
            priority,
        }
    }

    fn label(text: &str) -> RuleSubject<'_> {
        RuleSubject {
            session_label: Some(text),
            ..Default::default()
        }
    }

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob_matches("peakpaws-*", "peakpaws-safety-review"));
        assert!(glob_matches("PeakPaws-*", "peakpaws-x"));
        assert!(glob_matches("*-review", "peakpaws-safety-review"));
        assert!(glob_matches("a?c*", "abcdef"));
        assert!(glob_matches("*a*b*", "xxaxxbxx"));
        assert!(!glob_matches("peakpaws-*", "kanban-peakpaws"));
        assert!(!glob_matches("a?c", "ac"));
    }

    #[test]
    fn priority_then_longest_pattern_wins() {
        let rules = ProjectRules::new(
            vec![
                rule(1, "peakpaws-*", "PeakPaws", 0),
                rule(2, "peakpaws-safety-*", "Safety", 0),
                rule(3, "*-review", "Reviews", 5),
            ],
            "General",
        );
        assert_eq!(rules.resolve(label("peakpaws-safety-review")), "Reviews");
        assert_eq!(rules.resolve(label("peakpaws-safety-audit")), "Safety");
        assert_eq!(rules.resolve(label("peakpaws-listing")), "PeakPaws");
        assert_eq!(rules.resolve(label("misc")), "General");
        assert_eq!(rules.resolve(RuleSubject::default()), "General");
    }

    #[test]
    fn key_name_is_tried_before_workspace_name() {
        let rules = ProjectRules::new(
            vec![
                rule(1, "kanban-*", "Kanban Board", 0),
                rule(2, "trading*", "Trading Tools", 0),
            ],
            "General",
        );
        let subject = RuleSubject {
            session_label: None,
            api_key_name: Some("kanban-prod"),
            workspace_name: Some("trading"),
        };
        assert_eq!(rules.resolve(subject), "Kanban Board");
        let subject = RuleSubject {
            api_key_name: Some("unmatched"),
            ..subject
        };
        assert_eq!(rules.resolve(subject), "Trading Tools");
    }
}
