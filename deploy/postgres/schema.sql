-- The seed's four tables, as clipsim writes them (every report's tables/*.csv) and as a
-- production service could fill them, so that a planner queries simulated rows next to real ones.
--
-- The seed names the tables and what each tracks, not their columns: these columns are designed
-- from its description and its metric names (docs/integrations.md). Conventions:
--   * `source` says where a row comes from: 'production' (the default) or
--     'clipsim:SCENARIO:seed=N' for a simulated run; every key includes it.
--   * Times are timestamptz (UTC); money is bigint nanodollars (1e-9 USD, exact, as clipsim
--     meters it); bytes and counts are bigint.
--   * The metrics tables hold one row per report interval [interval_start, interval_end), with
--     the counts and costs *of that interval*, so that sum() over any span is its total;
--     `in_warmup` marks simulated rows that end by the warm-up's end (production rows: false).
--     When a run's warm-up is not a whole number of report intervals, the row that spans its
--     end holds requests of both; with a steady-state pre-run, the rows start with the pre-run
--     (whose months the run's bill, cost_usd, leaves out).
--
-- Load a run (psql, from the report directory):
--   \copy clip_mirrors from 'tables/clip_mirrors.csv' with (format csv, header true)
--   (and the same for mirror_metrics, cdn_configurations and cdn_metrics)

-- Mirrored clips across regions, with their TTL and access metrics: one row per mirror the
-- service holds (a simulated run: the mirrors held when it ended).
CREATE TABLE clip_mirrors (
    source              text        NOT NULL DEFAULT 'production',
    clip_id             bigint      NOT NULL,
    region              text        NOT NULL,
    copied_from         text        NOT NULL,               -- the region the copy came from
    status              text        NOT NULL CHECK (status IN ('pending', 'active', 'expired')),
    size_bytes          bigint      NOT NULL CHECK (size_bytes > 0),
    created_at          timestamptz NOT NULL,               -- the copy was ordered
    active_at           timestamptz,                        -- the copy completed (NULL: pending)
    expires_at          timestamptz,                        -- TTL end (MIRROR_TTL_DAYS after active_at, or after the last refresh)
    failed_attempts     integer     NOT NULL DEFAULT 0,
    clip_views          bigint      NOT NULL DEFAULT 0,     -- the clip's views (measured period)
    clip_origin_fetches bigint      NOT NULL DEFAULT 0,     -- of those, not served by a CDN edge
    clip_mirror_served  bigint      NOT NULL DEFAULT 0,     -- of those, served by one of its mirrors
    PRIMARY KEY (source, clip_id, region),
    CHECK (active_at IS NULL OR active_at >= created_at),
    CHECK (expires_at IS NULL OR expires_at >= active_at)
);

-- Mirror performance per interval: hit rate, failover, bandwidth, cost.
CREATE TABLE mirror_metrics (
    source                        text        NOT NULL DEFAULT 'production',
    interval_start                timestamptz NOT NULL,
    interval_end                  timestamptz NOT NULL,
    in_warmup                     boolean     NOT NULL DEFAULT false,
    requests                      bigint      NOT NULL,     -- clip requests
    origin_fetches                bigint      NOT NULL,     -- requests not served by a CDN edge
    mirror_served                 bigint      NOT NULL,     -- of those, served by a mirror
    mirror_hit_rate               double precision,         -- mirror_served / origin_fetches (NULL: none)
    failovers                     bigint      NOT NULL,     -- mirror_failover_total's increase
    mirror_bandwidth_bytes        bigint      NOT NULL,     -- mirror_bandwidth_gb, in bytes
    active_mirrors                bigint      NOT NULL,     -- total_active_mirrors at interval_end
    pending_mirrors               bigint      NOT NULL,
    storage_cost_nanodollars      bigint      NOT NULL,     -- all stored bytes (originals and mirrors)
    inter_region_cost_nanodollars bigint      NOT NULL,     -- mirror copies
    total_cost_nanodollars        bigint      NOT NULL,     -- every cost of the interval
    PRIMARY KEY (source, interval_start),
    CHECK (interval_end > interval_start),
    CHECK (mirror_served <= origin_fetches AND origin_fetches <= requests)
);

-- CDN provider settings and priorities (1 = the provider in use).
CREATE TABLE cdn_configurations (
    source                      text    NOT NULL DEFAULT 'production',
    provider                    text    NOT NULL,
    enabled                     boolean NOT NULL,
    priority                    integer NOT NULL,
    cache_ttl_seconds           bigint  NOT NULL,           -- CDN_CACHE_TTL
    edge_capacity_bytes         bigint,                     -- per geography (NULL: unlimited)
    eviction                    text    NOT NULL,
    revalidate                  boolean NOT NULL,           -- an expired copy is revalidated, not refetched
    shield                      boolean NOT NULL,           -- an origin shield (tiered cache)
    edge_rtt_ms                 bigint  NOT NULL,
    max_cost_per_gb_nanodollars bigint  NOT NULL,           -- CDN_MAX_COST_PER_GB (the cost alert)
    PRIMARY KEY (source, provider)
);

-- CDN performance and costs per interval.
CREATE TABLE cdn_metrics (
    source           text        NOT NULL DEFAULT 'production',
    provider         text        NOT NULL,
    interval_start   timestamptz NOT NULL,
    interval_end     timestamptz NOT NULL,
    in_warmup        boolean     NOT NULL DEFAULT false,
    requests         bigint      NOT NULL,                  -- cdn_requests_total's increase
    cache_hits       bigint      NOT NULL,
    revalidations    bigint      NOT NULL,                  -- expired copies revalidated with an origin
    cache_hit_rate   double precision,                      -- cdn_cache_hit_rate: cache_hits / requests
    hit_bytes        bigint      NOT NULL,                  -- bytes served from edge caches
    latency_avg_ms   double precision,                      -- cdn_latency_avg (probes)
    health_status    text        CHECK (health_status IN ('healthy', 'degraded', 'unhealthy')),
    cost_nanodollars bigint      NOT NULL,                  -- cdn_cost_total's increase
    PRIMARY KEY (source, provider, interval_start),
    CHECK (cache_hits <= requests),
    FOREIGN KEY (source, provider) REFERENCES cdn_configurations (source, provider)
);
