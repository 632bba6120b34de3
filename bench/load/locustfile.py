"""The load test's users (locust; run by `python -m bench.load`, which writes the world
file this reads from LOAD_WORLD). Runs in its own environment (.venv-load), so nothing
here imports Django or the portal.

Twenty users, the portal's day in one machine's share:
- 8 caseworkers: open the booking page, book a ride now and then, and watch their rides
  (the ride page, then its live partial every 3 s as htmx polls it);
- 4 unit supervisors and 3 at the provincial centre (every unit): the trip log (first
  page, deep pages by cursor, each filter), the monitoring board with its live partial
  every 5 s, the alerts list and the monthly report;
- 1 admin on the funding page;
- 4 API clients with a bearer token: the ride list, a ride and its trip log, a booking.

Request names are the page names of bench/pages.py, so the two benchmarks read alike.
gunicorn is reached over plain HTTP on 127.0.0.1, where the proxy would have ended TLS:
the production cookies are Secure, so the clients keep sending them over HTTP.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import time
import uuid

from locust import HttpUser, between, task

WORLD = json.loads(open(os.environ["LOAD_WORLD"], encoding="utf-8").read())
PAGES = {page["name"]: page["path"] for page in WORLD["pages"]}
HIDDEN = re.compile(r'name="(csrfmiddlewaretoken|booking_token)" value="([^"]*)"')
RIDE_URL = re.compile(r"/rides/(R[A-Z0-9]+)/$")
LIVE_POLLS = 5  # a ride watched for 15 s (htmx: every 3 s)
BOARD_POLLS = 4  # the board watched for 20 s (htmx: every 5 s)
BOARD_VERSION = re.compile(r'"X-Board-Version": "([0-9a-f]*)"')
BOARD_LIVE = "/supervision/board/live/"


def _secure_over_plain_http(policy, cookie, request) -> bool:
    return True


# Secure cookies sent to the plain-HTTP gunicorn of this machine. On the class, not one
# session's jar: requests copies the session's cookies into a new jar (with the default
# policy) for every request it prepares. This process talks to nothing else.
http.cookiejar.DefaultCookiePolicy.return_ok_secure = _secure_over_plain_http


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


class PortalUser(HttpUser):
    """Signs in through the login form as `username` (the seeded users of seed_scale)."""

    abstract = True
    username = ""
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.client.headers["Accept-Language"] = random.choice(("id", "en"))
        page = self.client.get("/login/", name="login page")
        form = hidden_fields(page.text)
        form.update(username=self.username, password=WORLD["password"])
        with self.client.post(
            "/login/", data=form, name="login", allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"login as {self.username}: HTTP {answer.status_code}")

    def page(self, name: str, path: str | None = None, headers=None, ok=(200,)) -> str:
        # Not following redirects: a lost session's redirect to the login page fails.
        with self.client.get(
            path or PAGES[name], name=name, headers=headers, catch_response=True,
            allow_redirects=False,
        ) as answer:  # fmt: skip
            if answer.status_code not in ok:
                answer.failure(f"HTTP {answer.status_code}")
            return answer.text

    def poll(self, name: str, path: str, times: int, every: float) -> None:
        for _ in range(times):
            time.sleep(every)
            self.page(name, path)

    def watch_board(self, page: str, partial: str) -> None:
        """The board, then its partial polled as htmx polls it: with the version of what
        it shows, answered 204 while nothing on the board has changed."""
        shown = BOARD_VERSION.search(self.page(page))
        version = shown.group(1) if shown else ""
        for _ in range(BOARD_POLLS):
            time.sleep(5)
            body = self.page(
                partial, BOARD_LIVE, headers={"X-Board-Version": version}, ok=(200, 204)
            )
            shown = BOARD_VERSION.search(body)
            version = shown.group(1) if shown else version


class Caseworker(PortalUser):
    fixed_count = 8
    username = "bench_caseworker"

    def on_start(self) -> None:
        super().on_start()
        self.watching = list(WORLD["rides"])

    @task(3)
    def watch_a_ride(self) -> None:
        reference = random.choice(self.watching[-20:])
        self.page("ride page", f"/rides/{reference}/")
        self.poll("ride live partial", f"/rides/{reference}/live/", LIVE_POLLS, 3)

    @task(2)
    def open_the_booking_page(self) -> None:
        self.page("booking page", f"/rides/book/?case={random.choice(WORLD['cases'])}")

    @task(1)
    def book_a_ride(self) -> None:
        case = random.choice(WORLD["cases"])
        page = self.client.get(f"/rides/book/?case={case}", name="booking page")
        form = hidden_fields(page.text)
        form.update(WORLD["booking_form"], case=case)
        with self.client.post(
            "/rides/book/", data=form, name="booking sent", allow_redirects=False,
            catch_response=True,
        ) as answer:  # fmt: skip
            found = RIDE_URL.search(answer.headers.get("Location", ""))
            if answer.status_code not in (302, 303) or not found:
                problems = re.findall(r'class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)', answer.text)
                answer.failure(f"HTTP {answer.status_code}: {problems[:3]}")
                return
        self.watching.append(found.group(1))
        self.page("ride page", f"/rides/{found.group(1)}/")


class Supervisor(PortalUser):
    fixed_count = 4
    username = "bench_supervisor"

    @task(3)
    def trip_log(self) -> None:
        self.page("trip log, unit")

    @task(1)
    def trip_log_deep(self) -> None:
        self.page("trip log, unit, deep page")

    @task(2)
    def board(self) -> None:
        self.watch_board("monitoring board", "board live partial, unit")

    @task(2)
    def alerts(self) -> None:
        self.page("alerts list")

    @task(1)
    def report(self) -> None:
        self.page("monthly report, unit")


class Centre(PortalUser):
    fixed_count = 3
    username = "bench_centre"
    filters = [name for name in PAGES if name.startswith("trip log, every unit, ")]

    @task(2)
    def trip_log(self) -> None:
        self.page("trip log, every unit")

    @task(4)
    def trip_log_filtered(self) -> None:
        self.page(random.choice(self.filters))

    @task(2)
    def board(self) -> None:
        self.watch_board("monitoring board, every unit", "board live partial, every unit")

    @task(1)
    def alerts(self) -> None:
        self.page("alerts list, every unit")

    @task(1)
    def report(self) -> None:
        self.page("monthly report, every unit")


class Admin(PortalUser):
    fixed_count = 1
    username = "bench_admin"

    @task
    def funding(self) -> None:
        self.page("funding page")


class ApiClient(HttpUser):
    """An outside integration: a caseworker's bearer token, REST API v1."""

    fixed_count = 4
    wait_time = between(1, 4)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {WORLD['api_token']}"
        self.references = list(WORLD["rides"])

    def get(self, name: str, path: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")

    @task(3)
    def ride_list(self) -> None:
        self.get("API: ride list", "/api/v1/rides/")

    @task(3)
    def a_ride(self) -> None:
        self.get("API: a ride", f"/api/v1/rides/{random.choice(self.references[-20:])}/")

    @task(1)
    def its_events(self) -> None:
        self.get(
            "API: a ride's trip log", f"/api/v1/rides/{random.choice(self.references)}/events/"
        )

    @task(1)
    def book(self) -> None:
        body = dict(WORLD["api_booking"], case=random.choice(WORLD["cases"]))
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/rides/", json=body, headers=headers, name="API: book a ride",
            catch_response=True,
        ) as answer:  # fmt: skip
            if answer.status_code != 201:
                answer.failure(f"HTTP {answer.status_code}: {answer.text[:200]}")
                return
            self.references.append(answer.json()["reference"])
