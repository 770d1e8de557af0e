"""One door for background work: every task the server starts goes through here.

It keeps a reference to each task (so none is garbage-collected mid-run), keeps at most one task
per (document, kind), cancels the older one when a newer one starts (a cancelled run kills its
sandboxed processes), and logs failures instead of losing them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self) -> None:
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def running(self, uri: str, kind: str) -> bool:
        task = self._tasks.get((uri, kind))
        return task is not None and not task.done()

    def start(self, uri: str, kind: str, work: Callable[[], Awaitable[None]], delay: float = 0.0,
              wait_for_previous: bool = False) -> asyncio.Task[None]:
        """Replace the (uri, kind) task by a new one that waits `delay` seconds, then does `work`.

        With `wait_for_previous`, the new task first waits until the cancelled one has finished
        (a run must not start while the previous run's processes are still being killed).
        """
        key = (uri, kind)
        previous = self._tasks.get(key)
        if previous is not None and not previous.done():
            previous.cancel()

        async def body() -> None:
            if wait_for_previous and previous is not None:
                await asyncio.wait([previous], timeout=30)
            if delay:
                await asyncio.sleep(delay)
            await work()

        task = asyncio.get_running_loop().create_task(body(), name=f"nemo:{kind}:{uri}")
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._finished(key, t))
        return task

    def _finished(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("background %s failed", key, exc_info=task.exception())

    def cancel(self, uri: str) -> None:
        for (u, _), task in list(self._tasks.items()):
            if u == uri:
                task.cancel()

    async def shutdown(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
