"""The Twisted original: a WebSocket echo server on Twisted and Autobahn.

This is the closest working form of the Twisted code wsreactor is modelled
on: a Protocol whose onMessage writes the message back, run by Twisted's
epoll reactor (one thread, one event loop).

    /usr/bin/python3 echo.py -addr 127.0.0.1:9001 [-loops 1] [-max-message BYTES] [-deflate]

Settings, chosen to match the other servers of the benchmark:
- permessage-deflate offers are declined (no compression), unless -deflate:
  then the first permessage-deflate offer is accepted with no context
  takeover either way (as the other servers), through Autobahn's
  perMessageCompressionAccept; Autobahn 22.7 compresses at zlib's default
  level (6) and has no option for it;
- frame and message limits are -max-message (64 MiB, as wsreactor's default);
- Autobahn's defaults otherwise: incoming text is validated as UTF-8 (as
  wsreactor does), client frames must be masked, no auto-fragmentation;
- automatic pings are off (autoPingInterval 0, as -ping-interval 0 for
  wsreactor); the opening handshake timeout is 10 s, as wsreactor's;
- the listen backlog is the kernel's somaxconn, as for the Go servers.
-loops is accepted for a uniform command line and must be 1: Twisted's
reactor runs on one thread.
"""

import argparse
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import reactor  # noqa: E402  (after the reactor is installed)

from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.compress import (  # noqa: E402
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
)


def accept_deflate(offers):
    """Accepts the first permessage-deflate offer, without context takeover."""
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer) and offer.accept_no_context_takeover:
            return PerMessageDeflateOfferAccept(offer, request_no_context_takeover=True, no_context_takeover=True)
    return None


class EchoProtocol(WebSocketServerProtocol):
    """Echoes every message, text or binary, as one message."""

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


def somaxconn():
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 4096


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-addr", default="127.0.0.1:9001", help="host:port to listen on")
    ap.add_argument("-loops", type=int, default=1, help="event loops; must be 1")
    ap.add_argument("-max-message", type=int, default=64 << 20, help="largest frame and message in bytes")
    ap.add_argument("-deflate", action="store_true", help="accept permessage-deflate, no context takeover")
    args = ap.parse_args(argv)
    if args.loops != 1:
        ap.error("-loops %d: Twisted's reactor is single-threaded; use 1" % args.loops)
    host, _, port = args.addr.rpartition(":")
    host = host or "0.0.0.0"

    factory = WebSocketServerFactory("ws://%s:%s" % (host, port))
    factory.protocol = EchoProtocol
    factory.setProtocolOptions(
        maxFramePayloadSize=args.max_message,
        maxMessagePayloadSize=args.max_message,
        perMessageCompressionAccept=accept_deflate if args.deflate else (lambda offers: None),
        autoPingInterval=0,
        openHandshakeTimeout=10,
        closeHandshakeTimeout=5,
    )
    reactor.listenTCP(int(port), factory, backlog=somaxconn(), interface=host)
    print("twisted: listening on %s:%s" % (host, port), file=sys.stderr, flush=True)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
