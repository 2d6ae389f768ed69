//! The ledger: turns arriving usage into priced, attributed records and keeps
//! them consistent when rules or prices change.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::money::Pico;
use crate::domain::pricing::StoredEntry;
use crate::domain::pricing::{CatalogModel, PriceCatalog};
use crate::domain::rules::{ProjectRules, RuleSubject};
use crate::domain::session::{infer_agent, infer_session_type};
use crate::domain::usage::{
    provider_from_name, CostSource, NewUsage, PricingInput, ProjectSource, UsageRecord,
};
use crate::ingest::FieldError;
use crate::store::{
    BillChunk, Buffered, CostChange, Coverage, DynStore, StoreError, WriteMode, WriteOutcome,
};

/// Prices and attributes records, then stores them.
#[derive(Clone)]
pub struct Ledger {
    /// The store, behind [`Buffered`] (group commit of small pushes, the rollup folder).
    store: DynStore,
    buffered: Arc<Buffered>,
    /// The embedded catalog, under the stored layer.
    base: &'static PriceCatalog,
    /// The catalog with the stored layer, read at most every `price_ttl`.
    prices: Arc<Mutex<PriceCache>>,
    price_ttl: Duration,
    default_project: String,
    /// The rules, read at most every [`RULES_TTL`] (and at once after a local change).
    rules: Arc<Mutex<Option<(Instant, ProjectRules)>>>,
    /// Touched after every write that can change a period's total (budget checks).
    budget_watch: Arc<crate::budgets::BudgetWatch>,
}

/// How long cached rules are used before they are read again: a rule changed by
/// another instance (another Lambda) reaches this one within this time.
const RULES_TTL: Duration = Duration::from_secs(5);

/// How long the stored price layer is used before it is read again: a price stored
/// through another instance (the query Lambda, the server) reaches this one within
/// this time, without a redeploy.
pub const PRICES_TTL: Duration = Duration::from_secs(30);

/// The catalog in use and what it was built from.
struct PriceCache {
    catalog: Arc<PriceCatalog>,
    read_at: Option<Instant>,
    /// `(model, updated_at_ms)` of every stored entry it layers.
    fingerprint: Vec<(String, i64)>,
}

/// What pricing the unpriced records did (after a stored price covered their model).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PricedReport {
    /// Unpriced records looked at.
    pub records_checked: u64,
    /// Of those, the ones a price now covers.
    pub records_priced: u64,
    /// Their cost before (an agent's estimate, or 0) and now.
    pub cost_before_usd: Pico,
    pub cost_after_usd: Pico,
}

/// A read of the stored price layer.
pub struct PriceReload {
    pub catalog: Arc<PriceCatalog>,
    /// Whether the stored layer differed from the one in use.
    pub changed: bool,
    /// The unpriced records priced because it changed.
    pub priced: PricedReport,
}

/// What a re-pricing changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepriceReport {
    pub records_checked: u64,
    pub records_changed: u64,
    pub cost_before_usd: Pico,
    pub cost_after_usd: Pico,
    pub newly_priced: u64,
}

/// What applying the current rules changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetagReport {
    pub subjects_changed: u64,
    pub records_changed: u64,
}

const REPRICE_PAGE: i64 = 2_000;

/// The provider of a record whose model name tells none ([`provider_from_name`]).
const UNKNOWN_PROVIDER: &str = "unknown";

impl Ledger {
    pub fn new(
        store: DynStore,
        catalog: &'static PriceCatalog,
        default_project: impl Into<String>,
    ) -> Self {
        let buffered = Arc::new(Buffered::new(store));
        Ledger {
            store: buffered.clone(),
            buffered,
            base: catalog,
            prices: Arc::new(Mutex::new(PriceCache {
                catalog: Arc::new(catalog.clone()),
                read_at: None,
                fingerprint: Vec::new(),
            })),
            price_ttl: PRICES_TTL,
            default_project: default_project.into(),
            rules: Arc::new(Mutex::new(None)),
            budget_watch: Arc::default(),
        }
    }

    /// What writes touch; `serve` starts the budget checks on it.
    pub fn budget_watch(&self) -> &Arc<crate::budgets::BudgetWatch> {
        &self.budget_watch
    }

