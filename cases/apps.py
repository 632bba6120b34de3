"""The cases app: cases, survivors' protected data, consent, assignments, places."""

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
