"""CPU time spent by the database server and by this process: the cost of a query or a page whatever else the
machine runs meanwhile (wall-clock times on a shared machine include waiting for a core)."""

import time
from pathlib import Path

Reading = tuple[dict[int, int], int]


class CpuMeter:
    """Reads the CPU time of every process of one PostgreSQL server (its postmaster and children) and of this
    process. Only server processes alive at both readings count (not, say, a parallel worker in between)."""

    def __init__(self, data_dir: Path) -> None:
        self.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])

    def read(self) -> Reading:
        children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
        server = {}
        for pid in [self.postmaster, *map(int, children)]:
            try:
                server[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except OSError:
                continue
        return server, time.process_time_ns()

    def since(self, start: Reading) -> tuple[float, float]:
        """(server, this process) CPU milliseconds since ``start``."""
        server, client = self.read()
        server_ns = sum(ns - start[0][pid] for pid, ns in server.items() if pid in start[0])
        return server_ns / 1e6, (client - start[1]) / 1e6
