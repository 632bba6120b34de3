"""The monitoring pages' URLs."""

urlpatterns: list = []
