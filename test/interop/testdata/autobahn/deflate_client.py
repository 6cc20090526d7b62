#!/usr/bin/python3
"""permessage-deflate client for wsreactor's tests: Autobahn on Twisted.

Run by interop_autobahn_test.go as

    /usr/bin/python3 deflate_client.py ADDR

against the echo server started with -deflate. Autobahn's WebSocket client
(Debian's python3-autobahn) is the library the Autobahn conformance suite
drives its compression cases (groups 12 and 13) with; this script walks the
same ground: for each offer of cases 13.1 to 13.7 (context takeover asked
or not, server_max_window_bits 9 or 15, several offers at once), messages
of 16 B to 128 KiB, text and binary, unfragmented and auto-fragmented into
256-byte frames, each sent after the echo of the previous one came back,
as the suite does. It prints one JSON object on stdout: the answer each
offer got and every echo that was not byte-exact (the Go test holds the
expectations). Anything unexpected exits non-zero with the reason on
stderr.
"""

import json
import random
import sys

from twisted.internet import reactor

from autobahn.twisted.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    connectWS,
)
from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)

SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]
COUNT = 3  # messages per size (the suite sends up to 1000)
TIMEOUT = 60  # seconds for a whole connection's run

# (request_no_context_takeover, request_max_window_bits) per offer, as the
# suite's cases 13.1 to 13.7; case 12 is 13.1's offer.
OFFERS = [
    [(False, 0)],
    [(True, 0)],
    [(False, 9)],
    [(False, 15)],
    [(True, 9)],
    [(True, 15)],
    [(True, 9), (True, 0), (False, 0)],
]

WORDS = ("wsreactor echo compression deflate window message frame text "
         "binary autobahn twisted reactor κόσμε ✓ 𝄞 ").split(" ")


def payload(n, binary, rnd):
    """n bytes of compressible text (valid UTF-8) or binary."""
    if binary:
        return bytes(rnd.randrange(16) | 0x80 for _ in range(n))
    out = bytearray()
    while len(out) < n:
        out += (rnd.choice(WORDS) + " ").encode()
    b = bytes(out[:n])
    try:
        b.decode("utf-8")
        return b
    except UnicodeDecodeError as e:  # a code point cut at the end
        return b[:e.start] + b"." * (n - e.start)


class Client(WebSocketClientProtocol):
    def onOpen(self):
        self.rnd = random.Random(len(self.factory.report["runs"]))
        self.queue = [(size, binary, i) for size in SIZES for binary in (False, True) for i in range(COUNT)]
        self.sendNext()

    def onConnect(self, response):
        self.factory.run["answer"] = response.headers.get("sec-websocket-extensions", "")

    def sendNext(self):
        if not self.queue:
            self.sendClose(1000)
            return
        size, binary, _ = self.queue.pop(0)
        self.want = (payload(size, binary, self.rnd), binary)
        self.sendMessage(self.want[0], isBinary=binary)

    def onMessage(self, msg, binary):
        want, wbin = self.want
        if msg != want or binary != wbin:
            self.factory.run["bad"].append({"size": len(want), "binary": wbin, "got_size": len(msg), "got_binary": binary})
        self.factory.run["echoes"] += 1
        self.sendNext()

    def onClose(self, wasClean, code, reason):
        self.factory.run["close"] = code
        self.factory.done()


class Factory(WebSocketClientFactory):
    protocol = Client

    def done(self):
        if not self.finished:
            self.finished = True
            self.next_run()


def main(argv):
    addr = argv[1]
    report = {"client": "autobahn (Twisted) %s" % __import__("autobahn").__version__, "runs": []}
    plan = [(o, frag) for o in OFFERS for frag in (0, 256)]

    def next_run():
        if not plan:
            reactor.stop()
            return
        offers, frag = plan.pop(0)
        factory = Factory("ws://%s/" % addr)
        factory.report = report
        factory.finished = False
        factory.next_run = next_run
        factory.run = {"offer": ", ".join(PerMessageDeflateOffer(True, True, nc, wb).get_extension_string() for nc, wb in offers),
                       "fragment": frag, "answer": "", "echoes": 0, "bad": [], "close": None}
        report["runs"].append(factory.run)

        def accept(response):
            if isinstance(response, PerMessageDeflateResponse):
                return PerMessageDeflateResponseAccept(response)

        factory.setProtocolOptions(
            perMessageCompressionOffers=[PerMessageDeflateOffer(True, True, nc, wb) for nc, wb in offers],
            perMessageCompressionAccept=accept,
            autoFragmentSize=frag,
            maxFramePayloadSize=0,
            maxMessagePayloadSize=0,
            openHandshakeTimeout=10,
            closeHandshakeTimeout=10,
        )
        connectWS(factory, timeout=10)

    def give_up():
        print("timed out", file=sys.stderr)
        reactor.stop()

    reactor.callWhenRunning(next_run)
    reactor.callLater(TIMEOUT * len(plan), give_up)
    reactor.run()
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv)
