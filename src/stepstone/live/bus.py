"""In-process publish/subscribe of live messages by channel (``project:ID``, ``run:ID``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from stepstone.live.messages import LiveMessage, Outgoing

QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Subscription:
    """One listener (a WebSocket) of user ``user_id`` (None: one that sees every run): the
    channels it follows and its message queue. A listener that falls ``QUEUE_LIMIT``
    messages behind is marked ``overflowed`` and should reconnect and refetch."""

    user_id: str | None = None
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[LiveMessage] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
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

    @property
    def listened(self) -> bool:
        """Someone is subscribed (else nothing published would reach anyone)."""
        return bool(self._subscriptions)

    def publish(self, message: Outgoing) -> None:
        """Deliver to subscriptions on the message's channels; a message about a run reaches
        the subscriptions of the run's user and those that see every run (``user_id`` None:
        admins), never another user's (SPEC 9: runs of no user are for admins only)."""
        for subscription in self._subscriptions:
            if subscription.user_id is not None and subscription.user_id != message.user_id:
                continue
            channel = next((c for c in message.channels if c in subscription.channels), None)
            if channel is None:
                continue
            sent: LiveMessage = {"channel": channel, "type": message.type, "data": message.data}
            try:
                subscription.queue.put_nowait(sent)
            except asyncio.QueueFull:
                subscription.overflowed = True
