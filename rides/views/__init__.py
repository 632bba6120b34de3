"""Booking and ride pages: thin — parse, call one booking service or selector, render.

- book.py: the booking page and its htmx estimate;
- ride.py: the ride page (live), cancel, rebook, send again;
- lists.py: today's rides and the supervisor's approval queue;
- common.py: who may use the pages, htmx and message helpers.
"""
