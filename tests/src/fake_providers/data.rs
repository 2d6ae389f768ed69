//! Deterministic data: each hour's usage as a pure function of the hour and the group.

use super::*;

pub(super) const SALT_ANTHROPIC: u64 = 0xA17E_0001;
pub(super) const SALT_OPENAI: u64 = 0x0BE7_0002;

pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x1234_5678_9ABC_DEF0, |acc, &p| mix(acc ^ p))
}

pub(super) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |acc, &b| {
        (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A small deterministic stream of draws.
pub(super) struct Draw(u64);

impl Draw {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    /// Percent in 0..100.
    pub(super) fn pct(&mut self) -> u64 {
        self.next() % 100
    }
    /// Uniform in `lo..=hi`.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// Whether `hour` has usage at all for the provider (about 1 hour in 7 has none).
pub(super) fn hour_alive(salt: u64, ts: i64) -> bool {
    hash(&[salt, ts as u64, 0xDEAD]).rem_euclid(7) != 0
}

/// Whether group `index` has usage in the hour (common groups more often than the tail).
pub(super) fn group_present(salt: u64, ts: i64, index: usize) -> bool {
    let threshold = 90u64.saturating_sub(2 * index.min(20) as u64);
    hash(&[salt, ts as u64, index as u64, 0xF00]) % 100 < threshold
}

pub(super) fn anthropic_row(
    hour: DateTime<Utc>,
    index: usize,
    group: &AGroup,
) -> Option<AnthropicRow> {
    let ts = hour.timestamp();
    if !hour_alive(SALT_ANTHROPIC, ts) || !group_present(SALT_ANTHROPIC, ts, index) {
        return None;
    }
    let mut d = Draw(hash(&[SALT_ANTHROPIC, ts as u64, index as u64]));
    let uncached_input_tokens = if d.pct() < 5 { 0 } else { d.range(1, 50_000) };
    let output_tokens = d.range(1, 20_000);
    let cache_read_input_tokens = if d.pct() < 30 { 0 } else { d.range(1, 500_000) };
    let cache_creation_5m = if d.pct() < 40 { 0 } else { d.range(1, 50_000) };
    let cache_creation_1h = if d.pct() < 70 { 0 } else { d.range(1, 50_000) };
    let web_search_requests = if d.pct() < 80 { 0 } else { d.range(1, 5) };
    Some(AnthropicRow {
        hour,
        model: group.model.to_string(),
        api_key_id: group.api_key_id.map(str::to_string),
        workspace_id: group.workspace_id.map(str::to_string),
        service_tier: group.service_tier.to_string(),
        context_window: group.context_window.to_string(),
        inference_geo: group.inference_geo.to_string(),
        uncached_input_tokens,
        cache_creation_5m,
        cache_creation_1h,
        cache_read_input_tokens,
        output_tokens,
        web_search_requests,
    })
}

pub(super) fn openai_row(hour: DateTime<Utc>, index: usize, group: &OGroup) -> Option<OpenaiRow> {
    let ts = hour.timestamp();
    if !hour_alive(SALT_OPENAI, ts) || !group_present(SALT_OPENAI, ts, index) {
        return None;
    }
    let mut d = Draw(hash(&[SALT_OPENAI, ts as u64, index as u64]));
    let num_model_requests = d.range(1, 300);
    let input_tokens = d.range(num_model_requests, 100_000);
    let cached_pct = if d.pct() < 30 { 0 } else { d.range(1, 80) };
    let input_cached_tokens = input_tokens * cached_pct / 100;
    let output_tokens = d.range(1, 20_000);
    Some(OpenaiRow {
        hour,
        model: group.model.to_string(),
        project_id: Some(group.project_id.to_string()),
        api_key_id: group.api_key_id.map(str::to_string),
        batch: group.batch,
        service_tier: group.service_tier.to_string(),
        input_tokens,
        input_cached_tokens,
        output_tokens,
        num_model_requests,
    })
}
