#!/usr/bin/python3
"""Interoperability client for wsreactor's tests: Python's websockets library.

Run by interop_python_test.go as

    /usr/bin/python3 client.py ADDR SMALL_ADDR

where ADDR is the echo server with its default configuration and SMALL_ADDR
the same server started with -max-message 1024. It drives both through the
websockets library (Debian's python3-websockets) and prints one JSON object
of observations on stdout (the schema is interopReport in
interop_script_test.go); the Go test holds the expectations. Anything the
library raises that is not an observation exits non-zero with the reason on
stderr.

Debian 12 ships websockets 10.4, which has only the asyncio client (the sync
client, websockets.sync.client, came in 11.0), so this uses the asyncio one.
To send invalid UTF-8, which send() cannot, it writes the frame with the
connection's write_frame (the legacy asyncio implementation, the default up
to 13.x); where that is missing, that check reports itself skipped.
"""

import asyncio
import json
import sys
import time

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

OP_TIMEOUT = 30  # seconds; every await below is bounded by it

SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20]
TEXT_UNIT = "wsreactor interop κόσμε ✓ 𝄞 echo "


def text_payload(n):
    """n bytes of valid UTF-8 mixing 1- to 4-byte code points."""
    b = (TEXT_UNIT.encode() * (n // len(TEXT_UNIT.encode()) + 1))[:n]
    s = b.decode("utf-8", errors="ignore")  # drops a code point cut at the end
    return s + "." * (n - len(s.encode()))


def binary_payload(n):
    return bytes((i * 31 + (i >> 8)) & 0xFF for i in range(n))


def connect(addr, **kw):
    # compression is left at its default: the library offers
    # permessage-deflate, which the server declines by default and accepts
    # with -deflate (TestInteropPythonDeflate).
    kw.setdefault("max_size", 32 << 20)
    return websockets.connect(
        "ws://%s/chat?room=interop" % addr,
        open_timeout=OP_TIMEOUT,
        close_timeout=OP_TIMEOUT,
        ping_interval=None,
        **kw,
    )


async def timed(aw):
    return await asyncio.wait_for(aw, OP_TIMEOUT)


async def echo(ws, name, payload, send=None):
    """Sends payload (or awaits send) and reads the echo; one report row."""
    await timed(ws.send(payload) if send is None else send)
    got = await timed(ws.recv())
    kind = "text" if isinstance(payload, str) else "binary"
    got_kind = "text" if isinstance(got, str) else "binary"
    want = payload.encode() if kind == "text" else payload
    got_bytes = got.encode() if got_kind == "text" else got
    return {
        "name": name,
        "kind": kind,
        "size": len(want),
        "got_kind": got_kind,
        "got_size": len(got_bytes),
        "equal": got_bytes == want,
    }


async def subprotocols(addr):
    rows = []
    for offer in (["superchat", "chat"], ["chat", "superchat"], ["foo"], ["foo", "superchat"], []):
        async with connect(addr, subprotocols=offer or None) as ws:
            rows.append({"offer": offer, "selected": ws.subprotocol or ""})
    return rows


async def echoes(addr, report):
    async with connect(addr) as ws:
        report["extensions"] = ", ".join(type(e).__name__ for e in ws.extensions)
        rows = []
        for n in SIZES:
            rows.append(await echo(ws, "text/%d" % n, text_payload(n)))
            rows.append(await echo(ws, "binary/%d" % n, binary_payload(n)))
        # Fragmented messages: send() streams an iterable as one message,
        # one frame per item.
        text = text_payload(5000)
        parts = [text[i : i + 100] for i in range(0, len(text), 100)]
        rows.append(await echo(ws, "text/fragmented", text, ws.send(parts)))
        data = binary_payload(70000)
        parts = [data[i : i + 7000] for i in range(0, len(data), 7000)]
        rows.append(await echo(ws, "binary/fragmented", data, ws.send(parts)))
        report["echo"] = rows

        # Pings, alone and between the fragments of a message. The pong
        # waiter resolves only for a pong carrying the ping's payload.
        pings = []
        for name, data in (("ping", b"interop-ping"), ("empty ping", b""), ("125-byte ping", b"p" * 125)):
            waiter = await timed(ws.ping(data))
            await timed(waiter)
            pings.append({"name": name, "pong": True})

        waiters = []

        async def fragments_with_ping():
            yield "first fragment, "
            waiters.append(await ws.ping(b"mid-message"))
            yield "second fragment"

        row = await echo(ws, "text/ping between fragments", "first fragment, second fragment", ws.send(fragments_with_ping()))
        report["echo"].append(row)
        await timed(waiters[0])
        pings.append({"name": "ping between fragments", "pong": True})
        report["pings"] = pings

        # Close handshake: the client sees the server's echo of its code,
        # and the server closes TCP (websockets waits for it up to
        # close_timeout, so the time it took shows who closed).
        start = time.monotonic()
        await timed(ws.close(4000, "bye"))
        report["close"] = {
            "sent": 4000,
            "code": ws.close_code,
            "reason": ws.close_reason,
            "seconds": round(time.monotonic() - start, 3),
        }


async def closed_by_server(ws, send):
    """Awaits send, then reads until the server closes; its close code."""
    await timed(send)
    try:
        while True:
            await timed(ws.recv())
    except ConnectionClosed:
        pass
    return ws.close_code


async def invalid_utf8(addr):
    # send() takes a str for text, which is always valid UTF-8: write the
    # frame itself (websockets' own frame writer masks it).
    async with connect(addr) as ws:
        if not hasattr(ws, "write_frame"):
            return {"skipped": "websockets %s has no write_frame to send invalid UTF-8" % websockets.__version__}
        bad = "κόσμε".encode() + b"\xed\xa0\x80" + b"edited"  # a UTF-16 surrogate
        code = await closed_by_server(ws, ws.write_frame(True, Opcode.TEXT, bad))
        return {"code": code}


async def too_big(small_addr):
    async with connect(small_addr) as ws:
        at_limit = await echo(ws, "binary/1024 at the limit", binary_payload(1024))
        code = await closed_by_server(ws, ws.send(binary_payload(1025)))
        return {"code": code, "at_limit_equal": at_limit["equal"]}


async def main(addr, small_addr):
    report = {"client": "python websockets %s (Python %s)" % (websockets.__version__, sys.version.split()[0])}
    report["subprotocols"] = await subprotocols(addr)
    await echoes(addr, report)
    report["invalid_utf8"] = await invalid_utf8(addr)
    report["too_big"] = await too_big(small_addr)
    return report


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: client.py ADDR SMALL_ADDR")
    try:
        out = asyncio.run(main(sys.argv[1], sys.argv[2]))
    except Exception as e:  # one clear line for the Go test's failure message
        sys.exit("client.py: %s: %s" % (type(e).__name__, e))
    json.dump(out, sys.stdout)
    print()
