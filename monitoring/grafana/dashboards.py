"""Source of the provisioned Grafana dashboards: `python monitoring/grafana/dashboards.py` rewrites
provisioning/dashboards/json/*.json. tests/monitoring checks the JSON is up to date and that every
panel's PromQL runs on a real Prometheus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "provisioning" / "dashboards" / "json"
DS = {"type": "prometheus", "uid": "prometheus"}
B = 'backend=~"$backend"'
RI = "$__rate_interval"


def panel(title: str, targets: list[tuple[str, str]], *, unit: str = "short", kind: str = "timeseries",
          description: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]}}
        if kind == "timeseries" else {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def row(title: str) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def layout(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two panels per line, a row header spans the width."""
    y, x, panels = 0, 0, []
    for pid, item in enumerate(items, start=1):
        if item["type"] == "row":
            if x:
                y, x = y + 8, 0
            item["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
        else:
            item["gridPos"] = {"h": 8, "w": 12, "x": x, "y": y}
            x += 12
            if x >= 24:
                y, x = y + 8, 0
        item["id"] = pid
        panels.append(item)
    return panels


def dashboard(uid: str, title: str, items: list[dict[str, Any]], variables: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["oncall-copilot"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "panels": layout(items),
    }


def backend_variable() -> dict[str, Any]:
    return {
        "name": "backend",
        "label": "backend",
        "type": "query",
        "datasource": DS,
        "query": {"query": "label_values(oncall_requests_total, backend)", "refId": "backend"},
        "definition": "label_values(oncall_requests_total, backend)",
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "refresh": 2,
        "sort": 1,
    }


def quantile(q: str, metric: str, by: str, sel: str = B) -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{{{sel}}}[{RI}])))"


def golden_signals() -> dict[str, Any]:
    total = f"sum by (backend) (rate(oncall_requests_total{{{B}}}[{RI}]))"
    items = [
        row("Traffic"),
        panel("Requests per second by backend", [(total, "{{backend}}")], unit="reqps"),
        panel("Responses by status class", [
            (f"sum by (code_class) (rate(oncall_requests_total{{{B}}}[{RI}]))", "{{code_class}}")], unit="reqps"),
        row("Errors"),
        panel("5xx ratio by backend", [(
            f'sum by (backend) (rate(oncall_requests_total{{code_class="5xx",{B}}}[{RI}])) / {total}',
            "{{backend}}")], unit="percentunit"),
        panel("4xx ratio by backend", [(
            f'sum by (backend) (rate(oncall_requests_total{{code_class="4xx",{B}}}[{RI}])) / {total}',
            "{{backend}}")], unit="percentunit"),
        row("Latency (HAProxy Ta)"),
        panel("P50 / P95 / P99 by backend", [
            (quantile(q, "oncall_request_duration_seconds", "backend"), f"{{{{backend}}}} p{int(float(q) * 100)}")
            for q in ("0.5", "0.95", "0.99")], unit="s"),
        panel("Mean response time by backend", [(
            f"sum by (backend) (rate(oncall_request_duration_seconds_sum{{{B}}}[{RI}]))"
            f" / sum by (backend) (rate(oncall_request_duration_seconds_count{{{B}}}[{RI}]))", "{{backend}}")], unit="s"),
        row("Saturation"),
        panel("HAProxy queue (max in latest batch)", [
            (f"max by (backend, queue) (oncall_haproxy_queue_max{{{B}}})", "{{backend}} {{queue}}")]),
        panel("HAProxy active connections (max in latest batch)", [
            (f"max by (backend) (oncall_haproxy_actconn_max{{{B}}})", "{{backend}}")]),
        panel("Requests that waited in a queue, and retries", [
            (f"sum by (backend) (rate(oncall_haproxy_queued_requests_total{{{B}}}[{RI}]))", "{{backend}} queued"),
            (f"sum by (backend) (rate(oncall_haproxy_retries_total{{{B}}}[{RI}]))", "{{backend}} retries")], unit="reqps"),
        panel("Redis memory used / maxmemory", [
            ("max(oncall_redis_used_memory_bytes) / max(oncall_redis_maxmemory_bytes > 0)", "used / maxmemory"),
            ("max(oncall_redis_used_memory_bytes)", "used bytes")], unit="percentunit",
            description="The ratio is empty when Redis has no maxmemory (unlimited)."),
        row("SLO: availability 99.9%"),
        panel("Error-budget burn rate (1 = spending exactly the budget)", [
            (f'backend:oncall_requests_5xx:ratio_rate{w}{{{B}}} / 0.001', f"{{{{backend}}}} {w}")
            for w in ("5m", "1h", "6h", "3d")]),
        row("SLO: latency, 99% within 1 s"),
        panel("Latency error-budget burn rate (1 = spending exactly the budget)", [
            (f'backend:oncall_requests_slow:ratio_rate{w}{{{B}}} / 0.01', f"{{{{backend}}}} {w}")
            for w in ("5m", "1h", "6h", "3d")],
              description="Share of requests slower than 1 s (HAProxy Ta), divided by the 1% budget."),
        panel("Firing alerts", [('sum by (alertname, backend) (ALERTS{alertstate="firing"})', "{{alertname}} {{backend}}")],
              description="Empty while nothing fires."),
    ]
    return dashboard("oncall-golden-signals", "oncall-copilot: golden signals", items, [backend_variable()])


