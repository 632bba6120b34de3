"""The monitoring pages' URLs (mounted at /supervision/board/)."""

from django.urls import path

from supervision.monitoring import views

urlpatterns = [
    path("", views.board, name="board"),
    path("live/", views.board_live, name="board_live"),
    path("alerts/<int:pk>/acknowledge/", views.board_acknowledge, name="board_acknowledge"),
]
