-- latest_observations is folded from observations every few seconds rather than with every batch
-- (an upsert per source per batch cost more than the COPY itself): the watermark is the highest
-- observation id folded in. A restore folds the rest first.
CREATE TABLE store_watermarks (
    name           text PRIMARY KEY,
    observation_id bigint NOT NULL
);
INSERT INTO store_watermarks (name, observation_id)
SELECT 'latest_observations', coalesce(max(observation_id), 0) FROM latest_observations;
