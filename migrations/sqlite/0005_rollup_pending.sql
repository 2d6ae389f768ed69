-- Rollup deltas not yet folded into the rollups (issue 6). A small pushed batch
-- appends its rollup deltas here in the transaction that stores its records, so
-- concurrent pushes never wait on the same rollup rows (every push of the current
-- hour touches its total, model and project rows); a background fold moves them
-- into usage_rollups and usage_rollup_dims in bulk, deleting them in the same
-- transaction. Reports read the *_live views: rollups plus whatever is pending, in
-- one statement, so a stored event is counted at once and exactly once.

CREATE TABLE rollup_pending (
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
    cost_pico              BIGINT NOT NULL
);

CREATE VIEW usage_rollups_live AS
SELECT hour_start, provider, model, project, agent, session_type, source, records, requests,
       unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens,
       cache_write_1h_tokens, web_search_requests, cost_pico
  FROM usage_rollups
UNION ALL
SELECT hour_start, provider, model, project, agent, session_type, source, records, requests,
       unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens,
       cache_write_1h_tokens, web_search_requests, cost_pico
  FROM rollup_pending;

-- Each pending row counts once in every dimension (7) and grain (hour, UTC day).
CREATE VIEW usage_rollup_dims_live AS
SELECT dim, grain, bucket_start, value, records, requests, unpriced_requests, input_tokens,
       output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
       web_search_requests, cost_pico
  FROM usage_rollup_dims
UNION ALL
SELECT d.dim, g.grain,
       CASE WHEN g.grain = 'h' THEN p.hour_start ELSE p.hour_start - (p.hour_start % 86400) END,
       CASE d.dim WHEN 'total' THEN '' WHEN 'provider' THEN p.provider WHEN 'model' THEN p.model
                  WHEN 'project' THEN p.project WHEN 'agent' THEN p.agent
                  WHEN 'session_type' THEN p.session_type ELSE p.source END,
       p.records, p.requests, p.unpriced_requests, p.input_tokens, p.output_tokens,
       p.cache_read_tokens, p.cache_write_5m_tokens, p.cache_write_1h_tokens,
       p.web_search_requests, p.cost_pico
  FROM rollup_pending p
 CROSS JOIN (SELECT 'total' AS dim UNION ALL SELECT 'provider' UNION ALL SELECT 'model'
             UNION ALL SELECT 'project' UNION ALL SELECT 'agent' UNION ALL SELECT 'session_type'
             UNION ALL SELECT 'source') d
 CROSS JOIN (SELECT 'h' AS grain UNION ALL SELECT 'd') g;
