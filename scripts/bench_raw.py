"""The raw command path of `make bench` ("rawcmd"): the least a command over HTTP, NATS and JetStream can cost.

Two processes, started by the bench beside the platform, on the same nats-server:

- ``python -m scripts.bench_raw app --nats URL --port P``: a bare FastAPI app (uvicorn, one process, no
  middleware, no authentication) whose ``PUT /v1/me/profile`` parses the JSON body, takes the member id from
  ``Authorization: Bearer <member id>`` and sends a NATS request (nats-py) to the responder, then answers
  the responder's reply.
- ``python -m scripts.bench_raw responder --nats URL``: a bare nats-py responder that, for each request,
  does one awaited ``js.publish`` of the event to a stream of its own (``BENCH_RAW``, file storage, as the
  log), carrying a ``Nats-Msg-Id`` and ``Nats-Expected-Last-Subject-Sequence`` (from a counter per aggregate
  it keeps in memory), then replies with the new sequence.

No envelope, no PII vault, no state, no projection, no consumer: the baseline our gateway → onboarding path
(PUT /v1/me/profile) is compared with, under the same load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid

RAW_STREAM = "BENCH_RAW"
RAW_EVENTS = "bench.raw.events"
RAW_COMMAND = "bench.raw.cmd.profile"
RAW_PING = "bench.raw.ping"


async def responder(nats_url: str) -> None:
    import nats
    from nats.js.api import StorageType, StreamConfig

    nc = await nats.connect(nats_url, name="bench-raw-responder")
    js = nc.jetstream(timeout=10.0)
    await js.add_stream(StreamConfig(name=RAW_STREAM, subjects=[f"{RAW_EVENTS}.>"], storage=StorageType.FILE,
                                     duplicate_window=120.0))
    last: dict[str, int] = {}  # aggregate -> its last subject sequence in the stream
    locks: dict[str, asyncio.Lock] = {}  # one command at a time per aggregate, as an expected sequence needs
    tasks: set[asyncio.Task] = set()

    async def handle(msg) -> None:
        try:
            cmd = json.loads(msg.data)
            member = cmd["member_id"]
            lock = locks.setdefault(member, asyncio.Lock())
            async with lock:
                body = json.dumps({"type": "ProfileUpdated", "member_id": member, **cmd["profile"]},
                                  ensure_ascii=False).encode()
                ack = await js.publish(f"{RAW_EVENTS}.{member}", body, headers={
                    "Nats-Msg-Id": str(uuid.uuid4()),
                    "Nats-Expected-Last-Subject-Sequence": str(last.get(member, 0)),
                })
                last[member] = ack.seq
            await msg.respond(json.dumps({"ok": True, "version": ack.seq}).encode())
        except Exception as e:  # noqa: BLE001 - answered, so the app reports it
            await msg.respond(json.dumps({"ok": False, "error": repr(e)[:200]}).encode())

    async def on_command(msg) -> None:
        # nats-py runs a subscription's callbacks one after another: a task each, so requests overlap
        t = asyncio.create_task(handle(msg))
        tasks.add(t)
        t.add_done_callback(tasks.discard)

    async def on_ping(msg) -> None:
        await msg.respond(b"pong")

    await nc.subscribe(RAW_COMMAND, cb=on_command)
    await nc.subscribe(RAW_PING, cb=on_ping)
    await nc.flush()
    await asyncio.Event().wait()


def create_app(nats_url: str):
    from contextlib import asynccontextmanager

    import nats
    from fastapi import Body, FastAPI, Header
    from fastapi.responses import JSONResponse

    conn: dict = {}

    @asynccontextmanager
    async def lifespan(app):
        conn["nc"] = await nats.connect(nats_url, name="bench-raw-app")
        yield
        await conn["nc"].close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.put("/v1/me/profile")
    async def put_profile(profile: dict = Body(...), authorization: str = Header(...)):  # noqa: B008
        member = authorization.removeprefix("Bearer ").strip()
        reply = await conn["nc"].request(RAW_COMMAND, json.dumps({"member_id": member, "profile": profile},
                                                                 ensure_ascii=False).encode(), timeout=10.0)
        answer = json.loads(reply.data)
        return JSONResponse(answer, status_code=200 if answer.get("ok") else 409)

    return app


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.bench_raw", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="role", required=True)
    a = sub.add_parser("app", help="the bare FastAPI app (uvicorn)")
    a.add_argument("--nats", required=True, help="nats://host:port")
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--host", default="127.0.0.1")
    r = sub.add_parser("responder", help="the bare JetStream responder")
    r.add_argument("--nats", required=True, help="nats://host:port")
    args = p.parse_args(argv)
    if args.role == "app":
        import uvicorn

        uvicorn.run(create_app(args.nats), host=args.host, port=args.port, log_level="warning", log_config=None)
    else:
        try:
            asyncio.run(responder(args.nats))
        except KeyboardInterrupt:
            sys.exit(0)


if __name__ == "__main__":
    main()
