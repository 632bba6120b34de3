"""The sop app's configuration: a changed server setting (a default) empties the cache."""

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


def _default_changed(*, setting, **_kwargs):
    from sop.registry import DEFAULT_SETTINGS
    from sop.selectors import cache_clear

    if setting in DEFAULT_SETTINGS:
        cache_clear()


class SopConfig(AppConfig):
    name = "sop"
    verbose_name = _("SOP settings")

    def ready(self):
        setting_changed.connect(_default_changed, dispatch_uid="sop_default_changed")
