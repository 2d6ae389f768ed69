-- Server-side secrets (issue 16): the key the dashboard cookie is an HMAC under. One row
-- per name; `key_check` is an HMAC of the API key under `value`, so a changed API_KEY is
-- noticed at the next start and the secret replaced (old cookies then stop working).
-- Every instance (each Lambda, the server) reads the same row.

CREATE TABLE server_secrets (
    name           TEXT   NOT NULL PRIMARY KEY,
    value          TEXT   NOT NULL,
    key_check      TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
