"""Sandbox transport partner: a separate process that plays the ride-hailing partner.

It implements the partner API of docs/partner-api.yaml (OAuth, estimates, trips,
receipts, signed webhooks), simulates drivers and trips on a time-scaled clock, injects
faults on demand, and records every call it receives. Run it with
``python -m sandbox``; see docs/sandbox.md. It never imports the portal.
"""

__version__ = "1.0.0"
