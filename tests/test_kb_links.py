"""Link checking against local HTTP servers: ok, broken, moved, timeouts, per-host limits."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import types
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from frontdesk.kb import links
from frontdesk.kb.article import Article, parse_text
from frontdesk.kb.links import USER_AGENT, LinkResult, check_links, links_of

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))
WAIT_S = 5.0  # how long a busy request waits for company: a guard against a hang only
LINGER_S = 0.05  # then it stays a moment, so a client sending too many is caught in the act


class Tally:
    """Requests in flight across every local site of a test."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.in_flight = 0
        self.most_in_flight = 0
        self.company = 1  # how many requests in flight a busy request waits to see


class Site(ThreadingHTTPServer):
    """A local web server that records what it was asked and how many requests overlapped."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, tally: Tally) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.tally = tally
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.requests: list[tuple[str, str, str]] = []  # method, path, user agent
        self.release = threading.Event()  # ends the slow endpoint at teardown

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Site

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        site = self.server
        with site.lock:
            site.requests.append((self.command, self.path, self.headers.get("User-Agent", "")))
            site.in_flight += 1
            site.most_in_flight = max(site.most_in_flight, site.in_flight)
        with site.tally.lock:
            site.tally.in_flight += 1
            site.tally.most_in_flight = max(site.tally.most_in_flight, site.tally.in_flight)
            site.tally.lock.notify_all()
        self._counted = True
        try:
            self._route(body)
        finally:
            self._leave()

    def _leave(self) -> None:
        # Before the response is written: once the client has it, it may send its next
        # request, which must not find this one still counted (a loaded machine can keep
        # this thread from its finally block for a while).
        if not getattr(self, "_counted", False):
            return
        self._counted = False
        site = self.server
        with site.tally.lock:
            site.tally.in_flight -= 1
        with site.lock:
            site.in_flight -= 1

    def _route(self, body: bool) -> None:
        site = self.server
        path = self.path
        if path.startswith("/busy/"):
            # Wait for company, so a client that may send `company` at once is seen doing
            # so, then linger, so one that sends more is caught.
            tally = site.tally
            with tally.lock:
                tally.lock.wait_for(lambda: tally.in_flight >= tally.company, timeout=WAIT_S)
            site.release.wait(timeout=LINGER_S)
            self._send(200, body)
        elif path == "/slow":
            site.release.wait(timeout=30)
            self._send(200, body)
        elif path in ("/ok", "/new"):
            self._send(200, body)
        elif path == "/old":
            self._send(301, body, location="/new")
        elif path == "/temporary":
            self._send(302, body, location="/new")
        elif path == "/no-head":
            self._send(405 if self.command == "HEAD" else 200, body)
        else:
            self._send(404, body)

    def _send(self, status: int, body: bool, location: str | None = None) -> None:
        self._leave()
        payload = b"hello\n" if status == 200 else b""
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Talk to 127.0.0.1 directly, whatever proxy the environment names."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def tally() -> Tally:
    return Tally()


def serve(tally: Tally) -> Iterator[Site]:
    site = Site(tally)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        site.shutdown()
        site.server_close()
        thread.join(timeout=10)


@pytest.fixture
def site(no_proxy: None, tally: Tally) -> Iterator[Site]:
    yield from serve(tally)


@pytest.fixture
def other_site(no_proxy: None, tally: Tally) -> Iterator[Site]:
    yield from serve(tally)


def page(rel: str, *urls: str, meta_links: tuple[str, ...] = ()) -> Article:
    meta = ""
    if meta_links:
        meta = "---\nlinks:\n" + "".join(f"  - {u}\n" for u in meta_links) + "---\n"
    body = "\n".join(f"See {u} for more." for u in urls)
    return parse_text(f"{meta}# {rel}\n\n{body}\n".encode(), rel)


def by_url(results: list[LinkResult]) -> dict[str, LinkResult]:
    return {r.url: r for r in results}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_links_of_finds_frontmatter_markdown_and_bare_urls() -> None:
    text = (
        "---\nlinks:\n  - https://a.example/help\n  - mailto:help@a.example\n---\n"
        "# T\n\nRead [the policy](https://b.example/policy) or https://c.example/x.\n"
        '[Returns](https://e.example/returns "Our returns page")\n\n'
        "## x\nHi {name}, see (https://d.example/short)!\n"
    )
    article = parse_text(text.encode(), "t.md")
    assert links_of(article) == {
        "https://a.example/help",
        "https://b.example/policy",
        "https://c.example/x",
        "https://d.example/short",
        "https://e.example/returns",
    }


async def test_ok_broken_moved_and_timeout(site: Site) -> None:
    base = site.base
    articles = [
        page("a.md", f"{base}/ok", f"{base}/missing", meta_links=(f"{base}/old",)),
        page("b.md", f"{base}/ok", f"{base}/slow", f"{base}/temporary", f"{base}/no-head"),
    ]
    results = await check_links(articles, timeout=0.5, host_delay=0.0)
    found = by_url(results)
    assert sorted(found) == sorted(
        f"{base}{p}" for p in ("/ok", "/missing", "/old", "/slow", "/temporary", "/no-head")
    )

    ok = found[f"{base}/ok"]
    assert (ok.state, ok.status) == ("ok", 200)
    assert ok.paths == ("a.md", "b.md")  # one check for a URL two articles share

    broken = found[f"{base}/missing"]
    assert (broken.state, broken.status, broken.detail) == ("broken", 404, "Not Found")

    moved = found[f"{base}/old"]
    assert (moved.state, moved.status) == ("moved", 200)
    assert moved.detail == f"moved permanently to {base}/new"

    # A temporary redirect is no reason to edit the article.
    assert found[f"{base}/temporary"].state == "ok"
    # A server that refuses HEAD is asked again with GET.
    assert (found[f"{base}/no-head"].state, found[f"{base}/no-head"].status) == ("ok", 200)

    slow = found[f"{base}/slow"]
    assert (slow.state, slow.status, slow.detail) == ("error", None, "timed out")

    assert Counter(p for m, p, _ in site.requests if m == "HEAD")["/ok"] == 1
    assert {ua for _, _, ua in site.requests} == {USER_AGENT}
    assert json.loads(json.dumps(broken.as_json())) == {
        "url": f"{base}/missing",
        "state": "broken",
        "status": 404,
        "detail": "Not Found",
        "articles": ["a.md"],
    }


async def test_connection_refused_is_an_error(no_proxy: None) -> None:
    url = f"http://127.0.0.1:{free_port()}/gone"
    [result] = await check_links([page("a.md", url)], timeout=2.0)
    assert (result.url, result.state, result.status) == (url, "error", None)
    assert result.detail.startswith("ConnectError")


@pytest.mark.parametrize("per_host", [1, 2])
async def test_per_host_concurrency_is_never_exceeded(
    site: Site, other_site: Site, tally: Tally, per_host: int
) -> None:
    tally.company = 2 * per_host  # both hosts at their limit, side by side
    urls = [f"{s.base}/busy/{i}" for s in (site, other_site) for i in range(6)]
    results = await check_links(
        [page("a.md", *urls)], concurrency=8, per_host=per_host, host_delay=0.0, timeout=10
    )
    assert {r.state for r in results} == {"ok"}
    assert len(site.requests) == len(other_site.requests) == 6
    # The limit held on each host, and was reached (the requests really did overlap).
    assert site.most_in_flight == other_site.most_in_flight == per_host
    # The two hosts were checked side by side: the limit is per host, not overall.
    assert tally.most_in_flight == 2 * per_host


async def test_overall_concurrency_bounds_all_hosts_together(
    site: Site, other_site: Site, tally: Tally
) -> None:
    tally.company = 1
    urls = [f"{s.base}/busy/{i}" for s in (site, other_site) for i in range(4)]
    results = await check_links([page("a.md", *urls)], concurrency=1, per_host=2, host_delay=0.0)
    assert len(results) == 8
    assert tally.most_in_flight == 1


async def test_requests_to_one_host_are_spaced_even_when_two_may_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In virtual time (a frozen clock; sleeps only counted), each request to a host starts
    `host_delay` after the one before, even when `per_host` lets two run at once."""
    slept: dict[object, float] = {}
    url_of: dict[object, str] = {}

    async def fake_sleep(seconds: float) -> None:
        task = asyncio.current_task()
        slept[task] = slept.get(task, 0.0) + seconds
        await asyncio.sleep(0)

    async def answer(request: httpx.Request) -> httpx.Response:
        url_of[asyncio.current_task()] = str(request.url)
        await asyncio.sleep(0)
        return httpx.Response(200)

    fake_asyncio = types.SimpleNamespace(**vars(asyncio))
    fake_asyncio.sleep = fake_sleep
    monkeypatch.setattr(links, "asyncio", fake_asyncio)
    monkeypatch.setattr(links, "time", types.SimpleNamespace(monotonic=lambda: 1000.0))

    urls = [f"https://one.example/{i}" for i in range(5)] + ["https://two.example/"]
    results = await links.check_links(
        [page("a.md", *urls)], per_host=2, host_delay=0.5, transport=httpx.MockTransport(answer)
    )
    assert {r.state for r in results} == {"ok"}
    start = {url: slept.get(task, 0.0) for task, url in url_of.items()}
    assert sorted(v for u, v in start.items() if "one.example" in u) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert start["https://two.example/"] == 0.0  # another host does not wait


