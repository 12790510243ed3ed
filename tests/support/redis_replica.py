"""A real redis-server replicating a RedisProcess on loopback (`--replicaof 127.0.0.1 <port>`), that a
test can pause (SIGSTOP: the master still counts it connected, it acknowledges nothing) and resume."""

from __future__ import annotations

import signal
import time

from tests.support.redis_proc import RedisProcess


class RedisReplica(RedisProcess):
    def __init__(self, binary: str, master: RedisProcess) -> None:
        super().__init__(binary, extra=["--replicaof", "127.0.0.1", str(master.port)])

    def start(self) -> RedisReplica:
        super().start()
        self.wait_linked()
        return self

    def wait_linked(self, timeout_s: float = 20.0) -> None:
        """Until the replica's link to its master is up (the first sync done)."""
        deadline = time.monotonic() + timeout_s
        client = self.client()
        try:
            while client.info("replication").get("master_link_status") != "up":
                if time.monotonic() > deadline:
                    raise TimeoutError(f"replica on {self.port} never linked to its master")
                time.sleep(0.05)
        finally:
            client.close()

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()  # a stopped process would sit on its SIGTERM
        super().stop()
