-- Work the query-api Lambda handed to another function (issue 16): `POST /admin/collect`
-- and `POST /admin/sync-cv` invoke the collector or cv-sync function asynchronously
-- (Lambda event invocation) and answer 202. One row per invocation, written once its
-- answer is in; `GET /admin/status` lists the latest. The run itself is logged by the
-- function that does it (collection_runs, cv_pushes).

CREATE TABLE handoffs (
    id               BIGSERIAL PRIMARY KEY,
    -- collect | sync-cv
    job              TEXT    NOT NULL,
    -- the function invoked (name or ARN, as configured)
    function_name    TEXT    NOT NULL,
    -- the event sent, as JSON text
    payload          TEXT    NOT NULL,
    requested_at_ms  BIGINT  NOT NULL,
    -- Lambda's x-amzn-RequestId for the invocation; NULL when it failed
    request_id       TEXT,
    -- why Lambda did not accept the invocation; NULL when it did
    error            TEXT
);
