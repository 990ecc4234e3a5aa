"""Hold leases while work runs: renewed in the background, released when it ends.

A worker that dies stops renewing, so its leases expire `lease_seconds` after the last renewal
and another worker may take the incident over, resuming it from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from agent.ports import Leases

log = logging.getLogger("fixloop.leases")


def holder_id() -> str:
    """This worker's name in a lease: host, process and a random part (a pid is reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def holding(leases: Leases, names: list[str], holder: str, seconds: float) -> Iterator[None]:
    """Renew the leases `names` (already taken by `holder`) every third of `seconds` until the
    block ends, then release them."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(seconds / 3):
            for name in names:
                if not leases.acquire(name, holder, seconds):
                    log.error("lost the lease on %s: another worker may take it over", name)

    renewing = threading.Thread(target=renew, name="fixloop-lease", daemon=True)
    renewing.start()
    try:
        yield
    finally:
        stop.set()
        renewing.join()
        for name in names:
            leases.release(name, holder)
