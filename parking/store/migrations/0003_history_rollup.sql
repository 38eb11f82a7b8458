-- Five-minute summaries of lot_snapshots, kept by the writer with every batch of snapshots, so a
-- month of one lot's history reads 8,640 rows instead of ~85,000. Buckets start at whole five
-- minutes (UTC); last_free is the free count of the bucket's latest snapshot (-1 for unknown).
CREATE TABLE lot_history_5m (
    lot       text        NOT NULL,
    bucket    timestamptz NOT NULL,
    min_free  integer,
    max_free  integer,
    last_free integer     NOT NULL,
    last_at   timestamptz NOT NULL,
    capacity  integer     NOT NULL,
    samples   integer     NOT NULL,
    PRIMARY KEY (lot, bucket)
);
INSERT INTO lot_history_5m (lot, bucket, min_free, max_free, last_free, last_at, capacity, samples)
SELECT DISTINCT ON (lot, bucket) lot, bucket, min_free, max_free, coalesce(free, -1), at, capacity, samples
FROM (
    SELECT lot, at, free, capacity,
           date_bin('5 minutes', at, '2000-01-01 00:00:00+00') AS bucket,
           min(free) OVER w AS min_free, max(free) OVER w AS max_free, count(*) OVER w AS samples
    FROM lot_snapshots
    WINDOW w AS (PARTITION BY lot, date_bin('5 minutes', at, '2000-01-01 00:00:00+00'))
) s
ORDER BY lot, bucket, at DESC;
