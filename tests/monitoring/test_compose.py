"""docker-compose.yml and the Dockerfiles, checked statically; tests/compose runs them for real
(`make compose-test`)."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.binaries import require_binary

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
OURS = {"ingestion": "ingestion-service", "agent": "agent-service", "notifier": "notifier-service"}
# variables every service reads (oncall_common.settings.ServiceSettings)
COMMON_VARS = {"HOST", "PORT", "LOG_LEVEL", "LOG_JSON", "DOCS_ENABLED", "CORS_ORIGINS", "MAX_BODY_BYTES",
               "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_CONSOLE"}


def compose_schema() -> dict:
    # The committed schema (2021) is what docker-compose 1.29 and podman-compose know: a field only
    # newer Compose v2 has (e.g. `secrets.<name>.environment`) fails it.
    return json.loads((Path(__file__).parent / "compose-spec.json").read_text())


def architecture_vars() -> dict[str, set[str]]:
    """Per service, the environment variables ARCHITECTURE.md lists in its table."""
    text = (REPO.parent / "shared" / "ARCHITECTURE.md").read_text()
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = re.match(r"\|\s*(ingestion-service|agent-service|notifier-service)\s*\|", line)
        if match:
            found[match.group(1)] = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line))
    assert set(found) == set(OURS.values()), "ARCHITECTURE.md table not found"
    return found


def test_compose_file_is_valid_against_the_compose_specification_schema() -> None:
    jsonschema.validate(COMPOSE, compose_schema(), cls=jsonschema.Draft201909Validator)


def test_the_schema_check_catches_a_broken_file() -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema(), cls=jsonschema.Draft201909Validator)


def test_the_whole_stack_is_there() -> None:
    expected = {"redis", "ingestion", "agent", "notifier", "prometheus", "alertmanager", "grafana", "mailpit"}
    assert expected <= set(SERVICES)
    demo = {name for name, service in SERVICES.items() if "demo" in service.get("profiles", [])}
    assert demo == {"haproxy", "demo-backend", "loadgen"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_healthchecked_restarted_and_not_root(name: str) -> None:
    service = SERVICES[name]
    assert service["healthcheck"]["test"], name
    assert not service["healthcheck"].get("disable", False)
    assert service["restart"] in {"unless-stopped", "always", "on-failure"}
    if "build" not in service:  # our images set USER in their Dockerfile
        assert service.get("user") not in (None, "root", "0", "0:0"), f"{name} must not run as root"
    for dependency, condition in service.get("depends_on", {}).items():
        assert dependency in SERVICES
        assert condition["condition"] == "service_healthy", f"{name} -> {dependency}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_published_ports_are_bound_to_loopback(name: str) -> None:
    for port in SERVICES[name].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    if name in {"redis", "redis-replica", "redis-state", "notifier"}:
        assert "ports" not in SERVICES[name]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_mounted_files_exist(name: str) -> None:
    for volume in SERVICES[name].get("volumes", []):
        source = volume.split(":", 1)[0]
        if source.startswith("./"):
            assert (REPO / source).exists(), f"{name} mounts missing {source}"


@pytest.mark.parametrize("name", sorted(OURS))
def test_service_images_build_from_a_multi_stage_non_root_dockerfile(name: str) -> None:
    build = SERVICES[name]["build"]
    context = REPO / build["context"]
    dockerfile = context / build["dockerfile"]
    assert context.is_dir() and dockerfile.is_file()
    assert dockerfile.parent.name == OURS[name]
    text = dockerfile.read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage"
    assert all("slim" in line for line in re.findall(r"^FROM .*$", text, re.M))
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "requirements.lock" in text and "--constraint requirements.lock" in text
    assert "HEALTHCHECK" in text
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (context / source).exists(), f"{dockerfile} copies missing {source}"
    assert re.search(rf'^CMD \["{OURS[name]}"\]', text, re.M)


def test_dockerignore_keeps_secrets_and_venv_out_of_the_build_context() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".venv", ".git"):
        assert entry in lines
    for needed in ("common", "requirements.lock", "ingestion-service", "agent-service", "notifier-service"):
        assert needed not in lines


# Settings the project added beside the contract's table (documented in README.md).
ADDED_VARS = {"agent": {"INGESTION_READ_TOKEN", "PROMETHEUS_URL", "RUNBOOKS_DIR"},  # the contract's "Evidence" list
              "ingestion": {"REDIS_WAIT_REPLICAS"}}  # docs/cluster.md


@pytest.mark.parametrize("name", sorted(OURS))
def test_service_environment_matches_architecture(name: str) -> None:
    allowed = architecture_vars()[OURS[name]] | COMMON_VARS | ADDED_VARS.get(name, set())
    used = set(SERVICES[name].get("environment", {}))
    assert used <= allowed, f"{name} sets variables the contract does not know: {used - allowed}"


def test_env_example_lists_only_known_variables_and_no_secret_values() -> None:
    known = set().union(*architecture_vars().values()) | COMMON_VARS | {"GRAFANA_ADMIN_PASSWORD"}
    entries = dict(
        line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(entries) <= known, set(entries) - known
    assert entries["ANTHROPIC_API_KEY"] == ""
    assert {"ALERTS_TOKEN", "GRAFANA_ADMIN_PASSWORD"} <= set(entries)
    assert (REPO / ".env").exists() is False or _git_ignored(".env")


def _git_ignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False).returncode == 0


def test_alertmanager_gets_the_alerts_token_as_a_secret_file() -> None:
    assert COMPOSE["secrets"]["alerts_token"] == {"file": "./.secrets/alerts_token"}
    assert "alerts_token" in SERVICES["alertmanager"]["secrets"]
    assert _git_ignored(".secrets/alerts_token")
    assert ".secrets" in (REPO / ".dockerignore").read_text().splitlines()


def test_the_schema_refuses_a_secret_from_the_environment() -> None:
    """docker-compose 1.29 and podman-compose refuse `environment:` secrets; so does the schema."""
    broken = copy.deepcopy(COMPOSE)
    broken["secrets"]["alerts_token"] = {"environment": "ALERTS_TOKEN"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema(), cls=jsonschema.Draft201909Validator)


def test_make_up_writes_the_secret_file_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("compose_secrets", REPO / "scripts" / "compose_secrets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("ALERTS_TOKEN", raising=False)
    (tmp_path / ".env").write_text("# comment\nALERTS_TOKEN=\n")
    with pytest.raises(SystemExit, match="set ALERTS_TOKEN"):
        module.write_secrets(tmp_path)
    (tmp_path / ".env").write_text('LOG_LEVEL=INFO\nALERTS_TOKEN="s3cret-token"\n')
    (secret,) = module.write_secrets(tmp_path)
    assert secret.read_text() == "s3cret-token"
    assert secret.stat().st_mode & 0o777 == 0o644 and secret.parent.stat().st_mode & 0o777 == 0o700


def test_redis_has_an_eviction_policy_and_persistence() -> None:
    command = SERVICES["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert options["--maxmemory-policy"] == "volatile-ttl"
    assert options["--maxmemory"].endswith("mb")
    assert options["--appendonly"] == "yes"
    assert any(volume.endswith(":/data") for volume in SERVICES["redis"]["volumes"])


def test_the_signals_redis_has_a_replica_that_ingestion_waits_for() -> None:
    replica, master = SERVICES["redis-replica"], SERVICES["redis"]
    command = replica["command"]
    at = command.index("--replicaof")
    assert command[at + 1:at + 3] == ["redis", "6379"]
    assert command[:at] + command[at + 3:] == master["command"]  # the same limits: it can be promoted
    assert (replica["image"], replica["user"]) == (master["image"], master["user"])
    assert replica["volumes"] == ["redis-replica-data:/data"] != master["volumes"]
    assert "master_link_status:up" in " ".join(replica["healthcheck"]["test"])
    assert replica["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert SERVICES["ingestion"]["environment"]["REDIS_WAIT_REPLICAS"] == "1"
    assert "redis-replica" in SERVICES["ingestion"]["depends_on"]


def test_incident_and_email_state_live_in_a_redis_that_never_evicts() -> None:
    command = SERVICES["redis-state"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert options["--maxmemory-policy"] == "noeviction"
    assert options["--appendonly"] == "yes"
    for name in ("agent", "notifier"):
        assert SERVICES[name]["environment"]["REDIS_URL"].startswith("redis://redis-state:")
        assert "redis-state" in SERVICES[name]["depends_on"]
    assert SERVICES["ingestion"]["environment"]["REDIS_URL"].startswith("redis://redis:")


@pytest.mark.real
def test_demo_haproxy_config_is_valid(tmp_path: Path) -> None:
    haproxy = require_binary("haproxy")
    text = (REPO / "monitoring" / "demo" / "haproxy.cfg").read_text()
    config = tmp_path / "haproxy.cfg"
    # compose service names do not resolve here: check the same file against loopback
    config.write_text(text.replace("demo-backend:", "127.0.0.1:").replace("ingestion:", "127.0.0.1:"))
    result = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "option httplog" in text


def test_prometheus_and_alertmanager_address_the_compose_services() -> None:
    """Targets in monitoring/*.yml are compose service names and the ports the services listen on."""
    prometheus = yaml.safe_load((REPO / "monitoring" / "prometheus.yml").read_text())
    listening = {name: int(SERVICES[name]["environment"]["PORT"]) for name in OURS}
    listening |= {"alertmanager": 9093, "prometheus": 9090}
    scraped = set()
    for job in prometheus["scrape_configs"]:
        for target in job["static_configs"][0]["targets"]:
            host, port = target.rsplit(":", 1)
            host = "prometheus" if host == "localhost" else host
            assert host in SERVICES, target
            assert listening[host] == int(port), target
            scraped.add(host)
            if host in OURS:
                assert job["metrics_path"] == "/prometheus/metrics"
    assert set(OURS) <= scraped
    (alertmanager_target,) = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanager_target == "alertmanager:9093"
    for volume in SERVICES["prometheus"]["volumes"]:
        if volume.startswith("./monitoring/alert-rules.yml"):
            assert volume.split(":")[1] == "/etc/prometheus/alert-rules.yml"  # rule_files is relative

    alertmanager = yaml.safe_load((REPO / "monitoring" / "alertmanager.yml").read_text())
    webhook = alertmanager["receivers"][0]["webhook_configs"][0]
    assert webhook["url"] == f"http://agent:{listening['agent']}/alerts"
    assert alertmanager["global"]["smtp_smarthost"] == "mailpit:1025"
