"""Waiting without holding a worker (SPEC 3.12): a long durable sleep, a wait for an event
and an approval park the run (``waiting``, no lease, no worker slot); an event, a decision
or the wake time queues it again, and it goes on from the waiting step."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from stepstone.errors import InvalidInput, NotResumable
from stepstone.services.reruns import retry_run
from stepstone.services.runs import cancel_run, get_run, pause_run, resume_run, start_run
from stepstone.services.waits import decide_approval, send_event
from stepstone.store.database import Database
from stepstone.store.schema import workflow_runs
from stepstone.worker.worker import Worker
from tests.helpers import Project, serving, wait_until

FLOWS = """
@workflow(id="ci")
async def ci(ctx: Context) -> dict:
    effect("before")
    await ctx.step.run("build", effect, "build")
    report = await ctx.step.wait_for_event("ci", event="ci-passed")
    await ctx.step.run("after", effect, "after")
    return report


@workflow(id="twice")
async def twice(ctx: Context) -> list:
    first = await ctx.step.wait_for_event("first", event="ping")
    second = await ctx.step.wait_for_event("second", event="ping")
    return [first, second]


@workflow(id="impatient")
async def impatient(ctx: Context) -> str:
    try:
        await ctx.step.wait_for_event("ci", event="ci-passed", timeout=0.3)
    except EventTimeout as exc:
        effect("gave-up")
        raise RuntimeError("CI never answered") from exc
    return "answered"


@workflow(id="patient")
async def patient(ctx: Context) -> object:
    return await ctx.step.wait_for_event(
        "ci", event="ci-passed", timeout=0.5, retries=1, retry_backoff=0
    )


@workflow(id="quick")
async def quick(ctx: Context) -> str:
    return await ctx.step.run("only", effect, "quick")


@workflow(id="review")
async def review(ctx: Context) -> dict:
    decision = await ctx.step.approval("merge", prompt="Merge this?")
    if decision.approved:
        await ctx.step.run("merge-it", effect, "merged")
    else:
        await ctx.step.run("revise", effect, "revised")
    return {"approved": decision.approved, "by": decision.by, "comment": decision.comment}


async def slow(name: str) -> str:
    touch(name + "-started")
    while not flag("go-on"):
        await asyncio.sleep(0.02)
    return effect(name)


async def started(name: str) -> bool:
    while not flag(name + "-started"):
        await asyncio.sleep(0.02)
    return True


@workflow(id="branches")
async def branches(ctx: Context) -> list:
    async def waiter() -> str:
        await ctx.step.run("seen", started, "slow")  # the other branch's step is running
        return await ctx.step.wait_for_event("wait", event="go")

    async def branch() -> str:
        first = await ctx.step.run("slow", slow, "slow")
        return first + "+" + await ctx.step.run("next", effect, "next")

    return list(await asyncio.gather(waiter(), branch()))


@workflow(id="nap")
async def nap(ctx: Context) -> str:
    await ctx.step.run("before", effect, "before")
    await ctx.step.sleep("nap", 600)
    return await ctx.step.run("after", effect, "after")


@workflow(id="short-nap")
async def short_nap(ctx: Context) -> str:
    await ctx.step.sleep("nap", 1.0)
    return await ctx.step.run("after", effect, "after")
