"""Helpers for tests and benchmarks: run the sandbox as a real process and steer it.

    from sandbox.testing import start_sandbox

    with start_sandbox(time_scale=600, seed=7) as sandbox:
        sandbox.control.create_client("portal", "secret", webhook_url=receiver.url)
        ...  # real HTTP against sandbox.base_url
        sandbox.control.calls(endpoint="create_trip")

Knobs given as keyword arguments become ``SANDBOX_<KNOB>`` variables of the child
process, so they are also what ``PUT /_sandbox/config`` and ``reset(config=True)`` go back
to. Nothing here imports Django.

The package holds: ``control`` (the control client), ``process`` (the starter) and
``webhooks`` (a receiver for the sandbox's webhooks); the names tests use are here.
"""

from ..state import generate_webhook_secret
from .control import SandboxControl, SandboxError
from .process import SandboxProcess, free_port, start_sandbox
from .webhooks import ReceivedWebhook, WebhookReceiver

__all__ = [
    "ReceivedWebhook",
    "SandboxControl",
    "SandboxError",
    "SandboxProcess",
    "WebhookReceiver",
    "free_port",
    "generate_webhook_secret",
    "start_sandbox",
]
