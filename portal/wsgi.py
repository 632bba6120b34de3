"""WSGI entry point (gunicorn), imported in each web worker.

Once Django is set up, everything the process holds (settings, apps, models, URL
patterns, translations) is moved out of the garbage collector's view (`gc.freeze`): it
lives as long as the process, and a full collection otherwise walks all of it. And the
youngest generation is collected every 50,000 allocations, not 700. Measured under the
load test at 1,000,000 rides (bench/load/gunicorn_timing.py, docs/benchmarks.md), the
two web workers spent 13.0 s of a three-minute run collecting, 74 full collections of
134 ms on average (up to 304 ms, every thread of the worker held still meanwhile);
with both, 2.4 s and 4 full collections; each worker grew from 124 to 133 MB."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
gc.collect()  # what set-up left unreachable is freed, not kept for ever
gc.freeze()
# A youngest generation collected every 50,000 allocations instead of 700: a request's
# objects mostly die before a collection sees them, and are not moved on to the older
# generations that the full collections walk.
gc.set_threshold(50_000, 10, 10)
