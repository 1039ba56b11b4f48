"""The in-process event bus: who receives a published message."""

from __future__ import annotations

from stepstone.live.bus import EventBus
from stepstone.live.messages import MessageType, Outgoing, RunUpdated


def updated(run_id: str, user_id: str | None) -> Outgoing:
    data: RunUpdated = {"run_id": run_id, "project_id": "p", "changes": {}}
    return Outgoing([f"run:{run_id}", "project:p"], MessageType.RUN_UPDATED, data, user_id)


def test_messages_about_a_users_run_reach_only_that_user_and_those_who_see_every_run() -> None:
    bus = EventBus()
    mine, theirs, admin = bus.subscribe("me"), bus.subscribe("them"), bus.subscribe(None)
    for subscription in (mine, theirs, admin):
        subscription.channels.add("project:p")
    bus.publish(updated("r", "me"))
    bus.publish(updated("r2", None))  # a run started from the CLI: no user's
    assert mine.queue.get_nowait()["data"]["run_id"] == "r"  # type: ignore[typeddict-item]
    assert mine.queue.empty(), "a run of no user is for admins only"
    assert theirs.queue.empty()
    received = [admin.queue.get_nowait(), admin.queue.get_nowait()]
    assert [m["data"]["run_id"] for m in received] == ["r", "r2"]  # type: ignore[typeddict-item]


def test_a_message_goes_out_on_the_most_specific_channel_a_listener_follows() -> None:
    bus = EventBus()
    both, project_only = bus.subscribe(), bus.subscribe()
    both.channels.update({"project:p", "run:r"})
    project_only.channels.add("project:p")
    bus.publish(updated("r", None))
    assert both.queue.get_nowait()["channel"] == "run:r"
    assert project_only.queue.get_nowait()["channel"] == "project:p"
    assert both.queue.empty(), "delivered once per listener"
