"""The rides app: booking, the pipeline to the partner, the trip log and alerts."""

from django.apps import AppConfig


class RidesConfig(AppConfig):
    name = "rides"
