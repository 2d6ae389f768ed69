-- Context Vault sync (SPEC §9): one row per attempt to push a day's summary. The row is
-- written as `pending` before the request goes out and updated with its answer, so a
-- push cut off midway is visible and the day stays unsynced. A day counts as synced
-- when its latest `pushed` row carries the hash of its current summary.

CREATE TABLE cv_pushes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the local day summarised, YYYY-MM-DD in `timezone`
    date             TEXT    NOT NULL,
    timezone         TEXT    NOT NULL,
    -- meta_data.revision sent: 1 for a day's first push, +1 for each re-push
    revision         BIGINT  NOT NULL,
    -- SHA-256 (hex) of the summary object without the revision
    payload_hash     TEXT    NOT NULL,
    -- pending | pushed | failed
    status           TEXT    NOT NULL,
    -- HTTP status of the last answer; NULL when none came (timeout, refused connection)
    response_code    BIGINT,
    -- why the push did not succeed (the vault's response text for a 4xx)
    error            TEXT,
    attempts         BIGINT  NOT NULL,
    -- schedule | manual | api | cli | serve
    trigger          TEXT    NOT NULL,
    total_cost_cents BIGINT  NOT NULL,
    -- the summary object sent, as JSON text
    summary          TEXT    NOT NULL,
    attempted_at_ms  BIGINT  NOT NULL,
    duration_ms      BIGINT
);

CREATE INDEX cv_pushes_date ON cv_pushes (date, id DESC);
CREATE INDEX cv_pushes_status ON cv_pushes (status, id DESC);
