-- Usage records (SPEC §4), their hourly rollups (SPEC §3) and project mapping rules (SPEC §5).
-- Times are epoch milliseconds / seconds (BIGINT) and money is integer picodollars (BIGINT),
-- the same representation as the SQLite schema, so both backends answer identically.

CREATE TABLE usage_records (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    source                 TEXT    NOT NULL,
    external_id            TEXT    NOT NULL,
    recorded_at_ms         BIGINT  NOT NULL,
    hour_start             BIGINT  NOT NULL,
    bucket_seconds         INTEGER NOT NULL,
    provider               TEXT    NOT NULL,
    model                  TEXT    NOT NULL,
    -- the catalog's canonical id (or the model as reported when unpriced): the rollup key
    model_key              TEXT    NOT NULL,
    input_tokens           BIGINT  NOT NULL,
    output_tokens          BIGINT  NOT NULL,
    cache_read_tokens      BIGINT  NOT NULL,
    cache_write_5m_tokens  BIGINT  NOT NULL,
    cache_write_1h_tokens  BIGINT  NOT NULL,
    web_search_requests    BIGINT  NOT NULL,
    request_count          BIGINT  NOT NULL,
    service_tier           TEXT,
    context_window         TEXT,
    inference_geo          TEXT,
    session_label          TEXT,
    session_type           TEXT    NOT NULL,
    session_id             TEXT,
    agent                  TEXT,
    project                TEXT    NOT NULL,
    project_source         TEXT    NOT NULL,
    api_key_id             TEXT,
    api_key_name           TEXT,
    workspace_id           TEXT,
    workspace_name         TEXT,
    cost_pico              BIGINT  NOT NULL,
    cost_source            TEXT    NOT NULL,
    computed_cost_pico     BIGINT,
    price_ref              TEXT,
    unpriced               INTEGER NOT NULL,
    raw                    TEXT    NOT NULL,
    created_at_ms          BIGINT  NOT NULL,
    updated_at_ms          BIGINT  NOT NULL,
    CONSTRAINT usage_records_source_external_id UNIQUE (source, external_id)
);

CREATE INDEX usage_records_recorded_at ON usage_records (recorded_at_ms DESC, id DESC);
CREATE INDEX usage_records_mapping ON usage_records (project_source, session_label);

CREATE TABLE usage_rollups (
    hour_start             BIGINT NOT NULL,
    provider               TEXT   NOT NULL,
    model                  TEXT   NOT NULL,
    project                TEXT   NOT NULL,
    agent                  TEXT   NOT NULL,
    session_type           TEXT   NOT NULL,
    source                 TEXT   NOT NULL,
    records                BIGINT NOT NULL,
    requests               BIGINT NOT NULL,
    unpriced_requests      BIGINT NOT NULL,
    input_tokens           BIGINT NOT NULL,
    output_tokens          BIGINT NOT NULL,
    cache_read_tokens      BIGINT NOT NULL,
    cache_write_5m_tokens  BIGINT NOT NULL,
    cache_write_1h_tokens  BIGINT NOT NULL,
    web_search_requests    BIGINT NOT NULL,
    cost_pico              BIGINT NOT NULL,
    PRIMARY KEY (hour_start, provider, model, project, agent, session_type, source)
);

CREATE TABLE project_rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern    TEXT    NOT NULL,
    project    TEXT    NOT NULL,
    priority   INTEGER NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);

INSERT INTO project_rules (pattern, project, priority, created_at_ms) VALUES
    ('peakpaws-*', 'PeakPaws', 0, 0),
    ('kanban-*', 'Kanban Board', 0, 0),
    ('trading-*', 'Trading Tools', 0, 0),
    ('cost-tracker-*', 'Cost Tracker', 0, 0),
    ('context-vault-*', 'Context Vault', 0, 0);
