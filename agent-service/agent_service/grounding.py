"""Grounding: every number a finding's summary or the diagnosis states must appear in the
report's evidence (tool results and arguments) or among the thresholds, within rounding.

A claim is a number as written ("1,450 ms", "12.3%", "1.2 s", "3k"). It is grounded when some
evidence number rounds to it at the precision it is written with (seconds are also compared with
milliseconds, and "k" means thousands). Times of day and dates are not claims.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from agent_service.models import Finding

_DATES = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b")
_NUMBER = re.compile(
    r"(?<![\w.\-/\[])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"\s?(?P<unit>ms|s|k|%)?(?![\w\]])"
)
_EMBEDDED = re.compile(r"-?\d+(?:\.\d+)?")


def claims(text: str) -> list[tuple[str, float, int, str | None]]:
    """(as written, value, decimals, unit) for every number the text states."""
    cleaned = _DATES.sub(" ", text)
    out = []
    for match in _NUMBER.finditer(cleaned):
        raw = match["num"]
        value = float(raw.replace(",", ""))
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        out.append((match.group(0).strip(), value, decimals, match["unit"]))
    return out


def evidence_numbers(findings: Sequence[Finding], extra: Iterable[float] = ()) -> list[float]:
    numbers: list[float] = list(extra)
    for finding in findings:
        if finding.error:  # written by our code (deadline, HTTP status), quoted when the diagnosis says why
            numbers.extend(float(m) for m in _EMBEDDED.findall(finding.error))
        for item in finding.evidence:
            _collect(item.result, numbers)
            _collect(item.arguments, numbers)
    return sorted(set(numbers))


def _collect(value: Any, out: list[float]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            out.append(float(value))
    elif isinstance(value, str):
        if len(value) <= 64:
            out.extend(float(m) for m in _EMBEDDED.findall(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(str(key), out)
            _collect(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, out)


def _matches(value: float, decimals: int, unit: str | None, known: Sequence[float]) -> bool:
    tolerance = 0.5 * 10 ** (-decimals) + 1e-9
    candidates = [value]
    tolerances = [tolerance]
    if unit == "s":
        candidates.append(value * 1000)
        tolerances.append(tolerance * 1000)
    if unit == "k":
        candidates = [value * 1000]
        tolerances = [tolerance * 1000]
    for candidate, tol in zip(candidates, tolerances, strict=True):
        if any(abs(candidate - number) <= tol for number in known):
            return True
        # "30%" may be written for a ratio of 0.3
        if unit == "%" and any(abs(candidate - number * 100) <= tol for number in known if abs(number) <= 1):
            return True
    return False


def ungrounded(
    findings: Sequence[Finding], diagnosis: str, *, extra: Iterable[float] = ()
) -> list[str]:
    """Claims from the findings' summaries and the diagnosis that no evidence supports."""
    known = evidence_numbers(findings, extra)
    out: list[str] = []
    texts = [(f"{f.specialist} summary", f.summary) for f in findings if f.status == "completed"]
    texts.append(("diagnosis", diagnosis))
    for where, text in texts:
        for written, value, decimals, unit in claims(text):
            if not _matches(value, decimals, unit, known):
                entry = f"{where}: {written}"
                if entry not in out:
                    out.append(entry)
    return out
