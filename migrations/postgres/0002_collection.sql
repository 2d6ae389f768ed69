-- Collection from the provider admin APIs (SPEC §8): one row per provider run, and the
-- per-provider watermark (end of the last committed chunk). Times are epoch milliseconds.

CREATE TABLE collection_runs (
    id              BIGSERIAL PRIMARY KEY,
    provider        TEXT    NOT NULL,
    -- schedule | manual | api | cli | serve
    trigger         TEXT    NOT NULL,
    -- running | succeeded | failed
    status          TEXT    NOT NULL,
    started_at_ms   BIGINT  NOT NULL,
    finished_at_ms  BIGINT,
    range_start_ms  BIGINT  NOT NULL,
    range_end_ms    BIGINT  NOT NULL,
    chunks          BIGINT  NOT NULL,
    pages           BIGINT  NOT NULL,
    buckets         BIGINT  NOT NULL,
    records         BIGINT  NOT NULL,
    created         BIGINT  NOT NULL,
    updated         BIGINT  NOT NULL,
    unchanged       BIGINT  NOT NULL,
    error           TEXT,
    duration_ms     BIGINT
);

CREATE INDEX collection_runs_provider ON collection_runs (provider, id DESC);

CREATE TABLE provider_watermarks (
    provider        TEXT    PRIMARY KEY,
    watermark_ms    BIGINT  NOT NULL,
    updated_at_ms   BIGINT  NOT NULL
);
