"""The kernel side of the syslog UDP socket: receive buffer size and the kernel's drop counter.

A UDP socket whose receive queue is full loses datagrams in the kernel, before the service sees
them. Two defences: a large receive buffer (SO_RCVBUF, capped by `net.core.rmem_max` unless the
process may force it) and the kernel's own per-socket drop counter (`sk_drops`), read two ways on
Linux: in each datagram's ancillary data (SO_RXQ_OVFL, the count when that datagram was queued)
and in the `drops` column of /proc/net/udp{,6} (also drops after the last datagram received).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

log = logging.getLogger(__name__)
LINUX = sys.platform.startswith("linux")
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)  # <asm-generic/socket.h>; not exported by Python
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
OVFL_SPACE = socket.CMSG_SPACE(4)
RMEM_MAX = Path("/proc/sys/net/core/rmem_max")


def open_socket(host: str, port: int, rcvbuf: int) -> tuple[socket.socket, int]:
    """A bound non-blocking UDP socket with the biggest receive buffer the kernel grants up to
    `rcvbuf` bytes; returns it with the effective size (as the kernel reports it: doubled)."""
    family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if effective < rcvbuf and LINUX:
            try:  # CAP_NET_ADMIN may exceed net.core.rmem_max
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
                effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            except PermissionError:
                pass
        if LINUX:
            sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        sock.bind(addr)
    except BaseException:
        sock.close()
        raise
    if effective < rcvbuf:
        log.warning("syslog UDP receive buffer is %d bytes, not the %d asked (SYSLOG_RCVBUF_BYTES): the "
                    "kernel caps it at net.core.rmem_max=%s; raise it with `sysctl -w net.core.rmem_max=%d`",
                    effective, rcvbuf, _rmem_max(), rcvbuf)
    else:
        log.info("syslog UDP receive buffer %d bytes (asked %d)", effective, rcvbuf)
    return sock, effective


def _rmem_max() -> str:
    try:
        return RMEM_MAX.read_text().strip()
    except OSError:
        return "?"


def ancillary_drops(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    """The kernel's drop count carried by one datagram (SO_RXQ_OVFL), if present."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(data) >= 4:
            return int.from_bytes(data[:4], sys.byteorder)
    return None


def proc_drops(table: str, inode: int) -> int | None:
    """The `drops` column of the row of socket `inode` in a /proc/net/udp{,6} table."""
    wanted = str(inode)
    for row in table.splitlines()[1:]:
        cols = row.split()
        if len(cols) >= 13 and cols[9] == wanted:
            return int(cols[12])
    return None


def read_proc_drops(inode: int) -> int | None:
    """Blocking (small /proc reads): call it from a thread."""
    for name in ("udp", "udp6"):
        try:
            text = Path(f"/proc/net/{name}").read_text()
        except OSError:
            continue
        found = proc_drops(text, inode)
        if found is not None:
            return found
    return None


def socket_inode(sock: socket.socket) -> int:
    return os.fstat(sock.fileno()).st_ino


class DropCounter:
    """Turns the kernel's cumulative drop count (32 bits, may wrap) into increments."""

    def __init__(self) -> None:
        self.seen = 0

    def update(self, cumulative: int) -> int:
        """How many new drops `cumulative` reveals (0 when it is not ahead of what was seen)."""
        delta = (cumulative - self.seen) & 0xFFFFFFFF
        if delta == 0 or delta >= 0x80000000:  # equal, or an older (smaller) count arriving late
            return 0
        self.seen = cumulative
        return delta
