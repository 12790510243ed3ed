"""Every Redis key of the agent-service, in one place (as ingestion's `store/keys.py`), in one
style: `<family>:<what>[:<id>]`, the family plural — `incidents:*` (the incident store, its
indexes and drain locks), `alerts:*` (webhook intake: deliveries stream, dedup, group → incident),
`watchdog:*` (the dead man's switch), `reports:*` (reports, with a TTL), `events:*` (change
events: deploys, config changes, feature flags; trimmed to EVENTS_RETENTION_S and EVENTS_MAX).

Earlier releases wrote `incident:{id}`, `lock:incident:{id}` and `oncall:agent:report:{id}`.
Incidents have no TTL: `migrate.py` renames them once at start-up (marker `LAYOUT`). Reports
expire after REPORT_TTL_S, so they are not moved: a report missing under `reports:` is read
under its legacy key for one retention period. Locks live 15 s and are simply renamed.
"""

from __future__ import annotations

import hashlib

# --- incidents (incidents/store.py) -------------------------------------------------------------
INCIDENT_SEQ = "incidents:seq"  # INCR: sequential incident ids
INCIDENTS_BY_CREATED = "incidents:by_created"  # zset id → created_at
INCIDENTS_OPEN = "incidents:open"  # set of ids not RESOLVED
INCIDENTS_MITIGATED = "incidents:mitigated"  # zset id → mitigated_at (quiet-period resolution)
INCIDENTS_RESOLVED = "incidents:resolved"  # zset id → resolved_at (memory of past incidents)
INCIDENTS_PENDING = "incidents:pending"  # set of ids with actions not carried out yet
INCIDENTS_RETRY_AT = "incidents:retry_at"  # zset id → when its backing-off notification is due
INCIDENTS_ESCALATION_DUE = "incidents:escalation_due"  # zset id → when its next escalation step is due
INCIDENTS_FOLLOW_UP_DUE = "incidents:follow_up_due"  # zset id → when its follow-up analysis is due
# The list indexes (incidents/listing.py), written in the same MULTI as the incident itself:
INCIDENTS_SUMMARIES = "incidents:summaries"  # hash id → IncidentSummary JSON (what a list page shows)


def status_index_key(status: str) -> str:
    """zset id → created_at of the incidents in that status (one set per status)."""
    return f"incidents:by_status:{status}"


def severity_index_key(severity: str) -> str:
    """zset id → created_at of the incidents of that severity (one set per severity)."""
    return f"incidents:by_severity:{severity}"


LAYOUT = "incidents:layout"  # "2" once legacy keys were migrated (migrate.py)
LIST_INDEXES = "incidents:list_indexes"  # "1" once incidents stored before the list indexes were indexed
LEGACY_INCIDENT_PREFIX = "incident:"


def incident_key(incident_id: int) -> str:
    return f"incidents:{incident_id}"


def incident_lock_key(incident_id: int) -> str:
    return f"incidents:lock:{incident_id}"


# --- alert intake (incidents/intake.py, incidents/worker.py) -----------------------------------
DELIVERIES = "alerts:deliveries"  # stream of accepted Alertmanager deliveries
DELIVERY_GROUP = "incident-workers"  # its consumer group
DEAD_DELIVERIES = "alerts:dead"  # stream of deliveries that kept failing
DELIVERY_ATTEMPTS = "alerts:attempts"  # hash entry id → failed attempts
WATCHDOG_LAST_SEEN = "watchdog:last_seen"  # epoch seconds of the last Watchdog heartbeat
WATCHDOG_INCIDENT = "watchdog:incident"  # the open "pipeline broken" incident's id ("0" while opening)


def group_hash(group_key: str) -> str:
    """Alertmanager's groupKey (long, any text) → the short token used in key names."""
    return hashlib.sha256(group_key.encode()).hexdigest()[:32]


def delivery_key(key: str) -> str:
    """A delivery's dedup marker (value: the incident id it went to)."""
    return f"alerts:delivery:{key}"


def group_open_key(ghash: str) -> str:
    """groupKey → the id of the group's incident while it is not RESOLVED."""
    return f"alerts:group:{ghash}"


def group_last_key(ghash: str) -> str:
    """groupKey → the id of the group's most recent incident (to link a new one to it)."""
    return f"alerts:group_last:{ghash}"


def group_epoch_key(ghash: str) -> str:
    """groupKey → {epoch: firing → resolved → firing turns seen, last: last delivery's status}
    (the delivery dedup marker is `delivery_key(...) + ":" + epoch`, so a re-fire is a new page)."""
    return f"alerts:group_epoch:{ghash}"


def redirect_key(entry_id: str) -> str:
    """A firing delivery that met a RESOLVED incident → the successor incident's id."""
    return f"alerts:redirect:{entry_id}"


# --- reports (report/store.py) -------------------------------------------------------------------
REPORT_PREFIX = "reports:"
LEGACY_REPORT_PREFIX = "oncall:agent:report:"  # read for one REPORT_TTL_S after the upgrade


def report_key(report_id: str) -> str:
    return REPORT_PREFIX + report_id


def legacy_report_key(report_id: str) -> str:
    return LEGACY_REPORT_PREFIX + report_id


# --- change events (events/store.py) -------------------------------------------------------------
EVENTS_BY_ID = "events:by_id"  # hash id → ChangeEvent JSON
EVENTS_BY_TIME = "events:by_time"  # zset id → at (epoch seconds)
