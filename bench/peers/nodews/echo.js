// Node's `ws`: a WebSocket echo server, the benchmark's Node.js peer.
//
//   node echo.js -addr 127.0.0.1:9001 [-loops 1] [-max-message BYTES] [-deflate [-deflate-level 1]]
//
// Settings, chosen to match the other servers: perMessageDeflate off (no
// compression) unless -deflate, which turns it on as a deployment that
// cares for memory would: no context takeover either way (as wsreactor,
// gorilla and nbio), zlib level -deflate-level (1, as theirs), ws's
// defaults otherwise (threshold 1024 B, window 15 bits, memLevel 8, at
// most 10 zlib jobs at once on libuv's thread pool); maxPayload -max-message (64 MiB, as wsreactor's default),
// UTF-8 validation of text on (ws's default, as wsreactor), the listen
// backlog the kernel's somaxconn. Node runs JavaScript on one thread, so
// -loops is accepted for a uniform command line and must be 1.
'use strict';

const fs = require('fs');
const { WebSocketServer } = require('ws');

function parseArgs(argv) {
  const opts = { addr: '127.0.0.1:9001', loops: 1, maxMessage: 64 << 20, deflate: false, deflateLevel: 1 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, '');
    if (name === 'deflate') {
      opts.deflate = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`nodews: flag -${name} needs a value`);
    switch (name) {
      case 'addr': opts.addr = value; break;
      case 'loops': opts.loops = Number(value); break;
      case 'max-message': opts.maxMessage = Number(value); break;
      case 'deflate-level': opts.deflateLevel = Number(value); break;
      default: throw new Error(`nodews: unknown flag "-${name}"`);
    }
  }
  if (opts.loops !== 1) throw new Error(`nodews: -loops ${opts.loops}: Node runs on one thread; use 1`);
  return opts;
}

function somaxconn() {
  try {
    return Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')) || 511;
  } catch (e) {
    return 511;
  }
}

const opts = parseArgs(process.argv.slice(2));
const sep = opts.addr.lastIndexOf(':');
const host = opts.addr.slice(0, sep) || '0.0.0.0';
const port = Number(opts.addr.slice(sep + 1));

const wss = new WebSocketServer({
  host,
  port,
  backlog: somaxconn(),
  perMessageDeflate: opts.deflate && {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    zlibDeflateOptions: { level: opts.deflateLevel },
  },
  maxPayload: opts.maxMessage,
  clientTracking: false,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});
wss.on('listening', () => console.error(`nodews: listening on ${host}:${port}`));
wss.on('error', (err) => {
  console.error(`nodews: ${err.message}`);
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
