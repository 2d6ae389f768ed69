-- Budgets and their alerts (issue 17). A budget watches the spend of one period
-- (a day, an ISO week or a month in REPORT_TIMEZONE) of everything or of one
-- dimension value, on the reconciled basis, and alerts its channels when the spend
-- (or the period's projection) passes a threshold.

CREATE TABLE budgets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    -- NULL for everything, else project | agent | model | provider | session_type
    scope_dimension  TEXT,
    scope_value      TEXT,
    -- day | week | month
    period           TEXT    NOT NULL,
    -- USD, a decimal as text (exact)
    amount_usd       TEXT    NOT NULL,
    -- percents, a JSON array of integers, ascending
    thresholds       TEXT    NOT NULL,
    -- 1: also alert when the period's projection passes the amount
    forecast         BIGINT  NOT NULL,
    -- the channels, a JSON array; a webhook URL is a secret (never logged or shown)
    channels         TEXT    NOT NULL,
    created_at_ms    BIGINT  NOT NULL,
    updated_at_ms    BIGINT  NOT NULL
);

-- One row per (budget, period, kind, threshold): written before the alert is sent,
-- so an alert fires once however many checks see it.
CREATE TABLE budget_alerts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    budget_id        BIGINT  NOT NULL,
    -- the first instant of the period, UTC epoch milliseconds
    period_start_ms  BIGINT  NOT NULL,
    -- threshold | forecast
    kind             TEXT    NOT NULL,
    -- percent of the amount
    threshold        BIGINT  NOT NULL,
    -- pending (being sent) | sent | failed
    status           TEXT    NOT NULL,
    -- the figures sent, as JSON text
    figures          TEXT    NOT NULL,
    -- requests made to the channels, retries included
    attempts         BIGINT  NOT NULL,
    -- why a channel did not take it; NULL when every channel did
    error            TEXT,
    fired_at_ms      BIGINT  NOT NULL,
    finished_at_ms   BIGINT,
    UNIQUE (budget_id, period_start_ms, kind, threshold)
);
CREATE INDEX budget_alerts_fired ON budget_alerts (fired_at_ms);
