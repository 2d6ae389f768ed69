-- Leave room on every rollup page, so that adding a delta to a rollup row (an UPDATE of
-- its sums) can write the new version on the same page: a heap-only update that the
-- next reader of the page prunes, with no new index entry and no row moving away from
-- its neighbours. Without it the rows of a busy table scatter and dead versions pile up
-- until a vacuum; a report then reads a page for every row or two. Pages written from
-- now on keep the room; existing ones get it when they are rewritten.
ALTER TABLE usage_rollups SET (fillfactor = 70);
ALTER TABLE usage_rollup_dims SET (fillfactor = 70);
