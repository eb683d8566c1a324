"""HNSW builds of the space's vectors, timed, with the memory they hold sampled from /proc and /dev/shm.

``vector`` is the storefront's own index (the DDL of ``recommendations.vectors.index.ensure_index``); ``halfvec``
is the same graph on half-precision values, which the storefront's query uses when its casts say ``halfvec``.
"""

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from .catalogue import EMBEDDINGS
from .progress import Progress

SHM = Path("/dev/shm")
# pgvector's graph per element: the value, plus about this much for its neighbour lists (m = 16) and bookkeeping.
GRAPH_OVERHEAD_BYTES = 640
MEBIBYTE = 2**20


@dataclass(frozen=True)
class IndexKind:
    name: str
    type_name: str
    value_bytes: int

    def cast(self, dimensions: int) -> str:
        return f"{self.type_name}({dimensions})"

    def index_name(self, space_id: int) -> str:
        base = f"recommendations_embedding_hnsw_{space_id}"
        return base if self.name == "vector" else f"{base}_{self.name}"

    def ddl(self, space_id: int, dimensions: int) -> str:
        return (
            f"CREATE INDEX {self.index_name(space_id)} ON {EMBEDDINGS} "
            f"USING hnsw ((vector::{self.cast(dimensions)}) {self.type_name}_cosine_ops) "
            f"WHERE space_id = {int(space_id)} AND status = 'ok'"
        )

    def maintenance_work_mem_mb(self, rows: int, dimensions: int) -> int:
        """Room for the whole graph with a quarter to spare, in steps of 256 MB, at least the storefront's 512."""
        graph = rows * (8 + self.value_bytes * dimensions + GRAPH_OVERHEAD_BYTES)
        return max(512, -(-int(graph * 1.25) // (256 * MEBIBYTE)) * 256)


KINDS = {kind.name: kind for kind in (IndexKind("vector", "vector", 4), IndexKind("halfvec", "halfvec", 2))}


@dataclass
class Build:
    kind: str
    rows: int
    seconds: float
    index_bytes: int
    maintenance_work_mem_mb: int
    parallel_workers_asked: int
    parallel_workers_seen: int
    peak_private_bytes: int
    """The largest sum of the building processes' private memory (RssAnon), sampled every half second."""
    peak_shared_graph_bytes: int
    """The largest size of the shared memory segments created during the build (the parallel build's graph)."""
    notices: list[str] = field(default_factory=list)

    @property
    def peak_bytes(self) -> int:
        return self.peak_private_bytes + self.peak_shared_graph_bytes

    def as_dict(self) -> dict:
        return {**asdict(self), "peak_bytes": self.peak_bytes}


def _rss_anon(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _segments() -> dict[str, int]:
    sizes = {}
    for path in SHM.glob("PostgreSQL.*"):
        try:
            stat = path.stat()
        except OSError:
            continue
        sizes[path.name] = stat.st_blocks * 512
    return sizes


class _Sampler(threading.Thread):
    """Samples the building backend, its parallel workers and new shared memory; prints progress."""

    def __init__(self, params: dict, leader: int, rows: int, label: str) -> None:
        super().__init__(daemon=True)
        self.params, self.leader, self.label = params, leader, label
        self.progress = Progress(label, rows, unit="vectors", every=15)
        self.before = set(_segments())
        self.stop = threading.Event()
        self.peak_private = self.peak_shared = self.workers_seen = 0

    def run(self) -> None:
        with psycopg.connect(**self.params, autocommit=True) as monitor:
            while not self.stop.wait(0.5):
                workers = [
                    pid
                    for (pid,) in monitor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE leader_pid = %s", [self.leader]
                    )
                ]
                self.workers_seen = max(self.workers_seen, len(workers))
                private = sum(_rss_anon(pid) for pid in [self.leader, *workers])
                shared = sum(size for name, size in _segments().items() if name not in self.before)
                self.peak_private = max(self.peak_private, private)
                self.peak_shared = max(self.peak_shared, shared)
                row = monitor.execute(
                    "SELECT tuples_done FROM pg_stat_progress_create_index WHERE pid = %s", [self.leader]
                ).fetchone()
                if row and row[0]:
                    self.progress.update(row[0])


def build(params: dict, kind: IndexKind, space_id: int, dimensions: int, rows: int, workers: int) -> Build:
    """Drop and build ``kind``'s index on the space with the parallel workers and memory a build of ``rows``
    vectors needs."""
    memory = kind.maintenance_work_mem_mb(rows, dimensions)
    notices: list[str] = []
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f"DROP INDEX IF EXISTS {kind.index_name(space_id)}")
        conn.add_notice_handler(lambda notice: notices.append(notice.message_primary))
        conn.execute(f"SET maintenance_work_mem = '{memory}MB'")
        conn.execute(f"SET max_parallel_maintenance_workers = {int(workers)}")
        leader = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        sampler = _Sampler(params, leader, rows, f"{kind.name} HNSW build")
        sampler.start()
        started = time.perf_counter()
        conn.execute(kind.ddl(space_id, dimensions))
        seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        conn.execute(f"ANALYZE {EMBEDDINGS}")
        size = conn.execute("SELECT pg_relation_size(%s)", [kind.index_name(space_id)]).fetchone()[0]
    result = Build(
        kind=kind.name,
        rows=rows,
        seconds=seconds,
        index_bytes=size,
        maintenance_work_mem_mb=memory,
        parallel_workers_asked=workers,
        parallel_workers_seen=sampler.workers_seen,
        peak_private_bytes=sampler.peak_private,
        peak_shared_graph_bytes=sampler.peak_shared,
        notices=notices,
    )
    print(
        f"  {kind.name}: {seconds:.0f} s, index {size / MEBIBYTE:,.0f} MiB, maintenance_work_mem {memory} MB, "
        f"{sampler.workers_seen} parallel worker(s), peak {result.peak_bytes / MEBIBYTE:,.0f} MiB"
        + (f"; {'; '.join(notices)}" if notices else ""),
        flush=True,
    )
    return result


def existing(params: dict, kind: IndexKind, space_id: int) -> int | None:
    """The size of ``kind``'s index when it exists."""
    with psycopg.connect(**params, autocommit=True) as conn:
        return conn.execute("SELECT pg_relation_size(to_regclass(%s))", [kind.index_name(space_id)]).fetchone()[0]


def prewarm(params: dict, names: list[str]) -> None:
    """Read the indexes into PostgreSQL's cache, as a serving database has them after its first queries."""
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for name in names:
            conn.execute("SELECT pg_prewarm(%s)", [name])
