#!/usr/bin/python3
"""wss:// clients for the HAProxy end-to-end test (haproxy_e2e_test.go),
with Python's websockets library (Debian's python3-websockets) and ssl.

  client.py echo  URI CAFILE
      One connection: echo a text message and a 16 MiB binary message,
      byte-exact. Prints one JSON object: the client's own address (which
      the server must see through HAProxy's PROXY header), the TLS version,
      cipher and ALPN protocol, and what went wrong, if anything.

  client.py drain URI CAFILE CLIENTS SECONDS
      CLIENTS connections, each sending a numbered text message every 20 ms
      without waiting for echoes, for SECONDS. A connection closed by the
      server (1001 when its instance drains) reconnects through HAProxy and
      sends again the messages whose echoes had not come, first. Prints
      "READY" once every client is connected, then one JSON object: per
      client, per connection, its address, how it ended, each message sent
      (sequence number, time) and the sequence numbers echoed on it.
"""

import asyncio
import json
import os
import ssl
import sys
import time

import websockets

# permessage-deflate off: this test is about the balancer, not compression.
CONNECT = dict(compression=None, max_size=32 << 20, open_timeout=10, close_timeout=5)


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def addr(t):
    return "%s:%d" % (t[0], t[1]) if t else ""


def close_code(e):
    rcvd = getattr(e, "rcvd", None)
    if rcvd is not None:
        return rcvd.code
    return getattr(e, "code", 1006)


async def echo(uri, cafile):
    out = {"errors": []}
    async with websockets.connect(uri, ssl=tls_context(cafile), **CONNECT) as ws:
        out["local"] = addr(ws.local_address)
        sslobj = ws.transport.get_extra_info("ssl_object")
        out["tls"] = sslobj.version()
        out["cipher"] = sslobj.cipher()[0]
        out["alpn"] = sslobj.selected_alpn_protocol()
        text = "héllo through HAProxy ✓"
        await ws.send(text)
        got = await ws.recv()
        if got != text:
            out["errors"].append("text echo %r != %r" % (got, text))
        big = os.urandom(16 << 20)
        await ws.send(big)
        got = await ws.recv()
        if not isinstance(got, bytes) or got != big:
            out["errors"].append("16 MiB binary echo differs (got %d bytes)" % len(got))
        out["subprotocol"] = ws.subprotocol
    print(json.dumps(out), flush=True)


async def one_client(cid, uri, ctx, seconds, ready, started):
    conns = []
    unanswered = []  # (seq, payload) sent and not echoed, in order
    seq = 0
    deadline = None
    while True:
        try:
            ws = await websockets.connect(uri, ssl=ctx, **CONNECT)
        except Exception as e:  # HAProxy retrying, an instance going down
            if deadline is not None and time.time() > deadline + 10:
                conns.append({"error": "reconnect: %r" % e})
                return conns
            await asyncio.sleep(0.05)
            continue
        conn = {"local": addr(ws.local_address), "sent": [], "echoed": [], "bad": []}
        conns.append(conn)
        if deadline is None:
            ready.set()
            await started.wait()
            deadline = time.time() + seconds

        async def reader():
            async for msg in ws:
                if not unanswered or msg != unanswered[0][1]:
                    conn["bad"].append(msg[:80])
                    continue
                conn["echoed"].append(unanswered.pop(0)[0])

        rd = asyncio.ensure_future(reader())
        try:
            for s, payload in list(unanswered):  # resend what the last connection left
                await ws.send(payload)
                conn["sent"].append([s, time.time()])
            while time.time() < deadline and not rd.done():
                seq += 1
                payload = "%d:%d:%s" % (cid, seq, os.urandom(12).hex())
                unanswered.append((seq, payload))
                await ws.send(payload)
                conn["sent"].append([seq, time.time()])
                await asyncio.sleep(0.02)
            if not rd.done():  # time is up: wait for the last echoes, then close
                for _ in range(250):
                    if not unanswered or rd.done():
                        break
                    await asyncio.sleep(0.02)
                await ws.close()
            await rd
            conn["close"] = ws.close_code
        except websockets.exceptions.ConnectionClosed as e:
            conn["close"] = close_code(e)
            await asyncio.gather(rd, return_exceptions=True)
        conn["closed_at"] = time.time()
        if (conn["close"] == 1000 and time.time() >= deadline) or time.time() > deadline + 15:
            conn["unanswered"] = [s for s, _ in unanswered]
            return conns


async def drain(uri, cafile, clients, seconds):
    ctx = tls_context(cafile)
    readies = [asyncio.Event() for _ in range(clients)]
    started = asyncio.Event()
    tasks = [asyncio.ensure_future(one_client(i, uri, ctx, seconds, readies[i], started)) for i in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 20)
    print("READY", flush=True)
    started.set()
    results = await asyncio.gather(*tasks)
    print(json.dumps({"clients": results}), flush=True)


def main():
    mode = sys.argv[1]
    if mode == "echo":
        asyncio.run(echo(sys.argv[2], sys.argv[3]))
    elif mode == "drain":
        asyncio.run(drain(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
    else:
        sys.exit("usage: client.py echo URI CAFILE | drain URI CAFILE CLIENTS SECONDS")


if __name__ == "__main__":
    main()
