// Bootstrap of a JAVASCRIPT script: runs in a child Node process under the permission model,
// talks to the runner over fd 3 (one JSON object per line) and runs the user's code as the body
// of `async function main(tributary, require)`. Plain JavaScript, Node built-ins only.
//
// Usage: node [permission flags] host.mjs <script file>
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { inspect } from 'node:util';
import vm from 'node:vm';

const FLUSH_ROWS = 1000;
const FLUSH_BYTES = 1 << 20;
const HOST_URL = import.meta.url;
// The user's code becomes this function's body; kept on the code's first line so line numbers match.
const WRAPPER = '(async function main(tributary, require) {';

// ---- protocol: requests carry an id; the runner answers each, in order ----
const channel = new net.Socket({ fd: Number(process.env.TRIBUTARY_FD ?? 3), readable: true, writable: true });
const pending = new Map();
let nextId = 1;
let buffered = '';
channel.setEncoding('utf8');
channel.on('data', (chunk) => {
  buffered += chunk;
  for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
    const reply = JSON.parse(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) waiter?.resolve(reply);
    else waiter?.reject(new Error(reply.error));
  }
});
// The runner went away (cancelled or killed us): nothing left to do.
channel.on('end', () => process.exit(1));
channel.on('error', () => process.exit(1));

/** Sends one request whose JSON text is already built (write batches are joined, not re-encoded). */
function send(json) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    channel.write(`{"id":${id},${json.slice(1)}\n`);
  });
}
const request = (message) => send(JSON.stringify(message));

// ---- output buffers: rows are batched per output and sent in order ----
const buffers = new Map(); // name → { rows: string[], bytes: number }
const inFlight = new Set();

function flush(name) {
  const buffer = buffers.get(name);
  if (!buffer || buffer.rows.length === 0) return Promise.resolve();
  const json = `{"op":"write","target":${JSON.stringify(name)},"rows":[${buffer.rows.join(',')}]}`;
  buffers.set(name, { rows: [], bytes: 0 });
  const sent = send(json);
  inFlight.add(sent);
  sent.then(() => inFlight.delete(sent), () => inFlight.delete(sent));
  return sent;
}

async function flushAll() {
  for (const name of buffers.keys()) flush(name);
  await Promise.all(inFlight);
}

function isRow(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkName(name, what) {
  if (typeof name !== 'string' || name === '') throw new TypeError(`tributary.${what} expects a datasource name or id (a string), not ${inspect(name)}`);
}

const hello = await request({ op: 'hello' });

/** The runtime the script sees, as its first argument and as the global `tributary`. */
const tributary = Object.freeze({
  args: Object.freeze(hello.args ?? []),
  kwargs: Object.freeze(hello.kwargs ?? {}),
  job_config: Object.freeze(hello.job_config ?? {}),
  /** The rows of a declared input, page by page: `for await (const row of tributary.read('orders'))`. */
  async *read(name) {
    checkName(name, 'read');
    let cursor = null;
    do {
      const page = await request({ op: 'read', source: name, cursor });
      yield* page.rows;
      cursor = page.cursor;
    } while (cursor);
  },
  /** Adds a row or an array of rows to a declared output; committed only when the script succeeds. */
  write(name, rowOrRows) {
    checkName(name, 'write');
    const rows = Array.isArray(rowOrRows) ? rowOrRows : [rowOrRows];
    const bad = rows.find((row) => !isRow(row));
    if (bad !== undefined) throw new TypeError(`tributary.write expects an object or an array of objects, got ${inspect(bad)}`);
    const first = !buffers.has(name);
    const buffer = buffers.get(name) ?? { rows: [], bytes: 0 };
    buffers.set(name, buffer);
    for (const row of rows) {
      const json = JSON.stringify(row);
      buffer.rows.push(json);
      buffer.bytes += json.length;
    }
    // The first write to an output goes out at once so an undeclared name fails where it is written.
    if (first && rows.length === 0) return send(`{"op":"write","target":${JSON.stringify(name)},"rows":[]}`);
    if (first || buffer.rows.length >= FLUSH_ROWS || buffer.bytes >= FLUSH_BYTES) return flush(name);
    return Promise.resolve();
  },
  /** A line in the run log. */
  log(...parts) {
    channel.write(JSON.stringify({ op: 'log', message: parts.map((p) => (typeof p === 'string' ? p : inspect(p))).join(' ') }) + '\n');
  },
});
globalThis.tributary = tributary;

/** Exits once stdout and stderr are flushed: their pipes are asynchronous, and process.exit() would drop what is queued. */
async function exit(code) {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}

/** The error as the user should see it: its stack without the frames of this bootstrap. */
function describe(error) {
  if (!(error instanceof Error)) return `Uncaught ${inspect(error)}`;
  const stack = String(error.stack ?? error)
    .split('\n')
    .filter((line) => !line.includes(HOST_URL) && !line.includes('node:internal') && !line.includes('(node:vm:'));
  // A syntax error quotes the first line with the wrapper in front: show the user's line and move the caret.
  const quoted = stack.findIndex((line) => line.startsWith(WRAPPER));
  if (quoted !== -1) {
    stack[quoted] = stack[quoted].slice(WRAPPER.length);
    if (stack[quoted + 1]) stack[quoted + 1] = stack[quoted + 1].slice(WRAPPER.length);
  }
  if (error.code && !stack[0].includes(error.code)) stack[0] += ` (${error.code})`;
  if (error instanceof SyntaxError && /import statement|export/.test(error.message)) {
    stack.push("(the script runs as the body of an async function: load built-ins with require('node:…') or await import('node:…'))");
  }
  return stack.join('\n');
}

try {
  const file = process.argv[2];
  const code = readFileSync(file, 'utf8');
  // Wrapper on the first line, its width taken off: stack traces point at the user's own lines and columns.
  const main = new vm.Script(`${WRAPPER}${code}\n})`, {
    filename: 'script.js',
    columnOffset: -WRAPPER.length,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }).runInThisContext();
  await main(tributary, createRequire(file));
  await flushAll();
  await request({ op: 'done' });
  await exit(0);
} catch (error) {
  process.stderr.write(`${describe(error)}\n`);
  await exit(1);
}
