"""The fund: funders, agreements, tranches and the append-only ledger of its money."""