    /// Tells the budget checks that totals moved, when `result` is a write that did.
    fn touched<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_ok() {
            self.budget_watch.touch();
        }
        result
    }

    /// The same ledger reading the stored price layer at most every `ttl` (tests
    /// use zero to see another instance's change at once).
    pub fn with_price_ttl(mut self, ttl: Duration) -> Self {
        self.price_ttl = ttl;
        self
    }

    /// Starts the background fold of pending rollup deltas (a long-running server
    /// calls this; a Lambda does not); see [`Buffered::start_rollup_folder`].
    pub fn start_rollup_folder(&self) {
        self.buffered.start_rollup_folder();
    }

    /// Folds what is pending now (tests, shutdown); how many pending rows were folded.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn fold_now(&self) -> Result<u64, StoreError> {
        self.store.fold_pending_rollups().await
    }

    pub fn store(&self) -> &DynStore {
        &self.store
    }

    /// The catalog in use now (embedded and stored layers), without reading the
    /// database; [`Ledger::prices`] refreshes it first.
    pub fn catalog(&self) -> Arc<PriceCatalog> {
        self.prices.lock().expect("price cache").catalog.clone()
    }

    /// The embedded catalog alone.
    pub fn embedded_catalog(&self) -> &'static PriceCatalog {
        self.base
    }

    /// The catalog with the stored layer, read again when older than the TTL. When
    /// the layer changed (another instance stored a price), the unpriced records it
    /// now covers are priced in the background, not in the request that noticed.
    pub async fn prices(&self) -> Result<Arc<PriceCatalog>, StoreError> {
        {
            let cache = self.prices.lock().expect("price cache");
            if cache
                .read_at
                .is_some_and(|read_at| read_at.elapsed() < self.price_ttl)
            {
                return Ok(cache.catalog.clone());
            }
        }
        let (catalog, changed) = self.read_layer().await?;
        if changed {
            let (ledger, layer) = (self.clone(), catalog.clone());
            tokio::spawn(async move {
                if let Err(err) = ledger.price_unpriced(&layer).await {
                    tracing::warn!(error = %err, "pricing unpriced records failed; the next change retries");
                }
            });
        }
        Ok(catalog)
    }

    /// Reads the stored price layer now; when it changed, rebuilds the catalog and
    /// prices the unpriced records it now covers ([`Ledger::price_unpriced`]).
    pub async fn reload_prices(&self) -> Result<PriceReload, StoreError> {
        let (catalog, changed) = self.read_layer().await?;
        let priced = match changed {
            true => self.price_unpriced(&catalog).await?,
            false => PricedReport::default(),
        };
        Ok(PriceReload {
            catalog,
            changed,
            priced,
        })
    }

    /// Reads the stored layer and rebuilds the catalog in use when it changed;
    /// returns the catalog and whether it changed.
    async fn read_layer(&self) -> Result<(Arc<PriceCatalog>, bool), StoreError> {
        let rows = self.store.stored_prices().await?;
        let fingerprint: Vec<(String, i64)> = rows
            .iter()
            .map(|row| (row.entry.model.clone(), row.updated_at_ms))
            .collect();
        {
            let mut cache = self.prices.lock().expect("price cache");
            if cache.fingerprint == fingerprint {
                cache.read_at = Some(Instant::now());
                return Ok((cache.catalog.clone(), false));
            }
        }
        let entries: Vec<StoredEntry> = rows.into_iter().map(|row| row.entry).collect();
        let catalog = Arc::new(layer_stored(self.base, &entries));
        let mut cache = self.prices.lock().expect("price cache");
        cache.catalog = catalog.clone();
        cache.read_at = Some(Instant::now());
        cache.fingerprint = fingerprint;
        Ok((catalog, true))
    }

    /// Prices every unpriced record whose model `catalog` now knows (a record
    /// already priced never changes here: that takes [`Ledger::reprice`]).
    #[tracing::instrument(skip_all, err)]
    pub async fn price_unpriced(&self, catalog: &PriceCatalog) -> Result<PricedReport, StoreError> {
        let mut report = PricedReport::default();
        let mut after_id = 0;
        loop {
            let page = self.store.unpriced_records(after_id, REPRICE_PAGE).await?;
            let Some(last) = page.last() else { break };
            after_id = last.id;
            let mut changes = Vec::new();
            for record in page {
                report.records_checked += 1;
                let Some(entry) = catalog.resolve(&record.facts.model) else {
                    continue;
                };
                let mut priced = record.clone();
                let estimated = (record.cost_source == CostSource::Estimated)
                    .then_some(record.cost)
                    .or_else(|| estimated_cost(&record.facts.raw));
                priced.model_key = entry.id.clone();
                // A provider the name did not tell is the one the price entry names.
                if priced.provider == UNKNOWN_PROVIDER {
                    priced.provider = entry.provider.clone();
                }
                apply_price(catalog, &mut priced, Some(entry), None, estimated);
                if priced.unpriced {
                    continue;
                }
                changes.push(CostChange {
                    id: record.id,
                    model_key: priced.model_key.clone(),
                    provider: priced.provider.clone(),
                    cost: priced.cost,
                    cost_source: priced.cost_source,
                    computed_cost: priced.computed_cost,
                    price_ref: priced.price_ref.clone(),
                    unpriced: false,
                    before: record,
                });
            }
            if !changes.is_empty() {
                // Only the records this instance changed count (another may have priced some first).
                let changed: std::collections::HashSet<i64> = self
                    .touched(self.store.update_costs(&changes).await)?
                    .into_iter()
                    .collect();
                for change in changes.iter().filter(|c| changed.contains(&c.id)) {
                    report.records_priced += 1;
                    report.cost_before_usd += change.before.cost;
                    report.cost_after_usd += change.cost;
                }
            }
        }
        if report.records_priced > 0 {
            tracing::info!(
                records = report.records_priced,
                cost_usd = %report.cost_after_usd.usd(),
                "priced unpriced records with a stored price"
            );
        }
        Ok(report)
    }

    /// The current project rules, ordered for resolution (cached for [`RULES_TTL`]).
    pub async fn rules(&self) -> Result<ProjectRules, StoreError> {
        if let Some((read_at, rules)) = self.rules.lock().expect("rules cache").as_ref() {
            if read_at.elapsed() < RULES_TTL {
                return Ok(rules.clone());
            }
        }
        let rules = ProjectRules::new(self.store.list_rules().await?, self.default_project.clone());
        *self.rules.lock().expect("rules cache") = Some((Instant::now(), rules.clone()));
        Ok(rules)
    }

    /// Forgets the cached rules (after a rule was created, changed or deleted).
    fn forget_rules(&self) {
        *self.rules.lock().expect("rules cache") = None;
    }

    /// The canonical model id reports group by (the model as given when unknown).
    pub fn model_key(&self, model: &str) -> String {
        self.catalog()
            .resolve(model)
            .map_or_else(|| model.to_string(), |entry| entry.id.clone())
    }

    /// Prices and attributes one arriving record with the catalog in use.
    pub fn resolve(&self, new: NewUsage, rules: &ProjectRules) -> UsageRecord {
        self.resolve_with(&self.catalog(), new, rules)
    }

    /// Prices and attributes one arriving record; its model is looked up in the
    /// catalog once, for its canonical id, its provider (when not given) and its price.
    fn resolve_with(
        &self,
        catalog: &PriceCatalog,
        new: NewUsage,
        rules: &ProjectRules,
    ) -> UsageRecord {
        let mut new = new;
        scrub_texts(&mut new);
        let mut facts = new.facts;
        facts.recorded_at = truncate_to_millis(facts.recorded_at);
        let entry = catalog.resolve(&facts.model);
        let (label, session) = (facts.session_label.as_deref(), facts.session_id.as_deref());
        let session_type = new
            .session_type
            .unwrap_or_else(|| infer_session_type(label, session));
        let agent = new.agent.or_else(|| infer_agent(label, session));
        let (project, project_source) = match new.project {
            Some(project) => (project, ProjectSource::Explicit),
            None => {
                let subject = RuleSubject {
                    session_label: label,
                    api_key_name: facts.api_key_name.as_deref(),
                    workspace_name: facts.workspace_name.as_deref(),
                };
                (rules.resolve(subject).to_string(), ProjectSource::Mapping)
            }
        };
        let mut record = UsageRecord {
            id: 0,
            provider: new.provider.unwrap_or_else(|| match entry {
                Some(entry) => entry.provider.clone(),
                None => provider_from_name(&facts.model).to_string(),
            }),
            model_key: entry.map_or_else(|| facts.model.clone(), |entry| entry.id.clone()),
            facts,
            session_type,
            agent,
            project,
            project_source,
            cost: Pico::ZERO,
            cost_source: CostSource::Computed,
            computed_cost: None,
            price_ref: None,
            unpriced: false,
        };
        let reported = new.reported_cost.and_then(Pico::from_usd);
        let estimated = new.estimated_cost.and_then(Pico::from_usd);
        apply_price(catalog, &mut record, entry, reported, estimated);
        record
    }

    /// Prices and attributes a batch with the current rules.
    async fn resolve_all(&self, batch: Vec<NewUsage>) -> Result<Vec<UsageRecord>, StoreError> {
        let rules = self.rules().await?;
        let catalog = self.prices().await?;
        Ok(batch
            .into_iter()
            .map(|new| self.resolve_with(&catalog, new, &rules))
            .collect())
    }

    /// Resolves and stores a batch, all or nothing; when this returns `Ok` the
    /// batch is committed. Small pushed batches that arrive together share one
    /// transaction ([`Buffered`]); each still succeeds or fails on its own.
    #[tracing::instrument(level = "debug", skip_all, fields(events = batch.len(), ?mode), err(level = "debug"))]
    pub async fn ingest(
        &self,
        batch: Vec<NewUsage>,
        mode: WriteMode,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let records = self.resolve_all(batch).await?;
        let refused = oversized(&records);
        if !refused.is_empty() {
            return Err(StoreError::TooLarge(refused));
        }
        let written = self.store.write_usage(records, mode).await;
        self.touched(written)
    }

    /// Resolves and upserts a collected chunk, recording its whole hours as billed
    /// (see [`crate::store::reconcile`]), all in one transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(buckets = batch.len()), err(level = "debug"))]
    pub async fn ingest_collected(
        &self,
        batch: Vec<NewUsage>,
        coverage: &Coverage,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let records = self.resolve_all(batch).await?;
        let refused = oversized(&records);
        if !refused.is_empty() {
            return Err(StoreError::TooLarge(refused));
        }
        let written = self.store.write_collected(records, coverage).await;
        self.touched(written)
    }

    /// [`Ledger::ingest_collected`], also replacing the bill of the chunk's whole days
    /// with `bill`, in the same transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(buckets = batch.len(), lines = bill.lines.len()), err(level = "debug"))]
    pub async fn ingest_collected_billed(
        &self,
        batch: Vec<NewUsage>,
        coverage: &Coverage,
        bill: &BillChunk,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let records = self.resolve_all(batch).await?;
        let refused = oversized(&records);
        if !refused.is_empty() {
            return Err(StoreError::TooLarge(refused));
        }
        let written = self
            .store
            .write_collected_billed(records, coverage, bill)
            .await;
        self.touched(written)
    }

    /// Prices and attributes imported calls (the first half of an import commit,
    /// which can run while the previous batch is being written).
    #[tracing::instrument(level = "debug", skip_all, fields(calls = batch.len()), err(level = "debug"))]
    pub async fn resolve_import(
        &self,
        batch: Vec<NewUsage>,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        self.resolve_all(batch).await
    }

    /// Stores resolved imported calls with the cursors that cover them and their
    /// message claims, in one transaction (a call seen again keeps the larger token total).
    #[tracing::instrument(level = "debug", skip_all, fields(records = records.len(), cursors = cursors.len()), err(level = "debug"))]
    pub async fn write_import(
        &self,
        records: Vec<UsageRecord>,
        cursors: &[crate::store::ImportCursor],
        claims: &[crate::store::MessageClaim],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let written = self.store.write_import(records, cursors, claims).await;
        self.touched(written)
    }

    /// Re-applies the current rules to every rule-attributed record.
    #[tracing::instrument(skip_all, err)]
    pub async fn apply_rules(&self) -> Result<RetagReport, StoreError> {
        self.forget_rules();
        let rules = self.rules().await?;
        let changes: Vec<_> = self
            .store
            .mapping_subjects()
            .await?
            .into_iter()
            .filter_map(|subject| {
                let wanted = rules
                    .resolve(RuleSubject {
                        session_label: subject.session_label.as_deref(),
                        api_key_name: subject.api_key_name.as_deref(),
                        workspace_name: subject.workspace_name.as_deref(),
                    })
                    .to_string();
                (wanted != subject.project).then_some((subject, wanted))
            })
            .collect();
        if changes.is_empty() {
            return Ok(RetagReport::default());
        }
        let records_changed = self.touched(self.store.retag(&changes).await)?;
        Ok(RetagReport {
            subjects_changed: changes.len() as u64,
            records_changed,
        })
    }

    /// Recomputes computed costs in `[start, end)` with the current catalog.
    /// Reported costs stay the figure totals use; their computed twin is refreshed.
    #[tracing::instrument(skip_all, fields(%start, %end), err)]
    pub async fn reprice(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<RepriceReport, StoreError> {
        let mut report = RepriceReport::default();
        let catalog = self.reload_prices().await?.catalog;
        let mut after_id = 0;
        loop {
            let page = self
                .store
                .records_between(start, end, after_id, REPRICE_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after_id = last.id;
            let mut changes = Vec::new();
            for record in page {
                report.records_checked += 1;
                report.cost_before_usd += record.cost;
                let mut repriced = record.clone();
                let reported = (record.cost_source == CostSource::Reported).then_some(record.cost);
                let estimated = (record.cost_source == CostSource::Estimated)
                    .then_some(record.cost)
                    .or_else(|| estimated_cost(&record.facts.raw));
                let entry = catalog.resolve(&record.facts.model);
                repriced.model_key =
                    entry.map_or_else(|| record.facts.model.clone(), |e| e.id.clone());
                apply_price(&catalog, &mut repriced, entry, reported, estimated);
                report.cost_after_usd += repriced.cost;
                if repriced != record {
                    report.records_changed += 1;
                    report.newly_priced += u64::from(record.unpriced && !repriced.unpriced);
                    changes.push(CostChange {
                        id: record.id,
                        model_key: repriced.model_key,
                        provider: repriced.provider,
                        cost: repriced.cost,
                        cost_source: repriced.cost_source,
                        computed_cost: repriced.computed_cost,
                        price_ref: repriced.price_ref,
                        unpriced: repriced.unpriced,
                        before: record,
                    });
                }
            }
            if !changes.is_empty() {
                self.touched(self.store.update_costs(&changes).await)?;
            }
        }
        Ok(report)
    }
}

/// Sets the cost fields from the catalog, keeping a reported cost as the figure
/// totals use; an agent's estimate is the figure only when the catalog has no price.
fn apply_price(
    catalog: &PriceCatalog,
    record: &mut UsageRecord,
    entry: Option<&CatalogModel>,
    reported: Option<Pico>,
    estimated: Option<Pico>,
) {
    let quote = entry.map(|entry| {
        catalog.quote_model(
            entry,
            &PricingInput {
                model: &record.facts.model,
                recorded_at: record.facts.recorded_at,
                tokens: &record.facts.tokens,
                service_tier: record.facts.service_tier.as_deref(),
                // An aggregated bucket sums many requests: its token total says nothing about
                // one request's context size, so only an explicit `200k-1M` makes it long-context.
                context_window: record.facts.context_window.as_deref().or((record
                    .facts
                    .bucket_seconds
                    > 0)
                .then_some("0-200k")),
                inference_geo: record.facts.inference_geo.as_deref(),
            },
        )
    });
    // Kept whatever its size: a cost one record cannot hold is refused by
    // `oversized`, never stored as unpriced.
    record.computed_cost = quote.as_ref().and_then(|q| Pico::from_usd_wide(q.cost));
    record.price_ref = quote.map(|q| q.price_ref);
    match reported {
        Some(cost) => {
            record.cost = cost;
            record.cost_source = CostSource::Reported;
            record.unpriced = false;
        }
        None => match (record.computed_cost, estimated) {
            (None, Some(estimate)) => {
                record.cost = estimate;
                record.cost_source = CostSource::Estimated;
                record.unpriced = true;
            }
            (computed, _) => {
                record.cost = computed.unwrap_or(Pico::ZERO);
                record.cost_source = CostSource::Computed;
                record.unpriced = computed.is_none();
            }
        },
    }
}

/// The records whose cost one record cannot hold (over [`Pico::MAX_RECORD`]), each
/// as the field that makes it so: the token count with the largest share, since a
/// reported cost is limited when the event is parsed.
pub fn oversized(records: &[UsageRecord]) -> Vec<FieldError> {
    let too_large = |cost: Option<Pico>| cost.is_some_and(|c| c.stored().is_none());
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| too_large(Some(r.cost)) || too_large(r.computed_cost))
        .map(|(index, record)| {
            let t = &record.facts.tokens;
            let counts = [
                ("input_tokens", t.input),
                ("output_tokens", t.output),
                ("cache_read_tokens", t.cache_read),
                ("cache_write_tokens", t.cache_write_5m),
                ("cache_write_1h_tokens", t.cache_write_1h),
                ("web_search_requests", t.web_search_requests),
            ];
            let (field, _) = counts
                .into_iter()
                .max_by_key(|&(_, count)| count)
                .expect("six counts");
            let cost = record.computed_cost.unwrap_or(record.cost);
            FieldError {
                index: Some(index),
                field: field.to_string(),
                message: format!(
                    "makes this event cost {} USD, more than one event can hold ({} USD)",
                    cost.usd(),
                    Pico::MAX_RECORD.usd()
                ),
            }
        })
        .collect()
}

