"""The benchmark scenarios, one module each; `run(stack, args) -> dict` returns the figures.

    latency  (a)  ride committed → the partner holds the trip
    status   (b)  partner status change → portal state, webhooks and polling only
    burst    (c)  1,000 rides booked in a burst
    polling  (d)  2,000 active rides, webhooks off
    chaos         200 rides against a partner having a bad day

The modules read Django models at import, so bench/pipeline.py loads the one it runs
after the stack has set Django up.
"""
