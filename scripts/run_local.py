"""`make run`: the local stack in the foreground until Ctrl-C, without Docker.

redis-server (its own, in .run/), ingestion on :8000 (syslog UDP on :5514 for a local HAProxy),
agent on :8001, notifier on :8002 and an SMTP sink on :1025 that prints every email. The ports
are the services' defaults, so the README's curl examples work; change them with --*-port.
Variables from the environment (ANTHROPIC_API_KEY, LLM_ENGINE, tokens, ...) reach the services.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_stack import REPO, LocalStack, Mail, handle_signals  # noqa: E402


def print_mail(mail: Mail) -> None:
    print(f"\n📧  email to {', '.join(mail.rcpt_tos)}: {mail.subject}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingestion-port", type=int, default=8000)
    parser.add_argument("--agent-port", type=int, default=8001)
    parser.add_argument("--notifier-port", type=int, default=8002)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--syslog-port", type=int, default=5514, help="0 = no syslog listener")
    args = parser.parse_args(argv)
    handle_signals()
    workdir = REPO / ".run"
    workdir.mkdir(exist_ok=True)
    stack = LocalStack(workdir)
    try:
        print("Starting oncall-copilot (Ctrl-C stops everything):", flush=True)
        redis_url = stack.start_redis()
        sink = stack.start_sink(args.smtp_port, on_message=print_mail)
        ingestion_env = {"REDIS_URL": redis_url}
        if args.syslog_port:
            ingestion_env["SYSLOG_UDP_PORT"] = str(args.syslog_port)
        ingestion = stack.start_service("ingestion-service", ingestion_env, port=args.ingestion_port,
                                        ready_path="/health/ready")
        notifier = stack.start_service("notifier-service", {
            "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port)},
            port=args.notifier_port, ready_path="/health/ready")
        stack.start_service("agent-service", {
            "REDIS_URL": redis_url, "INGESTION_URL": ingestion, "NOTIFIER_URL": notifier}, port=args.agent_port)
        print(f"\nReady. Send logs:  curl -X POST -H 'Content-Type: text/plain' --data-binary @haproxy.log "
              f"{ingestion}/logs\n       analyze:    curl -X POST '{stack.urls['agent-service']}/analyze?format=markdown'"
              + (f"\n       HAProxy:    log 127.0.0.1:{args.syslog_port} local0" if args.syslog_port else ""),
              flush=True)
        while True:
            time.sleep(1)
            exited = stack.check_alive()
            if exited:
                for name in exited:
                    print(f"{name} exited:\n{stack.logs(name)}", file=sys.stderr, flush=True)
                return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