/// The agent's estimate an imported event carried (`estimated_cost` of its raw JSON).
fn estimated_cost(raw: &serde_json::Value) -> Option<Pico> {
    let text = match raw.get("estimated_cost")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let usd = text
        .parse::<rust_decimal::Decimal>()
        .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
        .ok()?;
    Pico::from_usd(usd)
}

/// Storage keeps milliseconds; truncating on arrival keeps re-sent records identical.
fn truncate_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// The embedded catalog with the stored entries over it. An entry that no longer
/// fits (its names now collide with a catalog model after an upgrade) is left out
/// with a warning rather than taking every stored price with it.
pub fn layer_stored(base: &PriceCatalog, entries: &[StoredEntry]) -> PriceCatalog {
    let mut models = Vec::with_capacity(entries.len());
    for entry in entries {
        match base.parse_stored(&entry.model, &entry.body) {
            Ok(model) => models.push(model),
            Err(err) => tracing::warn!(model = %entry.model, error = %err, "stored price left out"),
        }
    }
    if let Ok(catalog) = base.layered(&models) {
        return catalog;
    }
    let mut kept: Vec<CatalogModel> = Vec::with_capacity(models.len());
    for model in models {
        kept.push(model);
        if let Err(err) = base.layered(&kept) {
            let model = kept.pop().expect("just pushed");
            tracing::warn!(model = %model.id, error = %err, "stored price left out");
        }
    }
    base.layered(&kept).unwrap_or_else(|_| base.clone())
}

/// NUL characters out of every text of an arriving record (the API refuses them
/// first; imports and collections have no one to refuse them to).
fn scrub_texts(new: &mut NewUsage) {
    use crate::domain::text::scrub_nul;
    let facts = &mut new.facts;
    scrub_nul(&mut facts.external_id);
    scrub_nul(&mut facts.model);
    for text in [
        &mut facts.service_tier,
        &mut facts.context_window,
        &mut facts.inference_geo,
        &mut facts.session_label,
        &mut facts.session_id,
        &mut facts.api_key_id,
        &mut facts.api_key_name,
        &mut facts.workspace_id,
        &mut facts.workspace_name,
        &mut new.provider,
        &mut new.agent,
        &mut new.project,
    ]
    .into_iter()
    .flatten()
    {
        scrub_nul(text);
    }
}
