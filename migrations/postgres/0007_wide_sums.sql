-- Rollup sums in two limbs, so that no sum can overflow: every sum but the count of
-- records keeps its low 32 bits in its column (0 <= x < 2^32) and the rest in a new
-- column x_hi (the value is x_hi * 2^32 + x). A write adds limb to limb and carries
-- the low limb's overflow into the high one; reports sum the limbs apart. Sums of
-- up to 2^95 picodollars (and tokens) are exact, where 64-bit sums overflowed at
-- about 9.2 million USD. Existing rows are split exactly; the *_live views gain
-- the high limbs.

DROP VIEW usage_rollups_live;
DROP VIEW usage_rollup_dims_live;

ALTER TABLE usage_rollups
    ADD COLUMN requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN unpriced_requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN input_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_5m_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_1h_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cost_pico_hi BIGINT NOT NULL DEFAULT 0;
UPDATE usage_rollups SET
    requests_hi = requests >> 32, requests = requests & 4294967295,
    unpriced_requests_hi = unpriced_requests >> 32, unpriced_requests = unpriced_requests & 4294967295,
    input_tokens_hi = input_tokens >> 32, input_tokens = input_tokens & 4294967295,
    output_tokens_hi = output_tokens >> 32, output_tokens = output_tokens & 4294967295,
    cache_read_tokens_hi = cache_read_tokens >> 32, cache_read_tokens = cache_read_tokens & 4294967295,
    cache_write_5m_tokens_hi = cache_write_5m_tokens >> 32, cache_write_5m_tokens = cache_write_5m_tokens & 4294967295,
    cache_write_1h_tokens_hi = cache_write_1h_tokens >> 32, cache_write_1h_tokens = cache_write_1h_tokens & 4294967295,
    web_search_requests_hi = web_search_requests >> 32, web_search_requests = web_search_requests & 4294967295,
    cost_pico_hi = cost_pico >> 32, cost_pico = cost_pico & 4294967295;

ALTER TABLE usage_rollup_dims
    ADD COLUMN requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN unpriced_requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN input_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_5m_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_1h_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cost_pico_hi BIGINT NOT NULL DEFAULT 0;
UPDATE usage_rollup_dims SET
    requests_hi = requests >> 32, requests = requests & 4294967295,
    unpriced_requests_hi = unpriced_requests >> 32, unpriced_requests = unpriced_requests & 4294967295,
    input_tokens_hi = input_tokens >> 32, input_tokens = input_tokens & 4294967295,
    output_tokens_hi = output_tokens >> 32, output_tokens = output_tokens & 4294967295,
    cache_read_tokens_hi = cache_read_tokens >> 32, cache_read_tokens = cache_read_tokens & 4294967295,
    cache_write_5m_tokens_hi = cache_write_5m_tokens >> 32, cache_write_5m_tokens = cache_write_5m_tokens & 4294967295,
    cache_write_1h_tokens_hi = cache_write_1h_tokens >> 32, cache_write_1h_tokens = cache_write_1h_tokens & 4294967295,
    web_search_requests_hi = web_search_requests >> 32, web_search_requests = web_search_requests & 4294967295,
    cost_pico_hi = cost_pico >> 32, cost_pico = cost_pico & 4294967295;

ALTER TABLE rollup_pending
    ADD COLUMN requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN unpriced_requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN input_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_5m_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_1h_tokens_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests_hi BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cost_pico_hi BIGINT NOT NULL DEFAULT 0;