def copilot() -> dict[str, Any]:
    items = [
        row("Analyses"),
        panel("Analyses per minute by outcome", [
            (f"sum by (engine, outcome) (rate(oncall_analyses_total[{RI}])) * 60", "{{engine}} {{outcome}}")]),
        panel("Analysis duration P50 / P95", [
            (quantile(q, "oncall_analysis_duration_seconds", "engine", ""), f"{{{{engine}}}} p{int(float(q) * 100)}")
            for q in ("0.5", "0.95")], unit="s"),
        panel("Specialist runs by status", [
            (f"sum by (specialist, status) (increase(oncall_specialist_runs_total[{RI}]))", "{{specialist}} {{status}}")]),
        panel("Analyses in progress, open incidents, alert queue", [
            ("sum(oncall_analyses_in_progress)", "analyses in progress"),
            ("sum(oncall_incidents_open)", "open incidents"),
            ("sum(oncall_alert_queue_depth)", "alert queue")]),
        row("LLM"),
        panel("LLM tokens per minute by kind", [
            (f"sum by (model, kind) (rate(oncall_llm_tokens_total[{RI}])) * 60", "{{model}} {{kind}}")]),
        panel("LLM cost (USD, last hour)", [
            ("sum by (model) (increase(oncall_llm_cost_usd_total[1h]))", "{{model}}")], unit="currencyUSD"),
        panel("LLM calls by role and outcome", [
            (f"sum by (role, outcome) (increase(oncall_llm_calls_total[{RI}]))", "{{role}} {{outcome}}")]),
        panel("Tool calls by status", [
            (f"sum by (tool, status) (increase(oncall_tool_calls_total[{RI}]))", "{{tool}} {{status}}")]),
        row("Alerts, incidents, notifications"),
        panel("Alerts received", [
            (f"sum by (status, outcome) (increase(oncall_alerts_received_total[{RI}]))", "{{status}} {{outcome}}")]),
        panel("Notifications sent, retried, failed", [
            (f"sum by (event) (increase(oncall_notifications_sent_total[{RI}]))", "sent {{event}}"),
            (f"sum(increase(oncall_notifications_retried_total[{RI}]))", "retried"),
            (f"sum(increase(oncall_notifications_failed_total[{RI}]))", "failed")]),
        panel("Notification queue and delivery time P95", [
            ("sum(oncall_notification_queue_depth)", "queue depth"),
            (quantile("0.95", "oncall_notification_delivery_seconds", "job", ""), "delivery p95 (s)")]),
        row("Ingestion"),
        panel("Log lines per second by result", [
            (f"sum by (result, source) (rate(oncall_ingest_lines_total[{RI}]))", "{{source}} {{result}}")], unit="reqps"),
        panel("Rejected share of log lines", [(
            f'sum(rate(oncall_ingest_lines_total{{result="rejected"}}[{RI}])) / sum(rate(oncall_ingest_lines_total[{RI}]))',
            "rejected")], unit="percentunit"),
        panel("Ingestion lag (now - newest line)", [("max(oncall_ingest_lag_seconds)", "lag")], unit="s"),
        panel("Batches, syslog buffer and drops", [
            (f"sum by (outcome) (rate(oncall_ingest_batches_total[{RI}]))", "batches {{outcome}}"),
            ("sum(oncall_ingest_udp_buffer_lines)", "syslog buffer lines"),
            (f"sum(rate(oncall_ingest_udp_dropped_total[{RI}]))", "syslog drops/s")]),
        panel("Services up", [('up{job=~"oncall-.*"}', "{{job}}")], kind="stat"),
    ]
    return dashboard("oncall-copilot-self", "oncall-copilot: the copilot itself", items, [])


DASHBOARDS = {"golden-signals.json": golden_signals, "copilot.json": copilot}


def render() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2, sort_keys=True) + "\n" for name, build in DASHBOARDS.items()}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
