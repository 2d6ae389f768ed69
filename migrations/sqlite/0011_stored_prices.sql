-- Prices at run time (issue 15): price entries stored in the database, layered over the
-- catalog embedded in the binary. One row per model (its canonical id); `entry` is the
-- JSON of the fields of a catalog [[model]] entry (provider, family, aliases, prices with
-- decimal strings, modifiers, source), validated by the same rules as the catalog file.
-- Every instance (a Lambda, the server) reads the table at most every 30 s.

CREATE TABLE stored_prices (
    model          TEXT   NOT NULL PRIMARY KEY,
    entry          TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);

-- The unpriced records, for pricing them the moment a stored price covers their model:
-- a few rows, so the index is small.
CREATE INDEX usage_records_unpriced ON usage_records (id) WHERE unpriced = 1;
