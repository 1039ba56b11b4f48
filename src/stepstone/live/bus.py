"""In-process publish/subscribe of live messages by channel (``project:ID``, ``run:ID``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class Message:
    channel: str
    type: str
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "type": self.type, "data": self.data}


@dataclass(eq=False)
class Subscription:
    """One listener (a WebSocket) of user ``user_id``: the channels it follows and its
    message queue. A listener that falls ``QUEUE_LIMIT`` messages behind is marked
    ``overflowed`` and should reconnect and refetch."""

    user_id: str | None = None
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False


class EventBus:
    """Delivers each message once to every subscription that follows one of its channels
    (the most specific channel first: ``run:`` before ``project:``)."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, user_id: str | None = None) -> Subscription:
        subscription = Subscription(user_id=user_id)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(
        self, channels: Iterable[str], type: str, data: dict[str, Any], *, owner: str | None
    ) -> None:
        """Deliver to subscriptions on ``channels``; a message about a run of user ``owner``
        reaches only that user's subscriptions (``owner`` None: everyone's)."""
        ordered = list(channels)
        for subscription in self._subscriptions:
            if owner is not None and subscription.user_id not in (None, owner):
                continue
            channel = next((c for c in ordered if c in subscription.channels), None)
            if channel is None:
                continue
            try:
                subscription.queue.put_nowait(Message(channel, type, data))
            except asyncio.QueueFull:
                subscription.overflowed = True
