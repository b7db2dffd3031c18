"""Load: the production server (gunicorn, HASHED_STATIC=1) under N concurrent logged-in users.

    .venv/bin/python bench/load.py [--users 20] [--requests 50] [--seconds 120] [--workers 4]

Starts everything itself on 127.0.0.1 only, in a throwaway DATA_DIR (SQLite, or PostgreSQL
with --database-url): the stand-in upstream of tests/upstream.py served over real HTTP, then
collectstatic, prepare (migrations, demo data) and gunicorn. Each user (a thread with its own
httpx client) logs in through the login form and requests the list, response pages (some not
stored yet, so fetched from the stand-in), traces and the playground (?from= and a live count
POST). Bounded: at most --requests per user and --seconds in all. Prints requests per second,
p50 / p95 / p99 latency per page and overall, and every error.
"""

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.upstream import DEMO, FakeUpstream, load_bundle, serve

PASSWORD = "load-test-password-4711"  # noqa: S105 - throwaway users of a throwaway database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def make_users(env: dict[str, str], count: int) -> None:
    code = (
        "from django.contrib.auth.models import Group, User\n"
        "fetcher = Group.objects.get(name='fetcher')\n"
        f"for n in range({count}):\n"
        f"    u = User.objects.create_user(f'load{{n}}', password={PASSWORD!r})\n"
        "    u.groups.add(fetcher)\n"
    )
    manage(env, "shell", "-c", code)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


class User(threading.Thread):
    def __init__(self, number: int, base: str, paths: list[str], count: int, until: float):
        super().__init__(daemon=True)
        self.number, self.base, self.paths, self.count, self.until = (
            number, base, paths, count, until)  # fmt: skip
        self.samples: list[tuple[str, float, int]] = []
        self.errors: list[str] = []
        self.random = random.Random(number)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30.0, follow_redirects=False) as http:
            try:
                self.login(http)
            except Exception as error:  # reported, not raised
                self.errors.append(f"user {self.number} login: {error!r}")
                return
            for _ in range(self.count):
                if time.monotonic() > self.until:
                    return
                self.one(http, self.random.choice(self.paths))

    def login(self, http: httpx.Client) -> None:
        page = http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        form = {"username": f"load{self.number}", "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1)}  # fmt: skip
        answer = http.post("/accounts/login/", data=form, headers={"Referer": self.base})
        assert answer.status_code == 302, f"login answered {answer.status_code}"

    def one(self, http: httpx.Client, path: str) -> None:
        kind = path.split("?")[0].rstrip("/").split("/")[-1] if "/responses/" in path else path
        label = ("trace" if kind == "trace" else "response" if path.startswith("/responses/")
                 else "playground count" if path == "POST" else path.split("?")[0])  # fmt: skip
        started = time.perf_counter()
        try:
            if path == "POST":
                token = http.cookies.get("csrftoken", "")
                form = {"model": "gpt-5", "input_kind": "text", "input_text": "Hello " * 50}
                headers = {"X-CSRFToken": token, "Referer": self.base}
                answer = http.post("/playground/count/", data=form, headers=headers)
            else:
                answer = http.get(path)
            status = answer.status_code
        except httpx.HTTPError as error:
            self.errors.append(f"{path}: {error!r}")
            return
        elapsed = time.perf_counter() - started
        self.samples.append((label, elapsed, status))
        if status >= 400:
            self.errors.append(f"{path}: HTTP {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="per user, at most")
    parser.add_argument("--seconds", type=float, default=120.0, help="in all, at most")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    args = parser.parse_args()

    fake = FakeUpstream()
    stored_ids = [load_bundle(p)["response"]["id"] for p in sorted(DEMO.glob("*.json"))]
    # Not in the demo: each is fetched from the stand-in on its first view, then stored.
    fresh = []
    for path in sorted(DEMO.glob("0[4-9]_*.json")):
        bundle = load_bundle(path)
        body = {**bundle["response"], "id": bundle["response"]["id"].replace("resp_", "resp_ld")}
        fresh.append(fake.add(body, bundle.get("input_items")))
    data_dir = Path(tempfile.mkdtemp(prefix="load-"))
    with serve(fake) as upstream_url:
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "STATIC_ROOT": str(data_dir / "static"),
            "HASHED_STATIC": "1",
            "SECRET_KEY": "load-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "OPENAI_API_KEY": "sk-load-test-not-a-real-key-000000",
            "OPENAI_BASE_URL": upstream_url,
            "FETCH_RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": args.database_url,
        }
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "prepare")
        make_users(env, args.users)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "dashboard.wsgi",
             "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer /healthz in 30 s")
                time.sleep(0.2)
            paths = ["/", "/?sort=-cost", "POST"]
            paths += [f"/responses/{rid}/" for rid in stored_ids[::3] + fresh]
            paths += [f"/playground/?from={rid}" for rid in stored_ids[::3]]
            paths += [f"/responses/{rid}/trace/" for rid in stored_ids[2:20:4]]
            until = time.monotonic() + args.seconds
            users = [User(n, base, paths, args.requests, until) for n in range(args.users)]
            started = time.perf_counter()
            for user in users:
                user.start()
            for user in users:
                user.join()
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(users, wall, args)


def report(users: list[User], wall: float, args: argparse.Namespace) -> None:
    samples = [s for user in users for s in user.samples]
    errors = [e for user in users for e in user.errors]
    by_label: dict[str, list[float]] = defaultdict(list)
    for label, elapsed, _ in samples:
        by_label[label].append(elapsed)
    ms = 1000.0
    print(f"{args.users} users, {args.workers} gunicorn workers, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}: {len(samples)} requests in "
          f"{wall:.1f} s = {len(samples) / wall:.1f} requests/s, {len(errors)} errors")  # fmt: skip
    print(f"{'page':<20} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows = [*sorted(by_label.items()), ("all", [e for _, e, _ in samples])]
    for label, values in rows:
        print(f"{label:<20} {len(values):>6} {percentile(values, 0.5) * ms:>8.0f} "
              f"{percentile(values, 0.95) * ms:>8.0f} {percentile(values, 0.99) * ms:>8.0f} "
              f"{max(values, default=0) * ms:>8.0f}")  # fmt: skip
    if samples:
        print(f"mean {statistics.mean(e for _, e, _ in samples) * ms:.0f} ms")
    for error in errors[:20]:
        print("error:", error)
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
