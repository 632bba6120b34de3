"""The alerts pages' URLs."""

urlpatterns: list = []
