//! Session-type and agent inference for records that do not say.

use super::usage::SessionType;

/// Infers the session type from an OpenClaw-style key or a label:
/// `agent:<id>:main` → main, `agent:<id>:subagent:<uuid>` → subagent,
/// `cron:<job>` → cron, anything containing `heartbeat` → heartbeat, else main.
pub fn infer_session_type(session_label: Option<&str>, session_id: Option<&str>) -> SessionType {
    for key in [session_id, session_label].into_iter().flatten() {
        let lower = key.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("agent:") {
            let mut parts = rest.splitn(3, ':');
            match (parts.next(), parts.next()) {
                (Some(_), Some("main")) => return SessionType::Main,
                (Some(_), Some("subagent")) => return SessionType::Subagent,
                (Some(_), Some("cron")) => return SessionType::Cron,
                _ => {}
            }
        }
        if lower.starts_with("cron:") {
            return SessionType::Cron;
        }
        if lower.contains("heartbeat") {
            return SessionType::Heartbeat;
        }
    }
    SessionType::Main
}

/// The agent id of an OpenClaw key `agent:<id>:…`, if either value is one.
pub fn infer_agent(session_label: Option<&str>, session_id: Option<&str>) -> Option<String> {
    [session_id, session_label]
        .into_iter()
        .flatten()
        .find_map(|key| {
            let rest = key.strip_prefix("agent:")?;
            let id = rest.split(':').next()?;
            (!id.is_empty() && rest.contains(':')).then(|| id.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openclaw_keys_and_labels_are_classified() {
        use SessionType::*;
        let cases = [
            (None, Some("agent:openclaw:main"), Main),
            (None, Some("agent:openclaw:subagent:3f2a-9c"), Subagent),
            (Some("cron:nightly-report"), None, Cron),
            (Some("peakpaws-heartbeat-check"), None, Heartbeat),
            (Some("Heartbeat"), None, Heartbeat),
            (Some("peakpaws-safety-review"), None, Main),
            (
                Some("agent:openclaw:subagent:x"),
                Some("plain-session"),
                Subagent,
            ),
            (None, None, Main),
        ];
        for (label, id, expected) in cases {
            assert_eq!(infer_session_type(label, id), expected, "{label:?} {id:?}");
        }
    }

    #[test]
    fn agent_id_comes_from_openclaw_keys() {
        assert_eq!(
            infer_agent(None, Some("agent:trader:main")),
            Some("trader".into())
        );
        assert_eq!(
            infer_agent(Some("agent:ops:subagent:1"), None),
            Some("ops".into())
        );
        assert_eq!(infer_agent(Some("peakpaws-x"), Some("cron:job")), None);
    }
}
