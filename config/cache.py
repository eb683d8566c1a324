"""Redis as Django's cache, where Redis being away costs speed, not pages.

While Redis cannot be reached, reads miss (the value is computed) and writes are skipped. After a failure the
process leaves Redis alone for ``RETRY_SECONDS``, so that a Redis that does not answer does not make every request
wait for the socket's timeout. ``incr`` still raises: its callers decide (``shop.generations`` logs it).
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0

# Per process and server: until when Redis is left alone.
_down_until: dict[str, float] = {}


class ForgivingRedisCache(RedisCache):
    def _try(self, operation: Callable[[], Any], fallback: Any) -> Any:
        if _down_until.get(self._server_key, 0.0) > time.monotonic():
            return fallback
        try:
            return operation()
        except RedisError as error:
            logger.warning("The cache (Redis) cannot be reached; pages are computed without it for now: %s", error)
            _down_until[self._server_key] = time.monotonic() + RETRY_SECONDS
            return fallback

    @property
    def _server_key(self) -> str:
        return ",".join(self._servers)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._try(lambda: super(ForgivingRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: list[str], version: int | None = None) -> dict[str, Any]:
        return self._try(lambda: super(ForgivingRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._try(lambda: super(ForgivingRedisCache, self).has_key(key, version), False)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._try(lambda: super(ForgivingRedisCache, self).add(key, value, timeout, version), False)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._try(lambda: super(ForgivingRedisCache, self).set(key, value, timeout, version), None)

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        return self._try(lambda: super(ForgivingRedisCache, self).set_many(data, timeout, version), list(data))

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._try(lambda: super(ForgivingRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._try(lambda: super(ForgivingRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: list[str], version: int | None = None) -> None:
        self._try(lambda: super(ForgivingRedisCache, self).delete_many(keys, version), None)
