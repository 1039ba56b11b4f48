"""The live feed turns journal rows into messages, in order, even for changes it sees late."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from stepstone.live.bus import EventBus, Subscription
from stepstone.live.feed import ChangeFeed
from stepstone.live.messages import LiveMessage
from stepstone.services.runs import start_run
from stepstone.store.changes import Changes
from stepstone.store.database import Database
from tests.helpers import Project, execute_inline

FLOW = """
@workflow(id="pair")
async def pair(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    await ctx.step.cli("second", "echo out")
"""


async def drain(
    queue: asyncio.Queue[LiveMessage], until: str, timeout: float = 10
) -> list[LiveMessage]:
    messages: list[LiveMessage] = []
    while True:
        message = await asyncio.wait_for(queue.get(), timeout)
        messages.append(message)
        if (
            message["type"] == "workflow.run.updated"
            and message["data"]["changes"].get("status") == until
        ):
            return messages


@asynccontextmanager
async def listening(
    db: Database, project: Project, poll_seconds: float
) -> AsyncIterator[tuple[ChangeFeed, Subscription]]:
    """A running feed and a subscription to the project's channel."""
    bus = EventBus()
    subscription = bus.subscribe()
    subscription.channels.add(f"project:{project.id}")
    feed = ChangeFeed(db, bus, poll_seconds=poll_seconds)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    await asyncio.sleep(0)  # the feed starts,
    await feed.following()  # and follows the journal from its starting cursors
    try:
        yield feed, subscription
    finally:
        stop.set()
        feed.wake()
        await task


async def test_a_run_that_finished_between_two_looks_is_told_in_order(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOW)
    async with listening(db, project, poll_seconds=60) as (feed, subscription):
        run_id = start_run(db, project.id, "pair")["id"]
        await execute_inline(db, run_id)
        feed.wake()
        messages = await drain(subscription.queue, "completed")

    statuses = [
        m["data"]["changes"]["status"]
        for m in messages
        if m["type"] == "workflow.run.updated" and "status" in m["data"]["changes"]
    ]
    assert statuses == ["pending", "running", "completed"]
    step_story = [
        (m["type"].rsplit(".", 1)[1], (m["data"].get("step") or m["data"].get("changes"))["status"])
        for m in messages
        if ".step." in m["type"] and "log_chunk" not in m["type"]
    ]
    assert step_story == [
        ("created", "running"),
        ("updated", "completed"),
        ("created", "running"),
        ("updated", "completed"),
    ]
    chunks = [m for m in messages if m["type"] == "workflow.run.step.log_chunk"]
    assert [line["line"] for line in chunks[0]["data"]["lines"]] == ["out"]
    assert messages.index(chunks[0]) < len(messages) - 1
    assert all(m["channel"] == f"project:{project.id}" for m in messages)


async def test_a_run_whose_worker_died_is_announced_as_no_longer_live(
    db: Database, make_project
) -> None:
    import os
    import time

    from sqlalchemy import update

    from stepstone.store.schema import workflow_runs

    project: Project = make_project(FLOW)
    async with listening(db, project, poll_seconds=0.05) as (feed, subscription):
        run_id = start_run(db, project.id, "pair")["id"]
        worker = await asyncio.create_subprocess_exec("sleep", "30")
        with db.transaction() as conn:  # held by a living worker process on this host
            conn.execute(
                update(workflow_runs)
                .where(workflow_runs.c.id == run_id)
                .values(
                    status="running",
                    lease_owner="w#1",
                    lease_expires_at=time.time() + 60,
                    owner_host=os.uname().nodename,
                    owner_pid=worker.pid,
                    updated_at=time.time(),
                )
            )
        feed.wake()

        async def next_live_change() -> bool:
            while True:
                message = await asyncio.wait_for(subscription.queue.get(), 10)
                changes = message["data"].get("changes", {})
                if message["type"] == "workflow.run.updated" and "is_live" in changes:
                    return bool(changes["is_live"])

        assert await next_live_change() is True
        worker.kill()  # the worker dies: no row changes
        await worker.wait()
        assert await next_live_change() is False


async def test_the_feed_reads_nothing_while_nobody_listens_and_a_newcomer_hears_what_follows(
    db: Database, make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project: Project = make_project(FLOW)
    looks = 0
    read = ChangeFeed._read

    def counted(feed: ChangeFeed) -> Changes:
        nonlocal looks
        looks += 1
        return read(feed)

    monkeypatch.setattr(ChangeFeed, "_read", counted)
    bus = EventBus()
    feed = ChangeFeed(db, bus, poll_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        await execute_inline(db, start_run(db, project.id, "pair")["id"])
        feed.wake()
        await asyncio.sleep(0.3)  # six polls' time, and a wake
        assert looks == 0

        subscription = bus.subscribe()
        subscription.channels.add(f"run:{(run_id := start_run(db, project.id, 'pair')['id'])}")
        await feed.following()
        await execute_inline(db, run_id)
        feed.wake()
        messages = await drain(subscription.queue, "completed")
    finally:
        stop.set()
        feed.wake()
        await task
    started = time.monotonic()
    await feed.following()
    assert time.monotonic() - started < 0.5, "a stopped feed keeps nobody waiting"
    assert looks > 0
    steps = [m for m in messages if m["type"] == "workflow.run.step.created"]
    assert [m["data"]["step"]["key"] for m in steps] == ["first", "second"]
    assert all(m["channel"] == f"run:{run_id}" for m in messages)
