"""The four platform fakes of `tests/fakes/platforms/`, served over HTTP by a process of their own.

The fakes stand for remote platforms (Render, DigitalOcean, Vercel, Heroku): in `rotate --due`
their work happens elsewhere, not in the runner's process. `benchmarks.state.run` starts this
module as a subprocess (uvicorn, one event loop, on a socket the parent bound on 127.0.0.1) and
points each target's `httpx.Client` at it with `LocalTransport`, which rewrites only the
scheme, host and port of every request: the `Host` header still names the platform's API host
(`api.render.com`, ...), and this server dispatches on it to the matching fake, which sees the
same `httpx.Request` as through `httpx.MockTransport`.

Control requests (`Host: bench.control`): `POST /seed` with `[[i, old value], ...]` adds secret
`i`'s service/app/project on every fake; `GET /values` answers `{"i": {platform: value held}}`
and the request counts. Benchmark values only (made up by `run.py`), and only over loopback.

    python -m benchmarks.state.fakes_server --fd N   # N: a listening socket's file descriptor
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Any

import httpx

from secretops.targets._platform import tls_context
from tests.fakes.platforms.digitalocean import FakeDigitalOcean
from tests.fakes.platforms.heroku import FakeHeroku
from tests.fakes.platforms.render import FakeRender
from tests.fakes.platforms.vercel import FakeVercel

CONTROL_HOST = "bench.control"
ENV_KEY = "APP_SECRET"


class Fakes:
    """The four fakes by API host, with the benchmark's seeding and read-back."""

    def __init__(self) -> None:
        self.render, self.do, self.vercel, self.heroku = FakeRender(), FakeDigitalOcean(), FakeVercel(), FakeHeroku()
        self.by_host: dict[str, Any] = {
            "api.render.com": self.render,
            "api.digitalocean.com": self.do,
            "api.vercel.com": self.vercel,
            "api.heroku.com": self.heroku,
        }

    def add(self, i: int, value: str) -> None:
        self.render.add_service(f"srv-{i:04d}", {ENV_KEY: value})
        self.do.add_app(
            f"do-{i:04d}",
            {
                "name": f"app{i:04d}",
                "envs": [{"key": ENV_KEY, "value": value, "type": "SECRET", "scope": "RUN_TIME"}],
                "services": [{"name": "web"}],
            },
        )
        self.vercel.add_project(
            f"prj_{i:04d}",
            f"app{i:04d}",
            [{"key": ENV_KEY, "value": value, "type": "encrypted", "target": ["production"]}],
        )
        self.heroku.add_app(f"app{i:04d}", {ENV_KEY: value})

    def values(self, i: int) -> dict[str, str | None]:
        """What each platform holds for secret `i` now (stored config, plaintext)."""
        return {
            "render": self.render.services[f"srv-{i:04d}"].get(ENV_KEY),
            "digitalocean": self.do.plaintext(f"do-{i:04d}", None, ENV_KEY),
            "vercel": self.vercel.values(f"prj_{i:04d}", ENV_KEY).get("production"),
            "heroku": self.heroku.apps[f"app{i:04d}"]["config"].get(ENV_KEY),
        }

    def requests(self) -> int:
        return sum(len(f.calls) for f in self.by_host.values())

    def control(self, method: str, path: str, body: bytes) -> httpx.Response:
        if method == "POST" and path == "/seed":
            seeded = json.loads(body)
            for i, value in seeded:
                self.add(int(i), str(value))
            return httpx.Response(200, json={"seeded": len(seeded)})
        if method == "GET" and path == "/values":
            n = len(self.render.services)
            return httpx.Response(
                200, json={"values": {i: self.values(i) for i in range(n)}, "requests": self.requests()}
            )
        if method == "GET" and path == "/ready":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(404)

    def handle(
        self, method: str, host: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> httpx.Response:
        name = host.split(":", 1)[0]
        if name == CONTROL_HOST:
            return self.control(method, target.split("?", 1)[0], body)
        fake = self.by_host.get(name)
        if fake is None:
            return httpx.Response(421, json={"message": f"no fake for host {name}"})
        request = httpx.Request(method, f"https://{name}{target}", headers=headers, content=body)
        response: httpx.Response = fake.handle(request)
        return response


def asgi_app(fakes: Fakes) -> Any:
    """A bare ASGI app over `fakes` (one event loop: the fakes, plain dicts, need no lock)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k == "host"), "")
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        response = fakes.handle(scope["method"], host, target, headers, b"".join(chunks))
        content = response.content
        out = [
            (k, v)
            for k, v in response.headers.raw
            if k.lower() not in (b"content-length", b"transfer-encoding", b"connection")
        ]
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})

    return app


class LocalTransport(httpx.HTTPTransport):
    """An `httpx.HTTPTransport` that sends every request to `127.0.0.1:port` over plain HTTP.

    Only the URL's scheme, host and port change; the `Host` header (set when the request was
    built) still names the platform's API host, which the server dispatches on.
    """

    def __init__(self, port: int, **kw: Any) -> None:
        # httpcore writes a request's head and body apart: without TCP_NODELAY each POST/PUT
        # waits out the server's delayed ACK (40 ms on Linux), which no TLS client would.
        kw.setdefault("socket_options", [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        # The TLS context a platform target's own client gets (built once per process; plain HTTP
        # here never uses it, but building one per client is part of what a target costs).
        kw.setdefault("verify", tls_context())
        super().__init__(**kw)
        self._port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return super().handle_request(request)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True, help="a listening socket inherited from the parent")
    args = parser.parse_args(argv)
    # socket(fileno=...) keeps the socket's real family (AF_INET): asyncio then sets TCP_NODELAY
    # on every accepted connection (uvicorn's own `fd=` opens it as AF_UNIX, and it would not).
    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(
        asgi_app(Fakes()), log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
