"""The reports pages' URLs."""

urlpatterns: list = []
