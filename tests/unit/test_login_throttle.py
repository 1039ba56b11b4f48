"""The failed-login slowdown: who waits, how long, and what a success forgets."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from stepstone.api.login_throttle import LoginThrottle

FREE = 2
FIRST = 0.05


def throttle() -> LoginThrottle:
    return LoginThrottle(
        free_failures_per_account=FREE,
        free_failures_per_address=FREE * 2,
        first_delay_seconds=FIRST,
        max_delay_seconds=FIRST * 4,
    )


async def attempt(limiter: LoginThrottle, account: str, address: str, *, ok: bool) -> float:
    """How long the attempt waited before its password was checked."""
    started = time.monotonic()
    async with limiter.attempt(account, address) as trying:
        waited = time.monotonic() - started
        if ok:
            await trying.check(lambda: None)
    return waited


def test_the_delay_doubles_after_the_free_failures_up_to_the_ceiling() -> None:
    limiter = throttle()
    delays = [limiter.delay_seconds(n, "account") for n in range(FREE + 5)]
    assert delays == [0, 0, FIRST, FIRST * 2, FIRST * 4, FIRST * 4, FIRST * 4]


def test_failures_on_an_account_slow_its_next_attempts_and_a_success_forgets_them() -> None:
    async def scenario() -> list[float]:
        limiter = throttle()
        waits = [await attempt(limiter, "a@x", f"10.0.0.{n}", ok=False) for n in range(FREE + 2)]
        waits.append(await attempt(limiter, "a@x", "10.0.0.9", ok=True))
        waits.append(await attempt(limiter, "a@x", "10.0.0.9", ok=True))
        return waits

    waits = asyncio.run(scenario())
    assert waits[:FREE] == pytest.approx([0, 0], abs=0.02)
    assert waits[FREE] >= FIRST
    assert waits[FREE + 1] >= FIRST * 2
    assert waits[FREE + 2] >= FIRST * 4, "the right password waits too, then gets in"
    assert waits[FREE + 3] < FIRST, "after a success the account starts afresh"


def test_failures_from_one_address_slow_it_down_on_any_account_but_not_other_addresses() -> None:
    async def scenario() -> tuple[float, float]:
        limiter = throttle()
        for n in range(FREE * 2):
            await attempt(limiter, f"user{n}@x", "10.0.0.1", ok=False)
        same = await attempt(limiter, "fresh@x", "10.0.0.1", ok=False)
        other = await attempt(limiter, "fresh2@x", "10.0.0.2", ok=False)
        return same, other

    same, other = asyncio.run(scenario())
    assert same >= FIRST
    assert other < FIRST


def test_concurrent_guesses_count_each_other_and_are_spread_out() -> None:
    async def scenario() -> list[float]:
        limiter = throttle()
        return list(
            await asyncio.gather(
                *(attempt(limiter, "a@x", "10.0.0.1", ok=False) for _ in range(FREE + 3))
            )
        )

    waits = sorted(asyncio.run(scenario()))
    assert waits[:FREE] == pytest.approx([0, 0], abs=0.02)
    assert waits[FREE:] == pytest.approx([FIRST, FIRST * 2, FIRST * 4], abs=0.03)


def test_a_login_with_no_recent_failures_does_not_queue_behind_a_slow_guess() -> None:
    release = threading.Event()

    async def scenario() -> bool:
        limiter = throttle()
        await attempt(limiter, "victim@x", "10.0.0.1", ok=False)  # now a suspect pair

        async def slow_guess() -> None:
            async with limiter.attempt("victim@x", "10.0.0.1") as guessing:
                await guessing.check(lambda: release.wait(5))

        guess = asyncio.create_task(slow_guess())
        await asyncio.sleep(0.05)  # the guess holds its check slot
        async with limiter.attempt("someone@x", "10.0.0.2") as trying:
            await asyncio.wait_for(trying.check(lambda: None), 1)
        guess_still_running = not guess.done()
        release.set()
        await guess
        return guess_still_running

    assert asyncio.run(scenario()), "the clean login finished while the guess was checked"
