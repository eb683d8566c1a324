"""One thread for numpy's BLAS and the trees' OpenMP while a request is scored: on a busy two-core machine their
spinning threads cost many times what they save on products of a few hundred thousand multiplications."""

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

# Found once: each ``threadpool_limits`` call would scan the process's libraries again (milliseconds).
_controller: ThreadpoolController | None = None


def single_threaded() -> AbstractContextManager:
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1)
