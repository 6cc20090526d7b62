'use strict';
// Interoperability client for wsreactor's tests: Node's ws library.
//
// Run by interop_node_test.go as
//
//     node client.js ADDR SMALL_ADDR
//
// where ADDR is the echo server with its default configuration and SMALL_ADDR
// the same server started with -max-message 1024. It drives both through the
// ws library (npm; `npm install` in this directory) and prints one JSON object
// of observations on stdout (the schema is interopReport in
// interop_script_test.go); the Go test holds the expectations. Anything that
// is not an observation exits non-zero with the reason on stderr.

const WebSocket = require('ws');

const OP_TIMEOUT = 30000; // ms; every wait below is bounded by it
const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const TEXT_UNIT = Buffer.from('wsreactor interop κόσμε ✓ 𝄞 echo ');

// n bytes of valid UTF-8 mixing 1- to 4-byte code points.
function textPayload(n) {
  const b = Buffer.alloc(n + TEXT_UNIT.length);
  for (let i = 0; i < n; i += TEXT_UNIT.length) TEXT_UNIT.copy(b, i);
  let j = n; // cut back to a code point boundary, pad with ASCII
  while (j > 0 && (b[j] & 0xc0) === 0x80) j--;
  b.fill('.', j, n);
  return b.subarray(0, n).toString('utf8');
}

function binaryPayload(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${OP_TIMEOUT} ms`)), OP_TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Conn wraps a ws client: messages, pongs and the close event become
// promises.
class Conn {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.waiters = [];
    this.pongs = [];
    this.pongWaiters = [];
    this.error = null; // the last 'error' event, reported with the close
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), error: this.error && this.error.message }));
    });
    ws.on('message', (data, isBinary) => this.push(this.messages, this.waiters, { data, isBinary }));
    ws.on('pong', (data) => this.push(this.pongs, this.pongWaiters, data));
    ws.on('error', (e) => { this.error = e; }); // reported through 'close'
  }

  push(queue, waiters, item) {
    if (waiters.length) waiters.shift()(item);
    else queue.push(item);
  }

  next(queue, waiters, what) {
    if (queue.length) return Promise.resolve(queue.shift());
    const p = new Promise((resolve) => waiters.push(resolve));
    return withTimeout(Promise.race([p, this.closed.then((c) => { throw new Error(`${what}: closed ${c.code} ${JSON.stringify(c.reason)}${c.error ? ` after error: ${c.error}` : ''}`); })]), what);
  }

  recv() { return this.next(this.messages, this.waiters, 'message'); }
  pong() { return this.next(this.pongs, this.pongWaiters, 'pong'); }
}

function connect(addr, protocols) {
  // perMessageDeflate is on by default: ws offers it; the server declines by
  // default and accepts with -deflate (TestInteropNodeDeflate).
  const ws = new WebSocket(`ws://${addr}/chat?room=interop`, protocols, { handshakeTimeout: OP_TIMEOUT });
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new Conn(ws)));
    ws.once('error', reject);
  }), `connect ${addr}`);
}

async function closeConn(c) {
  c.ws.close(1000);
  return withTimeout(c.closed, 'close');
}

// echo sends payload (a string for text, a Buffer for binary; send, when
// given, sends it) and reads the echo: one report row.
async function echo(c, name, payload, send) {
  const kind = typeof payload === 'string' ? 'text' : 'binary';
  const want = kind === 'text' ? Buffer.from(payload, 'utf8') : payload;
  if (send) send();
  else c.ws.send(payload, { binary: kind === 'binary' });
  const { data, isBinary } = await c.recv();
  return {
    name,
    kind,
    size: want.length,
    got_kind: isBinary ? 'binary' : 'text',
    got_size: data.length,
    equal: Buffer.compare(data, want) === 0,
  };
}

// sendFragments sends one message as one frame per part (ws's fin option).
function sendFragments(c, parts, binary) {
  parts.forEach((part, i) => c.ws.send(part, { binary, fin: i === parts.length - 1 }));
}

// fragmentedEcho echoes payload sent as parts on a connection of its own,
// and reports a failure (ws fails a message over its limits) as a row.
async function fragmentedEcho(addr, name, payload, parts) {
  const c = await connect(addr);
  try {
    const row = await echo(c, name, payload, () => sendFragments(c, parts, typeof payload !== 'string'));
    await closeConn(c);
    return row;
  } catch (e) {
    c.ws.terminate();
    const kind = typeof payload === 'string' ? 'text' : 'binary';
    return { name, kind, size: Buffer.byteLength(payload), got_kind: '', got_size: 0, equal: false, error: e.message };
  }
}

