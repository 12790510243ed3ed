"""`python -m tests.scenarios.run [NAME ...]`: play scenarios against a local stack and score them.

Starts redis-server, ingestion-service and agent-service itself (LLM_ENGINE=rules, or anthropic
when ANTHROPIC_API_KEY is set), unless --ingestion-url/--agent-url point at a running stack.
Prints a table and writes JSON results (default results/scenarios.json). Exit status 1 when a
scenario fails, 2 when the stack cannot start.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tests.scenarios.model import SCENARIO_DIR, Scenario, load_scenario, scenario_files
from tests.scenarios.play import Outcome, play
from tests.scenarios.replay import UDP_RATE
from tests.scenarios.score import summarize
from tests.scenarios.stack import Stack, default_engine, find_redis_server, start_stack

REPO = Path(__file__).resolve().parents[2]
_SHORT = {"ok": "ok", "warning": "WARN", "critical": "CRIT", "unknown": "?", "missing": "-"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.scenarios.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="scenario names or YAML paths (default: all)")
    parser.add_argument("--dir", type=Path, default=SCENARIO_DIR, help="folder of scenario YAML files")
    parser.add_argument("--engine", choices=["rules", "anthropic", "openai"], default=None,
                        help="default: anthropic when ANTHROPIC_API_KEY is set, else rules; openai reads "
                        "OPENAI_BASE_URL, OPENAI_SPECIALIST_MODEL (…) from the environment")
    parser.add_argument("--transport", choices=["http", "syslog", "mixed"], default="http",
                        help="mixed: headerless and syslog-header lines in one HTTP body, a share over UDP "
                             "(a scenario's own `transport:` wins)")
    parser.add_argument("--udp-rate", type=float, default=UDP_RATE, help="syslog datagrams per second")
    parser.add_argument("--realtime", action="store_true",
                        help="send lines as their timestamps come due (takes each scenario's duration)")
    parser.add_argument("--aligned", action="store_true",
                        help="end the data at the last whole minute instead of now")
    parser.add_argument("--no-end", action="store_true", help="let /analyze choose its own end (now)")
    parser.add_argument("--json", type=Path, default=REPO / "results" / "scenarios.json")
    parser.add_argument("--ingestion-url", help="use a running ingestion-service (with --agent-url)")
    parser.add_argument("--agent-url", help="use a running agent-service (with --ingestion-url)")
    parser.add_argument("--redis-url", help="Redis of the running stack, flushed between scenarios")
    parser.add_argument("--ingest-token")
    parser.add_argument("--api-token")
    parser.add_argument("--syslog-port", type=int)
    parser.add_argument("-v", "--verbose", action="store_true", help="print each report's diagnosis")
    return parser


def select(names: list[str], directory: Path) -> list[Scenario]:
    files = scenario_files(directory)
    if not names:
        return [load_scenario(f) for f in files]
    chosen = []
    by_stem = {f.stem: f for f in files}
    for name in names:
        path = Path(name)
        if path.suffix in (".yaml", ".yml") and path.exists():
            chosen.append(load_scenario(path))
        elif name in by_stem:
            chosen.append(load_scenario(by_stem[name]))
        else:
            raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(sorted(by_stem))}")
    return chosen


def _row(outcome: Outcome) -> str:
    s = outcome.score
    specialists = " ".join(f"{name[0].upper()}:{_SHORT.get(s.specialists.get(name, 'missing'), '?')}"
                           for name in ("latency", "errors", "saturation", "traffic"))
    flag = {None: "  -", True: "yes", False: " NO"}
    return (f"{'PASS' if s.passed else 'FAIL'}  {outcome.scenario.name:36} "
            f"{'/'.join(s.severity_expected):>10} {str(s.severity_got):>8}  {specialists:34} "
            f"{flag[s.backend_ok]:>4} {flag[s.server_ok]:>4} {flag[s.title_ok]:>4} {flag[s.keywords_ok]:>4} "
            f"{flag[s.forbidden_ok]:>4} "
            f"{s.wall_ms:8.0f} "
            f"{s.input_tokens + s.output_tokens:8d} {s.cost_usd:8.4f}")


def print_table(outcomes: list[Outcome], *, verbose: bool) -> None:
    print(f"{'':6}{'scenario':36} {'expected':>10} {'got':>8}  {'specialists':34} {'be':>4} {'srv':>4} "
          f"{'ttl':>4} {'kw':>4} {'forb':>4} "
          f"{'ms':>8} {'tokens':>8} {'cost $':>8}")
    for outcome in outcomes:
        print(_row(outcome))
        for reason in outcome.score.reasons:
            print(f"{'':6}- {reason}")
        if verbose and outcome.report:
            print(f"{'':6}title: {outcome.report.get('title')}\n{'':6}diagnosis: {outcome.report.get('diagnosis')}")
    summary = summarize([o.score for o in outcomes])

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.0f}%"

    print(f"\n{summary.passed}/{summary.scenarios} passed ({pct(summary.pass_rate)}); severity {pct(summary.severity_accuracy)}, "
          f"flags precision {pct(summary.flag_precision)} recall {pct(summary.flag_recall)}, "
          f"backend {pct(summary.backend_accuracy)}, server {pct(summary.server_accuracy)}, "
          f"title {pct(summary.title_accuracy)}, "
          f"keywords {pct(summary.keyword_accuracy)}, no forbidden words {pct(summary.forbidden_clean)}; "
          f"time to report mean {summary.mean_wall_ms:.0f} ms p95 {summary.p95_wall_ms:.0f} ms; "
          f"tokens {summary.input_tokens} in / {summary.output_tokens} out; cost ${summary.cost_usd:.4f}")


def _given_stack(args: argparse.Namespace, engine: str) -> Stack:
    if not (args.ingestion_url and args.agent_url):
        raise SystemExit("--ingestion-url and --agent-url go together")
    return Stack(ingestion_url=args.ingestion_url.rstrip("/"), agent_url=args.agent_url.rstrip("/"),
                 redis_url=args.redis_url, ingest_token=args.ingest_token, api_token=args.api_token,
                 syslog_port=args.syslog_port, engine=engine)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    scenarios = select(args.names, args.dir)
    engine = args.engine or default_engine()
    if args.ingestion_url or args.agent_url:
        stack, started = _given_stack(args, engine), False
    else:
        binary = find_redis_server()
        if binary is None:
            print("redis-server is not installed (make setup installs it)", file=sys.stderr)
            return 2
        print(f"starting redis-server, ingestion-service and agent-service (LLM_ENGINE={engine}) ...", flush=True)
        try:
            stack, started = start_stack(engine=engine, redis_binary=binary), True  # type: ignore[arg-type]
        except (RuntimeError, TimeoutError, OSError) as exc:
            print(f"the stack did not start: {exc}", file=sys.stderr)
            return 2
    began = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        for scenario in scenarios:
            outcomes.append(play(scenario, stack, transport=args.transport, realtime=args.realtime,
                                 aligned=args.aligned, pass_end=not args.no_end, flush=stack.redis_url is not None,
                                 udp_rate=args.udp_rate))
            print(f"  {scenario.name}: {'pass' if outcomes[-1].score.passed else 'FAIL'}", flush=True)
    finally:
        if started:
            stack.stop()
    print()
    print_table(outcomes, verbose=args.verbose)
    summary = summarize([o.score for o in outcomes])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "engine": engine, "transport": args.transport, "seconds": round(time.monotonic() - began, 2),
        "summary": summary.to_dict(), "scenarios": [o.to_dict() for o in outcomes],
    }, indent=2, default=str))
    print(f"results written to {args.json}")
    return 0 if summary.passed == summary.scenarios else 1


if __name__ == "__main__":
    raise SystemExit(main())
