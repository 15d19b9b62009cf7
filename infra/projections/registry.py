"""Every consumer of the log, declared once.

The relay sends each goal that moved to every consumer, one message per consumer and goal; the
reconciler, the dead letters, the lag metrics, `/health/ready` and `goals projections rebuild`
all go through this list. Adding a consumer is a module that declares it (`follow.follower`
makes one from what it does with a goal's new events) and one line in `_BUILT_IN`.

`CONSUMER_MODULES` names further modules to import, each of which calls `register` with its
consumer: how a deployment adds its own, and how the tests add theirs.

Events of other streams than goals' reach the feed consumers (`feed_consumer.FeedConsumer`),
which the relay runs itself, in the order of the feed, each from its own checkpoint.
"""

import importlib

from infra.config import get_settings
from infra.nudges import consumer as nudges
from infra.projections import rebuild
from infra.projections.consumer import Consumer
from infra.projections.feed_consumer import FeedConsumer
from infra.webhooks import fanout, nudge_fanout

_BUILT_IN: tuple[Consumer, ...] = (rebuild.CONSUMER, fanout.CONSUMER, nudges.CONSUMER)

_FEED_CONSUMERS: tuple[FeedConsumer, ...] = (nudge_fanout.CONSUMER,)

_registered: dict[str, Consumer] = {consumer.name: consumer for consumer in _BUILT_IN}
_imported = False


def register(consumer: Consumer) -> Consumer:
    """Adds a consumer; registering the same one again (a module imported twice) is no change."""
    known = _registered.get(consumer.name)
    if known is not None and known is not consumer:
        raise ValueError(f"two consumers are named {consumer.name}")
    _registered[consumer.name] = consumer
    return consumer


def consumers() -> list[Consumer]:
    """Every consumer, the built-in ones first."""
    global _imported  # noqa: PLW0603 - the modules are imported once per process
    if not _imported:
        _imported = True
        for module in get_settings().consumer_modules.split(","):
            if module.strip():
                importlib.import_module(module.strip())
    return list(_registered.values())


def consumer_named(name: str) -> Consumer | None:
    return next((consumer for consumer in consumers() if consumer.name == name), None)


def feed_consumers() -> list[FeedConsumer]:
    return list(_FEED_CONSUMERS)