# --- the CLI ------------------------------------------------------------------------------


def test_cli_check_links_exits_1_when_a_link_is_broken(site: Site, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "good.md").write_text(f"---\nlinks: ['{site.base}/ok']\n---\n# Good\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}

    proc = subprocess.run(
        [FRONTDESK, "kb", "check-links", "--kb", str(kb), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [(r["url"], r["state"]) for r in json.loads(proc.stdout)] == [(f"{site.base}/ok", "ok")]

    (kb / "bad.md").write_text(f"# Bad\n\nSee [this]({site.base}/missing).\n")
    proc = subprocess.run(
        [FRONTDESK, "kb", "check-links", "--kb", str(kb), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    data = {r["url"]: r for r in json.loads(proc.stdout)}
    assert data[f"{site.base}/missing"]["state"] == "broken"
    assert data[f"{site.base}/missing"]["status"] == 404
    assert data[f"{site.base}/missing"]["articles"] == ["bad.md"]
    assert data[f"{site.base}/ok"]["state"] == "ok"

    human = subprocess.run(
        [FRONTDESK, "kb", "check-links", "--kb", str(kb)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert human.returncode == 1
    assert f"broken 404 {site.base}/missing Not Found (in bad.md)" in human.stdout
    assert "2 link(s) checked, 1 problem(s)" in human.stdout
