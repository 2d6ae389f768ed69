-- Postgres leaves room on rollup pages for same-page updates (fillfactor); SQLite's
-- B-tree pages have no such setting, so this migration only keeps the two histories
-- numbered alike.
SELECT 1;