UPDATE rollup_pending SET
    requests_hi = requests >> 32, requests = requests & 4294967295,
    unpriced_requests_hi = unpriced_requests >> 32, unpriced_requests = unpriced_requests & 4294967295,
    input_tokens_hi = input_tokens >> 32, input_tokens = input_tokens & 4294967295,
    output_tokens_hi = output_tokens >> 32, output_tokens = output_tokens & 4294967295,
    cache_read_tokens_hi = cache_read_tokens >> 32, cache_read_tokens = cache_read_tokens & 4294967295,
    cache_write_5m_tokens_hi = cache_write_5m_tokens >> 32, cache_write_5m_tokens = cache_write_5m_tokens & 4294967295,
    cache_write_1h_tokens_hi = cache_write_1h_tokens >> 32, cache_write_1h_tokens = cache_write_1h_tokens & 4294967295,
    web_search_requests_hi = web_search_requests >> 32, web_search_requests = web_search_requests & 4294967295,
    cost_pico_hi = cost_pico >> 32, cost_pico = cost_pico & 4294967295;

CREATE VIEW usage_rollups_live AS
SELECT hour_start, provider, model, project, agent, session_type, source,
       records, requests, requests_hi, unpriced_requests, unpriced_requests_hi,
       input_tokens, input_tokens_hi, output_tokens, output_tokens_hi, cache_read_tokens,
       cache_read_tokens_hi, cache_write_5m_tokens, cache_write_5m_tokens_hi,
       cache_write_1h_tokens, cache_write_1h_tokens_hi, web_search_requests,
       web_search_requests_hi, cost_pico, cost_pico_hi
  FROM usage_rollups
UNION ALL
SELECT hour_start, provider, model, project, agent, session_type, source,
       records, requests, requests_hi, unpriced_requests, unpriced_requests_hi,
       input_tokens, input_tokens_hi, output_tokens, output_tokens_hi, cache_read_tokens,
       cache_read_tokens_hi, cache_write_5m_tokens, cache_write_5m_tokens_hi,
       cache_write_1h_tokens, cache_write_1h_tokens_hi, web_search_requests,
       web_search_requests_hi, cost_pico, cost_pico_hi
  FROM rollup_pending;

-- Each pending row counts once in every dimension (7) and grain (hour, UTC day).
CREATE VIEW usage_rollup_dims_live AS
SELECT dim, grain, bucket_start, value,
       records, requests, requests_hi, unpriced_requests, unpriced_requests_hi,
       input_tokens, input_tokens_hi, output_tokens, output_tokens_hi, cache_read_tokens,
       cache_read_tokens_hi, cache_write_5m_tokens, cache_write_5m_tokens_hi,
       cache_write_1h_tokens, cache_write_1h_tokens_hi, web_search_requests,
       web_search_requests_hi, cost_pico, cost_pico_hi
  FROM usage_rollup_dims
UNION ALL
SELECT d.dim, g.grain,
       CASE WHEN g.grain = 'h' THEN p.hour_start ELSE p.hour_start - (p.hour_start % 86400) END,
       CASE d.dim WHEN 'total' THEN '' WHEN 'provider' THEN p.provider WHEN 'model' THEN p.model
                  WHEN 'project' THEN p.project WHEN 'agent' THEN p.agent
                  WHEN 'session_type' THEN p.session_type ELSE p.source END,
       p.records, p.requests, p.requests_hi, p.unpriced_requests, p.unpriced_requests_hi,
       p.input_tokens, p.input_tokens_hi, p.output_tokens, p.output_tokens_hi,
       p.cache_read_tokens, p.cache_read_tokens_hi, p.cache_write_5m_tokens,
       p.cache_write_5m_tokens_hi, p.cache_write_1h_tokens, p.cache_write_1h_tokens_hi,
       p.web_search_requests, p.web_search_requests_hi, p.cost_pico, p.cost_pico_hi
  FROM rollup_pending p
 CROSS JOIN (SELECT 'total' AS dim UNION ALL SELECT 'provider' UNION ALL SELECT 'model'
             UNION ALL SELECT 'project' UNION ALL SELECT 'agent' UNION ALL SELECT 'session_type'
             UNION ALL SELECT 'source') d
 CROSS JOIN (SELECT 'h' AS grain UNION ALL SELECT 'd') g;
