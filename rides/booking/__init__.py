"""Booking a ride under the SOP.

- rules.py: the SOP rules as pure functions (phones, cars, times, fares, approval,
  what may be rebooked or retried);
- check.py: a request resolved into a plan with every rule applied (reads, no writes);
- fare.py: the partner's fare for a plan, and the ceiling applied at dispatch;
- services.py: `ride_book` (check → estimate → write) for the pages and the API alike,
  `ride_rebook`, `ride_approve`, `ride_reject`.
"""
