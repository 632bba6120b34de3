"""The triplog pages' URLs."""

urlpatterns: list = []
