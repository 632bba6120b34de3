"""The trip log: every ride of the units a supervisor oversees, filtered and paged by
keyset, and one ride's whole timeline."""
