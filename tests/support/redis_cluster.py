"""A real Redis Cluster on loopback: 6 redis-server processes in cluster mode (3 masters, each with
one replica), made one cluster by `redis-cli --cluster create`; a test can SIGKILL a master and
wait for its replica to take over. Ports are chosen free, data lives in temporary directories,
every process is stopped by its PID."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

import socket

from tests.support.net import wait_for_port

NODE_TIMEOUT_MS = 1000  # small: a killed master's replica is promoted within ~2 s
BUS_OFFSET = 10000  # a node's cluster bus listens on its port + 10000


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_node_port(taken: set[int]) -> int:
    """A free port whose bus port (+10000, at most 65535) is free too."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + BUS_OFFSET > 65535:  # the kernel's ephemeral range is high: fold it down
            port = 20000 + port % 30000
        if port not in taken and port + BUS_OFFSET not in taken and _bindable(port) and _bindable(port + BUS_OFFSET):
            return port


class RedisClusterProcesses:
    def __init__(self, server: str, cli: str, *, masters: int = 3) -> None:
        self.server, self.cli = server, cli
        taken: set[int] = set()
        self.ports: list[int] = []
        for _ in range(masters * 2):
            port = free_node_port(taken)
            taken |= {port, port + BUS_OFFSET}
            self.ports.append(port)
        self.masters = masters
        self.dir = Path(tempfile.mkdtemp(prefix="oncall-cluster-"))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def urls(self) -> str:
        """REDIS_CLUSTER_URLS: every node as a start node."""
        return ",".join(f"redis://127.0.0.1:{p}" for p in self.ports)

    def start(self) -> RedisClusterProcesses:
        """Returns once the cluster is healthy; a failure on the way stops what was started."""
        try:
            for port in self.ports:
                (self.dir / str(port)).mkdir()
                self._spawn(port)
            for port in self.ports:
                wait_for_port(port)
            subprocess.run(
                [self.cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                 "--cluster-replicas", "1", "--cluster-yes"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, port: int) -> None:
        self.procs[port] = subprocess.Popen(
            [self.server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.dir / str(port)),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", str(NODE_TIMEOUT_MS)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def restart(self, port: int) -> None:
        """A killed node back on its port with its nodes.conf: it rejoins (a replica of the node
        that took its slots) and resyncs; returns once the cluster is healthy again."""
        self._spawn(port)
        wait_for_port(port)
        self.wait_healthy()

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def live_ports(self) -> list[int]:
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def master_ports(self) -> list[int]:
        """Masters as the live nodes see them (serving slots, not failed)."""
        for port in self.live_ports():
            try:
                lines = self.node(port).execute_command("CLUSTER", "NODES").decode().splitlines()
            except redis.RedisError:
                continue
            out = []
            for line in lines:
                parts = line.split()
                if "master" in parts[2] and "fail" not in parts[2] and len(parts) > 8:
                    out.append(int(parts[1].split("@")[0].rsplit(":", 1)[1]))
            return sorted(out)
        return []

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Every live node says cluster_state:ok and every replica has synced with its master."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if all(self._healthy(p) for p in self.live_ports()):
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("redis cluster not healthy")
            time.sleep(0.1)

    def _healthy(self, port: int) -> bool:
        client = self.node(port)
        if b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            return False
        info = client.info("replication")
        if info["role"] == "slave":
            return bool(info.get("master_link_status") == "up")
        return True

    def kill(self, port: int) -> None:
        """SIGKILL: the crash case."""
        proc = self.procs[port]
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def wait_promoted(self, killed: int, timeout: float = 30.0) -> None:
        """Until the live nodes serve every slot again, with no master on the killed port."""
        deadline = time.monotonic() + timeout
        while True:
            masters = self.master_ports()
            if killed not in masters and len(masters) == self.masters:
                try:
                    if all(self._state_ok(p) for p in self.live_ports()):
                        return
                except redis.RedisError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no replica of {killed} promoted")
            time.sleep(0.1)

    def _state_ok(self, port: int) -> bool:
        return b"cluster_state:ok" in self.node(port).execute_command("CLUSTER", "INFO")

    def flushall(self) -> None:
        for port in self.master_ports():
            self.node(port).flushall()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
