"""Waiting for a condition with a deadline, never for a fixed time."""

import asyncio
import time
from collections.abc import Awaitable, Callable

Predicate = Callable[[], Awaitable[bool]]


async def wait_until(predicate: Predicate, within: float, interval: float = 0.2) -> bool:
    """Polls `predicate` until it holds or `within` seconds passed; whether it held."""
    deadline = time.monotonic() + within
    while True:
        if await predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)