"""
PRELUDE = "from stepstone import EventTimeout\n"


@pytest.fixture
def project(make_project) -> Project:
    return make_project(PRELUDE + FLOWS)


def run_of(db: Database, run_id: str) -> dict:
    return get_run(db, run_id)


def status_is(db: Database, run_id: str, status: str):
    return lambda: run_of(db, run_id)["status"] == status


async def test_a_run_waiting_for_an_event_holds_no_worker_and_goes_on_when_it_arrives(
    db: Database, project: Project
) -> None:
    waiting_id = start_run(db, project.id, "ci")["id"]
    async with serving(db, concurrency=1):
        await wait_until(status_is(db, waiting_id, "waiting"), what="the run to park")
        parked = run_of(db, waiting_id)
        assert parked["waiting_for"] == {
            "kind": "event",
            "step_key": "ci",
            "until": None,
            "event": "ci-passed",
            "prompt": None,
        }
        assert parked["is_live"] is False
        assert [(s["key"], s["status"]) for s in parked["steps"]] == [
            ("build", "completed"),
            ("ci", "waiting"),
        ]
        with db.read() as conn:
            lease = (
                conn.execute(workflow_runs.select().where(workflow_runs.c.id == waiting_id))
                .mappings()
                .one()
            )
        assert lease["lease_owner"] is None
        assert lease["lease_expires_at"] is None

        # Its worker has one slot, and it is free: other runs complete meanwhile.
        others = [start_run(db, project.id, "quick")["id"] for _ in range(3)]
        for other in others:
            await wait_until(status_is(db, other, "completed"), what="another run to complete")
        assert run_of(db, waiting_id)["status"] == "waiting"

        delivery = send_event(db, waiting_id, "ci-passed", {"sha": "abc123"}, event_id="e-1")
        assert delivery == {
            "run_id": waiting_id,
            "name": "ci-passed",
            "id": "e-1",
            "duplicate": False,
            "woke": True,
        }
        await wait_until(status_is(db, waiting_id, "completed"), what="the run to complete")

    run = run_of(db, waiting_id)
    assert run["result"] == {"sha": "abc123"}
    assert run["waiting_for"] is None
    steps = {s["key"]: s for s in run["steps"]}
    assert steps["ci"]["output"] == {"sha": "abc123"}
    assert [a["status"] for a in steps["ci"]["attempts"]] == ["completed"]
    assert project.count("build") == 1, "the step before the wait is not executed again"
    assert project.count("after") == 1
    types = [e["type"] for e in run["events"]]
    for kind in ("workflow_waiting", "event_received", "workflow_woken"):
        assert kind in types
    assert types.index("event_received") < types.index("workflow_woken")


async def test_an_event_sent_before_the_wait_is_taken_by_it_and_a_repeated_id_once(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "twice")["id"]
    first = send_event(db, run_id, "ping", 1, event_id="same")
    again = send_event(db, run_id, "ping", 1, event_id="same")
    assert (first["duplicate"], first["woke"]) == (False, False)
    assert (again["duplicate"], again["woke"]) == (True, False)

    async with serving(db):
        await wait_until(status_is(db, run_id, "waiting"), what="the second wait to park")
        run = run_of(db, run_id)
        assert run["waiting_for"]["step_key"] == "second"
        assert run["steps"][0]["output"] == 1
        assert sum(e["type"] == "event_received" for e in run["events"]) == 1

        send_event(db, run_id, "ping", 2)
        await wait_until(status_is(db, run_id, "completed"), what="the run to complete")
    assert run_of(db, run_id)["result"] == [1, 2]


async def test_a_wait_with_a_timeout_fails_its_step_when_nothing_arrives(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "impatient")["id"]
    async with serving(db):
        await wait_until(status_is(db, run_id, "failed"), what="the wait to time out")
    run = run_of(db, run_id)
    step = run["steps"][0]
    assert step["status"] == "failed"
    assert step["error_message"] == "no event 'ci-passed' arrived within 0.3 s"
    assert [a["status"] for a in step["attempts"]] == ["failed"]
    assert project.effects() == ["gave-up"], "the workflow caught EventTimeout"
    assert "CI never answered" in run["error_message"]

    # Retried from the wait, it waits anew, with a time limit of its own again.
    retry_run(db, run_id, "ci")
    async with serving(db):
        await wait_until(status_is(db, run_id, "failed"), what="the new wait to time out")
    step = run_of(db, run_id)["steps"][0]
    assert [a["status"] for a in step["attempts"]] == ["failed", "failed"]


async def test_a_wait_with_retries_waits_again_after_a_timeout_and_takes_what_comes(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "patient")["id"]

    def timed_out_once() -> bool:
        run = run_of(db, run_id)
        attempts = [a["status"] for a in run["steps"][0]["attempts"]] if run["steps"] else []
        return run["status"] == "waiting" and attempts == ["failed"]

    async with serving(db):
        await wait_until(timed_out_once, what="the first wait to time out and a second begin")
        send_event(db, run_id, "ci-passed", "green")
        await wait_until(status_is(db, run_id, "completed"), what="the run to complete")
    run = run_of(db, run_id)
    assert run["result"] == "green"
    assert [a["status"] for a in run["steps"][0]["attempts"]] == ["failed", "completed"]


async def test_a_wait_with_retries_fails_once_they_are_spent_though_each_timeout_parks(
    db: Database, project: Project
) -> None:
    # Each timeout wakes the run into a new execution: the count must outlive them.
    run_id = start_run(db, project.id, "patient")["id"]
    async with serving(db):
        await wait_until(status_is(db, run_id, "failed"), what="the retries to be spent")
    step = run_of(db, run_id)["steps"][0]
    assert [a["status"] for a in step["attempts"]] == ["failed", "failed"]
    assert step["error_message"] == "no event 'ci-passed' arrived within 0.5 s"


async def test_a_rejection_with_a_comment_takes_the_workflows_rejection_branch(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "review")["id"]
    async with serving(db):
        await wait_until(status_is(db, run_id, "waiting"), what="the approval to park")
        assert run_of(db, run_id)["waiting_for"]["prompt"] == "Merge this?"
        with pytest.raises(NotResumable, match="waits for the approval of step merge"):
            decide_approval(db, run_id, "other", approved=True, by="ann@example.com")

        decided = decide_approval(
            db, run_id, "merge", approved=False, comment="needs tests", by="ann@example.com"
        )
        assert decided["status"] == "pending"
        assert decided["events"][-2]["message"] == "rejected by ann@example.com: needs tests"
        await wait_until(status_is(db, run_id, "completed"), what="the run to complete")

    run = run_of(db, run_id)
    assert run["result"] == {"approved": False, "by": "ann@example.com", "comment": "needs tests"}
    assert project.effects() == ["revised"]
    with pytest.raises(NotResumable, match="not waiting for an approval"):
        decide_approval(db, run_id, "merge", approved=True, by="ann@example.com")


async def test_bad_event_names_are_refused_and_ended_runs_take_no_events(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "quick")["id"]
    for name in ("approval:merge", "", "with space"):
        with pytest.raises(InvalidInput, match="event name"):
            send_event(db, run_id, name)
    cancel_run(db, run_id)
    with pytest.raises(NotResumable, match="cancelled"):
        send_event(db, run_id, "ci-passed")


async def test_a_ten_minute_sleep_parks_survives_a_worker_restart_and_wakes_on_time(
    db: Database, project: Project
) -> None:
    # The wall clock is the test's (time.time, for the worker, its threads and the journal):
    # it ticks on from now, and jumps when told. The event loop's monotonic clock is real.
    with time_machine.travel(time.time(), tick=True) as clock:
        run_id = start_run(db, project.id, "nap")["id"]
        async with serving(db):
            await wait_until(status_is(db, run_id, "waiting"), what="the sleep to park")
        parked = run_of(db, run_id)
        assert parked["waiting_for"]["kind"] == "sleep"
        assert parked["steps"][1]["status"] == "waiting"
        due = _epoch(parked["waiting_for"]["until"])
        assert 590 < due - time.time() <= 600

        # Another worker comes: the run stays parked, nobody resumes it.
        async with serving(db):
            await asyncio.sleep(1.5)  # more than a look of its timer and its claims
            assert run_of(db, run_id)["status"] == "waiting"
            with db.read() as conn:
                held = conn.execute(
                    select(workflow_runs.c.lease_owner).where(workflow_runs.c.id == run_id)
                ).scalar()
            assert held is None

            clock.shift(due - time.time() - 0.5)  # ten minutes on: due in half a second
            await wait_until(status_is(db, run_id, "completed"), what="the sleep to end")

        run = run_of(db, run_id)
    nap = run["steps"][1]
    woke = next(e for e in run["events"] if e["type"] == "workflow_woken")
    assert "its sleep ended" in woke["message"]
    completed_at = _epoch(nap["completed_at"])
    assert due <= completed_at < due + 1.0, "the wake time is honoured within a second"
    assert project.effects() == ["before", "after"]


async def test_a_short_threshold_parks_a_short_sleep_and_its_own_worker_wakes_it_on_time(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "short-nap")["id"]
    async with serving(db, park_after_seconds=0.2):
        await wait_until(status_is(db, run_id, "waiting"), what="the sleep to park")
        until = _epoch(run_of(db, run_id)["waiting_for"]["until"])
        await wait_until(status_is(db, run_id, "completed"), what="the sleep to end")
    completed_at = _epoch(run_of(db, run_id)["steps"][0]["completed_at"])
    assert until <= completed_at < until + 1.0


async def test_a_waiting_run_pauses_resumes_into_its_wait_and_cancels(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "ci")["id"]
    async with serving(db):
        await wait_until(status_is(db, run_id, "waiting"), what="the run to park")
        paused = pause_run(db, run_id)
        assert (paused["status"], paused["waiting_for"]) == ("paused", None)
        assert paused["steps"][1]["status"] == "pending"

        resume_run(db, run_id)
        await wait_until(status_is(db, run_id, "waiting"), what="the run to wait again")
        cancelled = cancel_run(db, run_id)
    assert cancelled["status"] == "cancelled"
    assert [s["status"] for s in cancelled["steps"]] == ["completed", "cancelled"]
    assert project.count("build") == 1


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def test_a_wait_beside_a_running_branch_parks_once_that_branchs_step_is_recorded(
    db: Database, project: Project
) -> None:
    run_id = start_run(db, project.id, "branches")["id"]
    async with serving(db):
        await wait_until(
            lambda: "wait" in {s["key"] for s in run_of(db, run_id)["steps"]},
            what="the wait to look",
        )
        await asyncio.sleep(0.3)
        assert run_of(db, run_id)["status"] == "running", "the branch's step holds the run"
        (project.root / "go-on").touch()
        await wait_until(status_is(db, run_id, "waiting"), what="the run to park")
        steps = {s["key"]: s["status"] for s in run_of(db, run_id)["steps"]}
        assert steps == {"seen": "completed", "wait": "waiting", "slow": "completed"}, (
            "the running step was recorded, and no new step began after the park"
        )

        send_event(db, run_id, "go", "went")
        await wait_until(status_is(db, run_id, "completed"), what="the run to complete")
    assert run_of(db, run_id)["result"] == ["went", "slow+next"]
    assert project.effects() == ["slow", "next"], "the recorded step was reused"


async def test_a_worker_stops_even_when_a_park_wakes_its_timer_as_it_stops(db: Database) -> None:
    # The race, made certain: the timer's wait ends (a run was just parked) in the very
    # loop iteration in which the stopping worker cancels it. The cancel must win.
    worker = Worker(db)
    timer = asyncio.create_task(worker._timer_loop())
    try:
        await asyncio.sleep(0.3)  # it looked, and sleeps until the next look
        worker._parked.set()
        await asyncio.sleep(0)  # its wait is over, its task not yet resumed
        timer.cancel()
        with pytest.raises(asyncio.CancelledError):  # not TimeoutError: it did stop
            async with asyncio.timeout(5):
                await timer
    finally:
        timer.cancel()
        worker.close()
