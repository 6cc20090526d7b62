// uWebSockets (uWebSockets.js, from npm as @trufflesuite/uws-js-unofficial):
// a WebSocket echo server, the benchmark's uWebSockets peer.
//
//   node echo.js -addr 127.0.0.1:9001 [-loops 1] [-max-message BYTES] [-deflate] [-max-backpressure BYTES] [-reuseport]
//
// uWebSockets is the C++ server (uSockets event loop + uWS protocol) behind
// this Node binding; JavaScript only sees each whole message and sends it
// back. Settings, chosen to match the other servers: no compression unless
// -deflate, which turns on uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR
// (one deflate and one inflate stream per event loop, no context takeover
// either way: what wsreactor, gorilla and nbio do in the deflate scenarios);
// maxPayloadLength -max-message (64 MiB, as wsreactor's default); idleTimeout
// 0 and sendPingsAutomatically false (no timeouts, no pings, as every other
// server here); maxBackpressure -max-backpressure (128 MiB: uWS *drops* a
// send that finds more than maxBackpressure bytes already queued, so the
// limit must exceed what a closed-loop client can have in flight, 16 × 4 KiB
// or one 64 MiB message; the default 64 KiB would drop echoes of the big
// scenarios); closeOnBackpressureLimit off. uWS validates text as UTF-8 and
// answers pings and closes itself. Node runs JavaScript and uSockets on one
// thread, so -loops is accepted for a uniform command line and must be 1.
//
// -reuseport is accepted for the command line the c200k and c1m scenarios
// give every peer: uSockets already listens with SO_REUSEPORT (unless
// LIBUS_LISTEN_EXCLUSIVE_PORT), so several of these processes share one port
// and the kernel spreads connections over them. Its listen backlog is fixed
// at 512.
//
// The native module is loaded directly: the package's entry point falls back
// silently to a pure-Node implementation when the binary does not load, and
// the benchmark must measure uWebSockets or nothing.
'use strict';

const path = require('path');

function parseArgs(argv) {
  const opts = { addr: '127.0.0.1:9001', loops: 1, maxMessage: 64 << 20, deflate: false, maxBackpressure: 128 << 20 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, '');
    if (name === 'deflate') {
      opts.deflate = true;
      continue;
    }
    if (name === 'reuseport') continue; // uSockets' default
    const value = argv[++i];
    if (value === undefined) throw new Error(`uws: flag -${name} needs a value`);
    switch (name) {
      case 'addr': opts.addr = value; break;
      case 'loops': opts.loops = Number(value); break;
      case 'max-message': opts.maxMessage = Number(value); break;
      case 'max-backpressure': opts.maxBackpressure = Number(value); break;
      default: throw new Error(`uws: unknown flag "-${name}"`);
    }
  }
  if (opts.loops !== 1) throw new Error(`uws: -loops ${opts.loops}: Node runs uWS on one thread; use 1`);
  for (const k of ['maxMessage', 'maxBackpressure']) {
    if (!Number.isInteger(opts[k]) || opts[k] <= 0) throw new Error(`uws: ${k} ${opts[k]}: want a positive integer`);
  }
  return opts;
}

function loadNative() {
  const pkg = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  const file = path.join(pkg, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(file);
  } catch (e) {
    console.error(`uws: cannot load the native uWebSockets module ${file}: ${e.message}`);
    process.exit(1);
  }
}

const opts = parseArgs(process.argv.slice(2));
const uWS = loadNative();
const sep = opts.addr.lastIndexOf(':');
const host = opts.addr.slice(0, sep) || '0.0.0.0';
const port = Number(opts.addr.slice(sep + 1));

uWS.App().ws('/*', {
  compression: opts.deflate ? (uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR) : uWS.DISABLED,
  maxPayloadLength: opts.maxMessage,
  maxBackpressure: opts.maxBackpressure,
  closeOnBackpressureLimit: false,
  idleTimeout: 0,
  sendPingsAutomatically: false,
  // The message is valid until the callback returns; send copies it.
  message: (ws, message, isBinary) => { ws.send(message, isBinary, opts.deflate); },
}).listen(host, port, (token) => {
  if (!token) {
    console.error(`uws: cannot listen on ${host}:${port}`);
    process.exit(1);
  }
  console.error(`uws: listening on ${host}:${port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
