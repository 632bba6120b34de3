"""The booking pipeline: each module holds one conversation with the partner.

- common: what every step shares (re-locking a ride, holding it for a person, the
  dispatch outbox, the task names, the deadline);
- dispatch: sending a requested ride, and a person's retry;
- reconcile: finding out whether the partner holds a ride whose create went unanswered;
- apply: applying what the partner says about a trip to its ride;
- cancel: a person's cancellation, and telling the partner;
- receipts: the receipt and final fare of an ended trip;
- webhooks: recording and processing the partner's webhook events;
- polling: batched polling of the partners' trips;
- details: reading driver, vehicle and fee a webhook's hint lacked;
- sweeper: resending what is overdue;
- payload: what the partner receives when a ride is created (the allow-list);
- alerts: alerts for supervisors;
- calls: the record of each partner call made about a ride (rides.PartnerCall).

Partner calls never happen inside a database transaction: a step commits its intent,
calls the partner, and applies the answer in a short transaction of its own on the
re-locked ride (`common.relocked`). Tasks (rides/tasks.py) call these modules; these
modules enqueue tasks by name (portal/queue.py) and never import rides.tasks.
"""
