-- The per-cell figures the reconciliation reads (issue 14): a covering index, so a report
-- reads them from the index alone. The view usage_rollup_dims_live would materialise every
-- sum column of each row; the store reads these rows from the table and the pending deltas
-- beside it (shared/src/store/read.rs, sqlite_cell_figures).
CREATE INDEX usage_rollup_dims_cells
    ON usage_rollup_dims (dim, grain, bucket_start, value, cost_pico, cost_pico_hi)
    WHERE dim IN ('cell', 'cell@billed', 'cell@battr', 'cell@explained');
