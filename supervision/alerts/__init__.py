"""The alerts pages: open alerts, their history, acknowledging one with a note."""
