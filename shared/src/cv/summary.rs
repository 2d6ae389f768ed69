//! The daily summary pushed to Context Vault and the memory that carries it.
//!
//! A summary is small on purpose: USD rounded to cents, at most [`MAX_KEYS`] keys per
//! object (the smallest folded into `other`), keys cut to [`MAX_KEY_CHARS`] characters,
//! and fewer keys still if that is what keeps it under [`MAX_BYTES`]. Rounded parts add
//! up exactly to the rounded total. A day without usage is a `$0.00` summary, so agents
//! can tell "nothing was spent" from "not synced yet".

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::domain::money::{apportion_at, serialize_decimal_text, Pico, CENTS_SCALE};
use crate::domain::pricing::PriceCatalog;
use crate::domain::timeframe::local_day_start;
use crate::store::{Dimension, Filters, GroupKey, Grouping, Store, StoreError, Totals};

/// Most keys in one object of the summary, `other` included.
pub const MAX_KEYS: usize = 10;
/// The summary object is always shorter than this, in bytes of JSON.
pub const MAX_BYTES: usize = 2048;
/// Longest key kept whole; longer project or model names are cut and end with `…`.
pub const MAX_KEY_CHARS: usize = 40;
/// The key holding everything beyond the largest keys.
pub const OTHER: &str = "other";

/// One day's costs grouped three ways, exact: what a summary is rounded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCosts {
    pub date: NaiveDate,
    pub timezone: String,
    pub requests: i128,
    /// By model family (the model's own key when the catalog does not know it).
    pub by_model: Vec<(String, Pico)>,
    pub by_project: Vec<(String, Pico)>,
    pub by_session_type: Vec<(String, Pico)>,
}

/// Keys and their cost in cents, largest first, `other` last; a JSON object in that order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CostMap(pub Vec<(String, Decimal)>);

impl Serialize for CostMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Cents<'a>(#[serde(serialize_with = "serialize_decimal_text")] &'a Decimal);
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, cents) in &self.0 {
            map.serialize_entry(key, &Cents(cents))?;
        }
        map.end()
    }
}

/// The summary object: `content` of the memory, and its `meta_data` with a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DailySummary {
    pub date: NaiveDate,
    /// USD with exactly two decimals (`52.30`).
    #[serde(serialize_with = "serialize_decimal_text")]
    pub total_cost: Decimal,
    /// USD in cents by model family (`opus`, `sonnet` …), at most 10 keys.
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    pub by_model: CostMap,
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    pub by_project: CostMap,
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    pub by_session_type: CostMap,
    /// A 128-bit sum, documented as the 64-bit integer it stays for any real day.
    #[schema(value_type = i64)]
    pub requests: i128,
    pub currency: &'static str,
    pub timezone: String,
}

impl DailySummary {
    /// Rounds a day's costs into a summary under [`MAX_BYTES`].
    pub fn from_costs(costs: &DayCosts) -> DailySummary {
        let total: Pico = costs.by_project.iter().map(|(_, cost)| *cost).sum();
        let (total_cost, _) = apportion_at(&[total], CENTS_SCALE);
        let build = |max_keys: usize| DailySummary {
            date: costs.date,
            total_cost,
            by_model: cost_map(&costs.by_model, max_keys),
            by_project: cost_map(&costs.by_project, max_keys),
            by_session_type: cost_map(&costs.by_session_type, max_keys),
            requests: costs.requests,
            currency: "USD",
            timezone: costs.timezone.clone(),
        };
        let mut summary = build(MAX_KEYS);
        let mut max_keys = MAX_KEYS;
        while summary.json().len() >= MAX_BYTES && max_keys > 1 {
            max_keys -= 1;
            summary = build(max_keys);
        }
        summary
    }

    /// The summary object as compact JSON: the memory's `content`.
    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("a summary always serializes")
    }

    /// SHA-256 (hex) of [`DailySummary::json`]: a day whose hash differs from its last
    /// push has changed (the revision is not part of it).
    pub fn hash(&self) -> String {
        Sha256::digest(self.json().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The total in cents.
    pub fn total_cents(&self) -> i64 {
        (self.total_cost * Decimal::ONE_HUNDRED)
            .trunc()
            .try_into()
            .unwrap_or(i64::MAX)
    }

    /// `AI spend 2026-02-05: $52.30 (opus $48.50, sonnet $3.00, haiku $0.80)`.
    pub fn line(&self) -> String {
        let models: Vec<String> = self
            .by_model
            .0
            .iter()
            .map(|(family, cents)| format!("{family} ${cents}"))
            .collect();
        let detail = if models.is_empty() {
            "no usage".to_string()
        } else {
            models.join(", ")
        };
        format!("AI spend {}: ${} ({detail})", self.date, self.total_cost)
    }

    /// The memory POSTed to Context Vault, as JSON bytes.
    pub fn memory(&self, revision: i64, workspace: &str) -> Vec<u8> {
        #[derive(Serialize)]
        struct MetaData<'a> {
            #[serde(flatten)]
            summary: &'a DailySummary,
            revision: i64,
        }
        #[derive(Serialize)]
        struct Memory<'a> {
            workspace: &'a str,
            memory_type: &'static str,
            importance: u8,
            source_tool: &'static str,
            tags: [String; 3],
            summary: String,
            content: String,
            meta_data: MetaData<'a>,
        }
        let memory = Memory {
            workspace,
            memory_type: "ai_cost_daily",
            importance: 5,
            source_tool: "ai-cost-tracker",
            tags: ["ai-cost".into(), "daily".into(), self.date.to_string()],
            summary: self.line(),
            content: self.json(),
            meta_data: MetaData {
                summary: self,
                revision,
            },
        };
        serde_json::to_vec(&memory).expect("a memory always serializes")
    }
}

