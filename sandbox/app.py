"""The ASGI application: partner API, control surface, geocoder search, simulation and
webhook sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from starlette.applications import Starlette

from . import api, control, geocoder
from .config import Config
from .simulation import Simulator
from .state import Sandbox
from .webhooks import WebhookDispatcher

log = logging.getLogger("sandbox")

MAX_BODY_BYTES = 1_000_000


def create_app(
    config: Config | None = None, db_path: str = ":memory:", clients: Iterable[dict] = ()
) -> Starlette:
    sandbox = Sandbox(config or Config(), db_path, clients)
    simulator = Simulator(sandbox)
    dispatcher = WebhookDispatcher(sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox.webhook_wakeup = asyncio.Event()
        tasks = [
            asyncio.create_task(simulator.run(), name="sandbox-simulation"),
            asyncio.create_task(dispatcher.run(), name="sandbox-webhooks"),
        ]
        log.info(
            "sandbox partner ready: db=%s time_scale=%s clients=%s",
            db_path,
            sandbox.config.time_scale,
            ",".join(sandbox.clients) or "-",
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            sandbox.store.set_meta("sim_clock", repr(sandbox.clock.now))
            sandbox.store.close()

    app = Starlette(
        routes=[*control.routes(), *geocoder.routes(), *api.routes()],
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.sandbox = sandbox
    app.state.simulator = simulator
    return app