function split(b, n) {
  const parts = [];
  for (let i = 0; i < b.length; i += n) parts.push(b.subarray(i, i + n));
  return parts.length ? parts : [b];
}

async function subprotocols(addr) {
  const rows = [];
  for (const offer of [['superchat', 'chat'], ['chat', 'superchat'], ['foo'], ['foo', 'superchat'], []]) {
    let c;
    try {
      c = await connect(addr, offer);
    } catch (e) {
      // ws fails the handshake when it offered subprotocols and the server
      // selected none (stricter than RFC 6455 §4.1): that is the server
      // selecting nothing, as it must for ['foo']. A protocol the client did
      // not offer fails differently ("Server sent an invalid subprotocol").
      if (e.message !== 'Server sent no subprotocol') throw e;
      rows.push({ offer, selected: '' });
      continue;
    }
    rows.push({ offer, selected: c.ws.protocol });
    await closeConn(c);
  }
  return rows;
}

async function echoes(addr, report) {
  const c = await connect(addr);
  report.extensions = c.ws.extensions;
  const rows = [];
  for (const n of SIZES) {
    rows.push(await echo(c, `text/${n}`, textPayload(n)));
    rows.push(await echo(c, `binary/${n}`, binaryPayload(n)));
  }
  // Fragmented: text cut every 7 bytes (inside code points); 1 MiB in 1 KiB
  // frames; 1 MiB in 16384 frames of 64 bytes, the most fragments ws
  // accepts in a message by default (maxFragments, for its client and its
  // server alike), so the echo must not come back in more.
  const text = textPayload(5000);
  rows.push(await fragmentedEcho(addr, 'text/fragmented', text, split(Buffer.from(text), 7)));
  const data = binaryPayload(1 << 20);
  rows.push(await fragmentedEcho(addr, 'binary/fragmented', data, split(data, 1024)));
  rows.push(await fragmentedEcho(addr, 'binary/16384 fragments', data, split(data, 64)));

  // Pings, alone and between the fragments of a message.
  const pings = [];
  for (const [name, payload] of [['ping', Buffer.from('interop-ping')], ['empty ping', Buffer.alloc(0)], ['125-byte ping', Buffer.alloc(125, 'p')]]) {
    c.ws.ping(payload);
    const got = await c.pong();
    pings.push({ name, pong: Buffer.compare(got, payload) === 0 });
  }
  rows.push(await echo(c, 'text/ping between fragments', 'first fragment, second fragment', () => {
    c.ws.send('first fragment, ', { fin: false });
    c.ws.ping('mid-message');
    c.ws.send('second fragment', { fin: true });
  }));
  const got = await c.pong();
  pings.push({ name: 'ping between fragments', pong: got.toString() === 'mid-message' });
  report.echo = rows;
  report.pings = pings;

  // Close handshake: the client sees the server's echo of its code; 'close'
  // fires once TCP is closed (ws waits 30 s for the server to close it).
  const start = process.hrtime.bigint();
  c.ws.close(4000, 'bye');
  const closed = await withTimeout(c.closed, 'close');
  report.close = { sent: 4000, code: closed.code, reason: closed.reason, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

// closedByServer runs send, then reads until the server closes: its close code.
async function closedByServer(c, send) {
  send();
  for (;;) {
    try {
      await c.recv();
    } catch (e) {
      break;
    }
  }
  return (await c.closed).code;
}

async function invalidUTF8(addr) {
  // ws sends a Buffer as text unchanged when binary is false.
  const c = await connect(addr);
  const bad = Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('edited')]);
  return { code: await closedByServer(c, () => c.ws.send(bad, { binary: false })) };
}

async function tooBig(smallAddr) {
  const c = await connect(smallAddr);
  const atLimit = await echo(c, 'binary/1024 at the limit', binaryPayload(1024));
  const code = await closedByServer(c, () => c.ws.send(binaryPayload(1025)));
  return { code, at_limit_equal: atLimit.equal };
}

async function main() {
  const [addr, smallAddr] = process.argv.slice(2);
  if (!addr || !smallAddr) throw new Error('usage: node client.js ADDR SMALL_ADDR');
  const report = { client: `node ws ${require('ws/package.json').version} (Node ${process.version})` };
  report.subprotocols = await subprotocols(addr);
  await echoes(addr, report);
  report.invalid_utf8 = await invalidUTF8(addr);
  report.too_big = await tooBig(smallAddr);
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`client.js: ${e.stack || e}\n`);
    process.exit(1);
  },
);
