"""The WSGI entry point leaves what Django's set-up loaded out of the garbage
collector's full collections and collects its youngest generation less often
(portal/wsgi.py)."""

import gc
import importlib
import sys


def test_importing_the_wsgi_application_freezes_what_set_up_loaded():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    sys.modules.pop("portal.wsgi", None)
    try:
        wsgi = importlib.import_module("portal.wsgi")
        assert callable(wsgi.application)
        assert gc.get_freeze_count() > 10_000  # Django, the apps, their models and more
        assert gc.get_threshold()[0] == 50_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
