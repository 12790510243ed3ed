"""The key layout: one scope-hour's keys share a hash tag (one Redis Cluster slot), so one script
call may read a scope's minutes of an hour; other hours and other scopes land elsewhere."""

from __future__ import annotations

from redis.crc import key_slot

from ingestion_service.store import keys

HOUR = 493_910  # 2026-05-06 14:00 UTC, epoch // 3600
MINUTE = HOUR * 60  # epoch // 60 of that hour's first minute


def _slot(key: str) -> int:
    return key_slot(key.encode())


def test_a_scope_hour_is_one_slot_and_its_minutes_distinct_keys() -> None:
    minutes = [MINUTE + m for m in range(60)]
    counters = [keys.counters_key("b", "api", m) for m in minutes]
    assert len(set(counters)) == 60
    assert {_slot(k) for k in counters} == {_slot(keys.batch_record_key("b", "api", MINUTE + 7))}
    assert {_slot(keys.scope_prefix("b", "api", m) + ":h3") for m in minutes} == {_slot(counters[0])}


def test_the_next_hour_and_another_scope_are_other_tags() -> None:
    here = keys.counters_key("b", "api", MINUTE + 59)
    assert keys.counters_key("b", "api", MINUTE + 60) != here
    assert keys.counters_key("b", "api", MINUTE + 60).split("}")[0] != here.split("}")[0]
    assert keys.counters_key("v", "api/web1", MINUTE).split("}")[0] != here.split("}")[0]


def test_hour_of_a_minute_start_matches_the_tag() -> None:
    start = (MINUTE + 59) * 60  # the hour's last minute, in epoch seconds
    assert keys.hour_of(start) == HOUR
    assert keys.hour_of(start + 60) == HOUR + 1
    assert f":{HOUR}}}" in keys.counters_key("s", "", start // 60)
