-- Transcript import (SPEC §10, issue 12). One cursor per transcript file (or per
-- session of an OpenClaw SQLite store), written in the transaction that stores the
-- records it covers: a re-run reads only what is new, and a crash loses nothing.
-- Times are epoch milliseconds.

CREATE TABLE import_cursors (
    -- openclaw | claude-code
    importer       TEXT    NOT NULL,
    -- the file's path, or "<store path>#<session id>" for an OpenClaw SQLite session
    location       TEXT    NOT NULL,
    -- what the file is: device and inode plus a digest of its first bytes; another
    -- identity at the same path means the file was replaced and is read from the start
    identity       TEXT    NOT NULL,
    -- the file's size when last read (a smaller one means it shrank: read it again)
    size           BIGINT  NOT NULL,
    -- byte offset after the last complete line consumed, or the last seq read
    position       BIGINT  NOT NULL,
    -- the parser's context at that position (current model, open turn), as JSON
    state          TEXT    NOT NULL,
    updated_at_ms  BIGINT  NOT NULL,
    PRIMARY KEY (importer, location)
);

-- One row per importer root per run; /admin/status shows the latest of each root.
CREATE TABLE import_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    importer        TEXT    NOT NULL,
    root            TEXT    NOT NULL,
    -- cli | watch | serve
    trigger         TEXT    NOT NULL,
    -- running | succeeded | failed
    status          TEXT    NOT NULL,
    started_at_ms   BIGINT  NOT NULL,
    finished_at_ms  BIGINT,
    files_scanned   BIGINT  NOT NULL,
    lines_read      BIGINT  NOT NULL,
    created         BIGINT  NOT NULL,
    updated         BIGINT  NOT NULL,
    unchanged       BIGINT  NOT NULL,
    skipped         BIGINT  NOT NULL,
    error           TEXT,
    duration_ms     BIGINT
);

CREATE INDEX import_runs_root ON import_runs (importer, root, id DESC);

-- Claude Code main-thread calls by message id, per session: a sidechain line that replays
-- one of them in a later run (same message id, another request id) counts once.
CREATE TABLE import_message_claims (
    importer     TEXT    NOT NULL,
    session_id   TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    PRIMARY KEY (importer, session_id, message_id)
);
