"""The supervisors' pages: the trip log and a ride's timeline (triplog/), the live board
of active rides (monitoring/), the alerts and their acknowledgements (alerts/), and the
reports with their exports (reports/). It only reads and presents what rides, cases,
funding and sop hold, and acts through their services; none of them imports it."""
