"""The partners app: partner accounts and the client that talks to a partner (client/)."""

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
