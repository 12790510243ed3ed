from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from oncall_common.settings import ServiceSettings


class Settings(ServiceSettings):
    port: int = Field(default=8000, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    syslog_udp_port: int | None = Field(default=None, ge=1, le=65535)
    syslog_buffer_lines: int = Field(default=50_000, ge=100, le=10_000_000)
    syslog_rcvbuf_bytes: int = Field(default=8 << 20, ge=4096, le=1 << 30)  # SO_RCVBUF asked of the kernel
    syslog_flush_seconds: float = Field(default=1.0, gt=0, le=1.0)
    retention_hours: int = Field(default=26, ge=1, le=24 * 90)
    ingest_token: str | None = None  # POST /logs (also accepted on /metrics/*)
    read_token: str | None = None  # /metrics/* (the agent's reads); open only when both are unset
    metrics_token: str | None = None  # /prometheus/metrics (Prometheus: bearer scrape auth)
    parse_workers: int = Field(default=2, ge=0, le=64)  # processes parsing big bodies; 0 = in process
    name_cap: int = Field(default=200, ge=1, le=100_000)  # distinct frontends, and backends
    server_name_cap: int = Field(default=1000, ge=1, le=100_000)
    log_timezone: str = "UTC"  # IANA zone of headerless local accept dates; a header offset wins
    late_line_seconds: int = Field(default=300, ge=0, le=100 * 365 * 24 * 3600)
    haproxy_log_format: str | None = None  # a `log-format` as written in haproxy.cfg
    # Redis Cluster (docs/cluster.md): start nodes, comma-separated (or a redis+cluster:// REDIS_URL)
    redis_cluster_urls: str | None = None
    redis_wait_replicas: int = Field(default=0, ge=0, le=16)  # cluster writes: WAIT for this many replicas
    redis_wait_timeout_ms: int = Field(default=1000, ge=1, le=60_000)

    @model_validator(mode="after")
    def _cluster(self) -> "Settings":
        from oncall_common.redis_target import cluster_target

        cluster_target(self.redis_cluster_urls, self.redis_url)  # ValueError names the bad node
        return self

    @field_validator("log_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from ingestion_service.haproxy.zones import valid_zone

        return valid_zone(value)

    @field_validator("haproxy_log_format")
    @classmethod
    def _log_format(cls, value: str | None) -> str | None:
        from ingestion_service.haproxy.logformat import compile_format

        if value is None or not value.strip():
            return None
        compile_format(value)  # FormatError (a ValueError) names what is missing
        return value
