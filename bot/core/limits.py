"""Per-user token buckets, so one user's bursts cannot starve the rest.

Kept in memory on purpose: a restart forgets who was throttled, which loses nobody's work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    capacity: float  # the burst allowed
    per_second: float  # the sustained rate


#: Which actions are expensive, and how much of them one user may do.
BUCKETS: dict[str, Bucket] = {
    "lookup": Bucket(capacity=20, per_second=1.0),  # searches, /find, inline queries
    "heavy": Bucket(capacity=3, per_second=1 / 20),  # reports, exports, data downloads
}

#: Commands the router charges before running them (never refused, so always real work).
#: Heavy actions (reports, exports, data downloads) are charged by their feature after its
#: authorization check, so a refusal costs nothing: see `Coach.allow_heavy`.
COMMAND_BUCKETS: dict[str, str] = {"find": "lookup"}


class RateLimiter:
    def __init__(self, buckets: dict[str, Bucket] | None = None, clock: Callable[[], float] = time.monotonic):
        self.buckets = buckets or BUCKETS
        self.clock = clock
        self._state: dict[tuple[int, str], tuple[float, float]] = {}

    def allow(self, user_id: int, bucket: str) -> bool:
        spec = self.buckets[bucket]
        now = self.clock()
        tokens, last = self._state.get((user_id, bucket), (spec.capacity, now))
        tokens = min(spec.capacity, tokens + (now - last) * spec.per_second)
        if tokens < 1:
            self._state[(user_id, bucket)] = (tokens, now)
            return False
        self._state[(user_id, bucket)] = (tokens - 1, now)
        if len(self._state) > 100_000:  # forget idle users rather than grow without bound
            self._state.clear()
        return True
