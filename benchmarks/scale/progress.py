"""Progress lines with rate and ETA for the long steps, printed at most every few seconds."""

import time


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}" if minutes >= 60 else f"{minutes}:{seconds:02d}"


class Progress:
    def __init__(self, label: str, total: int, *, unit: str = "rows", every: float = 5.0) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.started = time.perf_counter()
        self.printed = 0.0

    def update(self, done: int, *, force: bool = False) -> None:
        elapsed = time.perf_counter() - self.started
        if not force and elapsed - self.printed < self.every:
            return
        self.printed = elapsed
        rate = done / elapsed if elapsed else 0.0
        eta = (self.total - done) / rate if rate else float("nan")
        eta_text = clock(eta) if eta == eta else "?"
        counts = f"{done:,}/{self.total:,} {self.unit}"
        speed = f"{rate:,.{0 if rate >= 10 else 1}f}/s"
        print(f"  {self.label}: {counts} ({speed}, {clock(elapsed)} elapsed, ETA {eta_text})", flush=True)

    def finish(self, done: int) -> float:
        self.update(done, force=True)
        return time.perf_counter() - self.started
