"""Reports for a month or a period, their charts and tables, and the exports."""
