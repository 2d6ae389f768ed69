-- The bill as a check (issue 15, item 4): the providers' daily cost reports, pulled with
-- the usage of the same collection chunk and stored in its transaction. One row per bill
-- line of a UTC day; re-collecting a day replaces its lines (never adds to them).
--
-- day_start: the UTC midnight of the day, epoch seconds. workspace: the Anthropic
-- workspace_id or the OpenAI project_id ('' for the default workspace / none).
-- line: the line's natural key as the provider names it (Anthropic: description, cost
-- type, token type, model, tier, context window, geo; OpenAI: line_item).
-- model and token_kind are parsed from the line (NULL when the line does not name them).
-- amount_pico: the charge in picodollars (10^-12 USD), exact.
CREATE TABLE billed_costs (
    provider        TEXT    NOT NULL,
    day_start       BIGINT  NOT NULL,
    workspace       TEXT    NOT NULL,
    line            TEXT    NOT NULL,
    model           TEXT,
    token_kind      TEXT,
    description     TEXT,
    amount_pico     BIGINT  NOT NULL,
    raw             TEXT    NOT NULL,
    PRIMARY KEY (provider, day_start, workspace, line)
);

-- The days whose bill a collection pulled (a day without charges has no lines but is
-- still known to be billed at zero).
CREATE TABLE billed_days (
    provider        TEXT    NOT NULL,
    day_start       BIGINT  NOT NULL,
    pulled_at_ms    BIGINT  NOT NULL,
    PRIMARY KEY (provider, day_start)
);
