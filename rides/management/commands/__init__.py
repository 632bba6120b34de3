"""Management commands of rides."""
