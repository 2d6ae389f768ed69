-- One-dimension rollups (issue 6): per dimension value, per UTC hour ('h') and per
-- UTC day ('d'), the same sums as usage_rollups. Reports without filters read these:
-- a 90-day breakdown sums ~90 day rows plus the edge hours per value instead of
-- every hour × provider × model × project × agent × session type × source row.
-- dim: total (value ''), provider, model, project, agent ('' = none), session_type, source.
-- bucket_start is epoch seconds (the hour, or the UTC midnight of the day).

CREATE TABLE usage_rollup_dims (
    dim                    TEXT   NOT NULL,
    grain                  TEXT   NOT NULL,
    bucket_start           BIGINT NOT NULL,
    value                  TEXT   NOT NULL,
    records                BIGINT NOT NULL,
    requests               BIGINT NOT NULL,
    unpriced_requests      BIGINT NOT NULL,
    input_tokens           BIGINT NOT NULL,
    output_tokens          BIGINT NOT NULL,
    cache_read_tokens      BIGINT NOT NULL,
    cache_write_5m_tokens  BIGINT NOT NULL,
    cache_write_1h_tokens  BIGINT NOT NULL,
    web_search_requests    BIGINT NOT NULL,
    cost_pico              BIGINT NOT NULL,
    PRIMARY KEY (dim, grain, bucket_start, value)
);

-- Existing rollups, summed into every dimension and grain.
INSERT INTO usage_rollup_dims SELECT 'total', 'h', hour_start, '', SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start;
INSERT INTO usage_rollup_dims SELECT 'total', 'd', hour_start - (hour_start % 86400), '', SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400);
INSERT INTO usage_rollup_dims SELECT 'provider', 'h', hour_start, provider, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start, provider;
INSERT INTO usage_rollup_dims SELECT 'provider', 'd', hour_start - (hour_start % 86400), provider, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400), provider;
INSERT INTO usage_rollup_dims SELECT 'model', 'h', hour_start, model, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start, model;
INSERT INTO usage_rollup_dims SELECT 'model', 'd', hour_start - (hour_start % 86400), model, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400), model;
INSERT INTO usage_rollup_dims SELECT 'project', 'h', hour_start, project, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start, project;
INSERT INTO usage_rollup_dims SELECT 'project', 'd', hour_start - (hour_start % 86400), project, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400), project;
INSERT INTO usage_rollup_dims SELECT 'agent', 'h', hour_start, agent, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start, agent;
INSERT INTO usage_rollup_dims SELECT 'agent', 'd', hour_start - (hour_start % 86400), agent, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400), agent;
INSERT INTO usage_rollup_dims SELECT 'session_type', 'h', hour_start, session_type, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start, session_type;
INSERT INTO usage_rollup_dims SELECT 'session_type', 'd', hour_start - (hour_start % 86400), session_type, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400), session_type;
INSERT INTO usage_rollup_dims SELECT 'source', 'h', hour_start, source, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start, source;
INSERT INTO usage_rollup_dims SELECT 'source', 'd', hour_start - (hour_start % 86400), source, SUM(records), SUM(requests), SUM(unpriced_requests), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(web_search_requests), SUM(cost_pico)
    FROM usage_rollups GROUP BY hour_start - (hour_start % 86400), source;
