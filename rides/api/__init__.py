"""REST API v1 of the rides app, one module per subject: rides (book, list, detail, the
trip log, cancel, rebook, approve, reject), estimates and address search, the approval
queue, alerts."""