/// A key as shown: trimmed, at most [`MAX_KEY_CHARS`] characters, never empty.
fn label(key: &str) -> String {
    let key = key.trim();
    if key.is_empty() {
        return "(none)".to_string();
    }
    if key.chars().count() <= MAX_KEY_CHARS {
        return key.to_string();
    }
    let mut cut: String = key.chars().take(MAX_KEY_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Merges equal labels, keeps the largest `max_keys` (or `max_keys - 1` and `other`
/// when there are more), largest first with `other` last, and rounds to cents.
fn cost_map(rows: &[(String, Pico)], max_keys: usize) -> CostMap {
    let mut merged: Vec<(String, Pico)> = Vec::new();
    for (key, cost) in rows {
        let key = label(key);
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some((_, sum)) => *sum += *cost,
            None => merged.push((key, *cost)),
        }
    }
    let by_cost = |a: &(String, Pico), b: &(String, Pico)| {
        (a.0 == OTHER)
            .cmp(&(b.0 == OTHER))
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
    };
    merged.sort_by(by_cost);
    let max_keys = max_keys.max(1);
    if merged.len() > max_keys {
        // A real key named `other` sorts last, so it is folded in with the rest.
        let rest: Pico = merged
            .split_off(max_keys - 1)
            .into_iter()
            .map(|r| r.1)
            .sum();
        merged.push((OTHER.to_string(), rest));
    }
    let costs: Vec<Pico> = merged.iter().map(|(_, cost)| *cost).collect();
    let (_, cents) = apportion_at(&costs, CENTS_SCALE);
    CostMap(merged.into_iter().map(|(k, _)| k).zip(cents).collect())
}

/// Reads one local day's costs from the rollups: by model family, project and session type.
#[tracing::instrument(level = "debug", skip_all, fields(%date, tz = tz.name()), err(level = "debug"))]
pub async fn day_costs(
    store: &dyn Store,
    catalog: &PriceCatalog,
    date: NaiveDate,
    tz: Tz,
) -> Result<DayCosts, StoreError> {
    let start = local_day_start(date, tz);
    let end = local_day_start(date.succ_opt().unwrap_or(date), tz);
    let all = Filters::default();
    let grouped = |dim| store.rollup_totals(start, end, &all, Grouping::By(dim));
    let models = grouped(Dimension::Model).await?;
    let family = |model: String| {
        catalog
            .resolve(&model)
            .map_or(model, |entry| entry.family.clone())
    };
    Ok(DayCosts {
        date,
        timezone: tz.name().to_string(),
        requests: models.iter().map(|(_, totals)| totals.requests).sum(),
        by_model: keyed(models, family),
        by_project: keyed(grouped(Dimension::Project).await?, |key| key),
        by_session_type: keyed(grouped(Dimension::SessionType).await?, |key| key),
    })
}

fn keyed(rows: Vec<(GroupKey, Totals)>, key: impl Fn(String) -> String) -> Vec<(String, Pico)> {
    rows.into_iter()
        .map(|(group, totals)| (key(group.value.unwrap_or_default()), totals.cost))
        .collect()
}

/// The summary of one local day, as pushed and as `GET /costs/daily-summary` shows it.
pub async fn daily_summary(
    store: &dyn Store,
    catalog: &PriceCatalog,
    date: NaiveDate,
    tz: Tz,
) -> Result<DailySummary, StoreError> {
    Ok(DailySummary::from_costs(
        &day_costs(store, catalog, date, tz).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn usd(text: &str) -> Pico {
        Pico::from_usd(text.parse().unwrap()).unwrap()
    }

    fn costs(by_model: &[(&str, &str)], by_project: Vec<(String, Pico)>) -> DayCosts {
        let by_model: Vec<(String, Pico)> = by_model
            .iter()
            .map(|(k, v)| (k.to_string(), usd(v)))
            .collect();
        DayCosts {
            date: NaiveDate::from_ymd_opt(2026, 2, 5).unwrap(),
            timezone: "UTC".into(),
            requests: 42,
            by_session_type: vec![("main".into(), by_model.iter().map(|r| r.1).sum())],
            by_model,
            by_project,
        }
    }

    #[test]
    fn the_summary_matches_the_spec_example() {
        let day = costs(
            &[
                ("sonnet", "2"),
                ("opus", "48.504"),
                ("haiku", "0.797"),
                ("sonnet", "1.003"),
            ],
            vec![("PeakPaws".into(), usd("52.304"))],
        );
        let summary = DailySummary::from_costs(&day);
        assert_eq!(
            summary.line(),
            "AI spend 2026-02-05: $52.30 (opus $48.50, sonnet $3.00, haiku $0.80)"
        );
        assert_eq!(
            summary.json(),
            r#"{"date":"2026-02-05","total_cost":52.30,"by_model":{"opus":48.50,"sonnet":3.00,"haiku":0.80},"by_project":{"PeakPaws":52.30},"by_session_type":{"main":52.30},"requests":42,"currency":"USD","timezone":"UTC"}"#
        );
        let memory: Value = serde_json::from_slice(&summary.memory(3, "ws")).unwrap();
        assert_eq!(memory["tags"], json!(["ai-cost", "daily", "2026-02-05"]));
        assert_eq!(memory["meta_data"]["revision"], 3);
        let mut meta = memory["meta_data"].clone();
        meta.as_object_mut().unwrap().remove("revision");
        let content: Value = serde_json::from_str(memory["content"].as_str().unwrap()).unwrap();
        assert_eq!(content, meta);
    }

    #[test]
    fn more_than_ten_keys_fold_into_other_and_parts_sum_to_the_total() {
        let projects: Vec<(String, Pico)> = (1..=14)
            .map(|i| (format!("project-{i:02}"), usd(&format!("{i}.333"))))
            .chain([("other".to_string(), usd("0.5"))])
            .collect();
        // 1.333 + … + 14.333 + 0.5 = 110.162
        let summary = DailySummary::from_costs(&costs(&[("opus", "110.162")], projects));
        let keys: Vec<&str> = summary
            .by_project
            .0
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys.len(), MAX_KEYS);
        assert_eq!(
            (keys[0], keys[8], keys[9]),
            ("project-14", "project-06", OTHER)
        );
        // 1.333 + … + 5.333 + 0.5 = 17.165, which gets the largest-remainder cent.
        assert_eq!(summary.by_project.0[9].1.to_string(), "17.17");
        let sum: Decimal = summary.by_project.0.iter().map(|(_, c)| *c).sum();
        assert_eq!(summary.total_cost.to_string(), "110.16");
        assert_eq!(sum, summary.total_cost);
    }

    #[test]
    fn long_names_stay_under_two_kilobytes() {
        let projects: Vec<(String, Pico)> = (0..40)
            .map(|i| (format!("{i:02}-{}", "🙂".repeat(190)), usd("1.01")))
            .collect();
        let models: Vec<String> = (0..40)
            .map(|i| format!("{i:02}-{}", "m".repeat(120)))
            .collect();
        let models: Vec<(&str, &str)> = models.iter().map(|k| (k.as_str(), "1.01")).collect();
        let summary = DailySummary::from_costs(&costs(&models, projects));
        assert!(summary.json().len() < MAX_BYTES, "{}", summary.json().len());
        assert!(
            (2..MAX_KEYS).contains(&summary.by_project.0.len()),
            "fewer keys to fit"
        );
        assert!(summary.by_project.0[0].0.ends_with('…'));
        assert_eq!(summary.by_project.0[0].0.chars().count(), MAX_KEY_CHARS);
        assert_eq!(summary.total_cost.to_string(), "40.40");
        for map in [&summary.by_model, &summary.by_project] {
            let sum: Decimal = map.0.iter().map(|(_, c)| *c).sum();
            assert_eq!(sum, summary.total_cost);
        }
    }

    #[test]
    fn a_day_without_usage_is_zero_and_hashes_change_with_the_numbers() {
        let empty = DailySummary::from_costs(&costs(&[], vec![]));
        assert_eq!(empty.line(), "AI spend 2026-02-05: $0.00 (no usage)");
        assert!(empty.json().contains(r#""total_cost":0.00,"by_model":{}"#));
        let one = DailySummary::from_costs(&costs(&[("opus", "1")], vec![("A".into(), usd("1"))]));
        let same = DailySummary::from_costs(&costs(&[("opus", "1")], vec![("A".into(), usd("1"))]));
        let cent_more =
            DailySummary::from_costs(&costs(&[("opus", "1.01")], vec![("A".into(), usd("1.01"))]));
        assert_eq!(one.hash(), same.hash());
        assert_ne!(one.hash(), cent_more.hash());
        assert_ne!(one.hash(), empty.hash());
        assert_eq!(one.hash().len(), 64);
        assert_eq!(cent_more.total_cents(), 101);
    }
}
