"""The fund's pages for admins: the overview with its report (pages.py), and the
funders, agreements, tranches, adjustments and ledger rows (records.py)."""
