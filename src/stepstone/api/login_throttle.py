"""Repeated failed logins slow down (SPEC 9), per account and per client address.

An attempt on an account or from an address with recent failures waits before its password
is checked: nothing for the first few (typos), then twice as long for each further failure,
up to a ceiling; attempts still in flight count as failures, so a burst of concurrent
guesses is spread out too. Nobody is locked out: the right password always gets in after
the wait, and a success forgets the account's failures. Waiting costs no thread; password
checks (argon2: slow and memory-hungry on purpose) run one at a time, so a storm of logins
cannot take every core from other requests, and attempts on an account and from an address
with no recent failures have a check slot of their own, so they do not queue behind one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")


@dataclass
class _Record:
    failures: int = 0
    in_flight: int = 0
    last_seen: float = 0.0


@dataclass
class _Keys:
    records: dict[str, _Record] = field(default_factory=dict)

    def get(self, key: str, now: float, forget_after: float) -> _Record:
        record = self.records.get(key)
        if record is None or (not record.in_flight and now - record.last_seen > forget_after):
            record = self.records[key] = _Record()
        record.last_seen = now
        return record

    def sweep(self, now: float, forget_after: float) -> None:
        """Drop what is forgotten anyway, so many distinct keys do not pile up."""
        stale = [
            key
            for key, record in self.records.items()
            if not record.in_flight and now - record.last_seen > forget_after
        ]
        for key in stale:
            del self.records[key]


class LoginThrottle:
    def __init__(
        self,
        *,
        free_failures_per_account: int = 5,
        free_failures_per_address: int = 10,
        first_delay_seconds: float = 0.25,
        max_delay_seconds: float = 8.0,
        forget_after_seconds: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free = {"account": free_failures_per_account, "address": free_failures_per_address}
        self._first_delay = first_delay_seconds
        self._max_delay = max_delay_seconds
        self._forget_after = forget_after_seconds
        self._clean_checks = CapacityLimiter(1)
        self._suspect_checks = CapacityLimiter(1)
        self._clock = clock
        self._keys = {"account": _Keys(), "address": _Keys()}

    def delay_seconds(self, failures: int, kind: str) -> float:
        over = failures - self._free[kind]
        if over < 0:
            return 0.0
        return float(min(self._max_delay, self._first_delay * 2 ** min(over, 32)))

    @contextlib.asynccontextmanager
    async def attempt(self, account: str, address: str) -> AsyncIterator[Attempt]:
        """One login attempt: waits as long as the account's and the address's recent
        failures ask, then yields; the attempt counts as failed unless marked succeeded."""
        now = self._clock()
        if len(self._keys["account"].records) > 10_000:
            for keys in self._keys.values():
                keys.sweep(now, self._forget_after)
        records = {
            kind: self._keys[kind].get(key, now, self._forget_after)
            for kind, key in (("account", account), ("address", address))
        }
        wait = max(
            self.delay_seconds(record.failures + record.in_flight, kind)
            for kind, record in records.items()
        )
        clean = all(not (record.failures or record.in_flight) for record in records.values())
        attempt = Attempt(self._clean_checks if clean else self._suspect_checks)
        for record in records.values():
            record.in_flight += 1
        try:
            if wait:
                await asyncio.sleep(wait)
            yield attempt
        finally:
            for kind, record in records.items():
                record.in_flight -= 1
                record.last_seen = self._clock()
                if not attempt.succeeded:
                    record.failures += 1
                elif kind == "account":
                    record.failures = 0


class Attempt:
    def __init__(self, checks: CapacityLimiter) -> None:
        self._checks = checks
        self.succeeded = False

    async def check(self, function: Callable[[], T]) -> T:
        """Run the password check ``function`` in a thread, one at a time; a check that
        returns marks the attempt succeeded."""
        result = await anyio.to_thread.run_sync(function, limiter=self._checks)
        self.succeeded = True
        return result
