// End-to-end, for operators: icp-server's liveness and readiness probes, its
// Prometheus metrics (parsed by Python's reference parser), the JSON access
// log, request ids, CORS, configuration from the environment, SIGHUP
// reloading the tokens file, and 503 UNAVAILABLE for a database that a retry
// may find free again. Every wait polls against a deadline; every server
// started here is stopped (SIGTERM, then SIGKILL) and must exit 0.
//
//   ICP_SERVER=.../icp-server ICPCTL=.../icpctl node --test tests/e2e/operations.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startServer as startIcpServer, stopServer } from './icp_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = process.env.ICP_SERVER;
const ICPCTL = process.env.ICPCTL;
assert.ok(SERVER && ICPCTL, 'set ICP_SERVER and ICPCTL to the built binaries');

const COLLECTION = '/api/v1/entities/icps';
const ITEM_ROUTE = `${COLLECTION}/{id}`;       // the `route` label of an item
const EXAMPLE_ID = '550e8400-e29b-41d4-a716-446655440000';  // members: alice, bob
const ITEM = `${COLLECTION}/${EXAMPLE_ID}`;
const MISSING_ID = '00000000-0000-4000-8000-000000000000';
// Values that must never reach the log: a token and the user ids behind it.
const SECRET_TOKEN = 'tok_secret_4c1e9b77d2';
const SECRET_USER = 'user_secret_8a3f51';
const SECRET_OTHER_USER = 'user_listed_secret_2d90e4';
const TOKENS = {
  tok_alice: { userId: 'user_abc123' },
  tok_bob: { userId: 'user_def456' },
  tok_carol: { userId: 'user_000001' },
  [SECRET_TOKEN]: { userId: SECRET_USER },
};
// Every flag's environment variable (the spec's table).
const ENV_NAMES = ['ICP_DB', 'ICP_TOKENS', 'ICP_CLERK_JWT_KEY', 'ICP_CLERK_AUTHORIZED_PARTY',
  'ICP_CLERK_ADMIN_CLAIM', 'ICP_LISTEN', 'ICP_THREADS', 'ICP_CONCEAL_EXISTENCE', 'ICP_MAX_CONNECTIONS',
  'ICP_MAX_HEADER_BYTES', 'ICP_MAX_BODY_BYTES', 'ICP_MAX_PAGE_BYTES', 'ICP_MAX_ICP_BYTES',
  'ICP_REQUEST_TIMEOUT', 'ICP_WRITE_TIMEOUT', 'ICP_SHUTDOWN_TIMEOUT', 'ICP_METRICS_LISTEN',
  'ICP_LOG_FORMAT', 'ICP_CORS_ORIGIN', 'ICP_METRICS_MAX_CONNECTIONS'];
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;  // RFC 3339, UTC
const GENERATED_ID = /^[0-9a-f]{32}$/;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the OpenAPI description as a validator -----------------------------------
const openapi = YAML.parse(readFileSync(join(here, '../../docs/openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...openapi, $id: 'https://icp.example/openapi' });
const resolveRef = (node) => {
  while (node && node.$ref) node = node.$ref.slice(2).split('/').reduce((n, key) => n[key], openapi);
  return node;
};

/**
 * Fails unless `response` ({status, headers, text, json}) is documented for
 * this operation: its status, its headers, its content type and (JSON) body.
 */
function conforms(template, method, response) {
  const operation = openapi.paths[template]?.[method.toLowerCase()];
  assert.ok(operation, `${method} ${template} is not documented`);
  const status = String(response.status);
  const documented = resolveRef(operation.responses[status]);
  assert.ok(documented, `${method} ${template} does not document status ${status}`);
  for (const name of Object.keys(documented.headers ?? {})) {
    if (name === 'Link' || name === 'WWW-Authenticate') continue;  // optional
    assert.ok(response.headers.get(name) !== null, `${method} ${template} ${status} needs header ${name}`);
  }
  if (!documented.content) {
    assert.equal(response.text, '', `status ${status} has no body`);
    return;
  }
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim();
  assert.ok(type in documented.content, `${method} ${template} ${status}: content type "${type}" is not documented`);
  if (type !== 'application/json') return;
  const direct = operation.responses[status].$ref;
  const pointer = direct
    ? `${direct.slice(1)}/content/application~1json/schema`
    : `/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  const validate = ajv.getSchema(`https://icp.example/openapi#${pointer}`);
  assert.ok(validate, `no schema at ${pointer}`);
  assert.ok(validate(response.json), `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)}\n${response.text}`);
}

// ---- data and servers ----------------------------------------------------------------
let dir;
let db;          // the spec's example; shared by the tests that only read (or add)
let tokensFile;

/** A new SQLite database at `path` with the spec's example (icpctl put). */
function seedDatabase(path) {
  execFileSync(ICPCTL, ['--db', path, 'put', join(here, '../../examples/spec-example.json')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** This process's environment without any ICP_ variable: the servers' configuration is the test's alone. */
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ICP_')));
  return { ...env, ...extra };
}

const servers = new Set();

/** Starts icp-server on `db` with the test tokens and `args` (startServer adds --listen and --threads). */
async function launch(args = [], { db: database = db, tokens = tokensFile, env = {}, ...options } = {}) {
  const server = await startIcpServer(SERVER, ['--db', database, '--tokens', tokens, ...args],
    { startTimeoutMs: 20_000, env: cleanEnv(env), ...options });
  servers.add(server);
  return server;
}

/**
 * Spawns icp-server with exactly `args` and `env` (no flag added): resolves
 * once it listens, shaped like startServer's result so stopServer works.
 */
async function spawnServer(args, env, { startTimeoutMs = 20_000 } = {}) {
  const child = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let log = '';
  let out = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  child.stdout.on('data', (chunk) => { out += chunk; });
  const server = { child, pid: child.pid, log: () => log, stdout: () => out, exited };
  servers.add(server);
  let timer;
  try {
    server.url = await new Promise((resolve, reject) => {
      child.stdout.on('data', () => {
        const match = out.match(/listening on (http:\/\/\S+)\n/);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code, signal) => reject(new Error(`icp-server exited early with ${code ?? signal}: ${log}`)));
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`icp-server did not listen within ${startTimeoutMs} ms: ${log}`));
      }, startTimeoutMs);
    });
    return server;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops `server`: SIGTERM, SIGKILL after 5 s; the exit code (null if killed). */
async function shutdown(server) {
  servers.delete(server);
  return stopServer(server, { killAfterMs: 5000 });
}

/** Runs `body(server)` with a server of its own, then stops it: it must exit 0. */
async function withServer(args, options, body) {
  const server = await launch(args, options);
  return runThenStop(server, body);
}

async function runThenStop(server, body) {
  let passed = false;
  try {
    const result = await body(server);
    passed = true;
    return result;
  } finally {
    closeAllConnections();
    const code = await shutdown(server);
    if (passed) assert.equal(code, 0, `icp-server did not exit 0 after SIGTERM: ${server.log().slice(-2000)}`);
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'icp-e2e-ops-'));
  tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(TOKENS));
  db = join(dir, 'icps.db');
  seedDatabase(db);
});

after(async () => {
  closeAllConnections();
  for (const server of [...servers]) await shutdown(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Polls `predicate` every `stepMs` until it holds (true) or `timeoutMs` passes (false). */
async function poll(predicate, timeoutMs, stepMs = 25) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

// ---- HTTP ------------------------------------------------------------------------------
/** A call through fetch: `{status, headers, text, json}`. */
async function call(url, method, path, { token = 'tok_alice', body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(30_000) };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url + path, init);
  const text = await response.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: response.status, headers: response.headers, text, json };
}

/** A request as written on the wire. `headers` is a list of [name, value]. */
function rawRequest(method, path, { token, headers = [], body } = {}) {
  let text = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  if (token) text += `Authorization: Bearer ${token}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  if (body !== undefined) text += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${text}\r\n${body ?? ''}`;
}

/**
 * The first complete HTTP/1.1 response in `bytes`, or null:
 * `{response: {status, headers, text, json}, end}`. `headers` has get(name),
 * like fetch's, and `names`, the lower-case field names.
 */
function parseResponse(bytes, ended) {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(statusLine.match(/^HTTP\/1\.[01] (\d{3})/)?.[1]);
  if (!status) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
  const fields = new Map();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.set(name, fields.has(name) ? `${fields.get(name)}, ${value}` : value);
  }
  const bodyStart = headEnd + 4;
  let bodyEnd;
  if (status === 204 || status === 304 || status < 200) {
    bodyEnd = bodyStart;
  } else if (fields.has('content-length')) {
    bodyEnd = bodyStart + Number(fields.get('content-length'));
    if (bodyEnd > bytes.length) return null;
  } else if (ended) {
    bodyEnd = bytes.length;
  } else {
    return null;
  }
  const text = bytes.subarray(bodyStart, bodyEnd).toString('utf8');
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  const headers = { get: (name) => fields.get(name.toLowerCase()) ?? null, names: [...fields.keys()] };
  return { response: { status, headers, text, json }, end: bodyEnd };
}

const openConnections = new Set();
function closeAllConnections() {
  for (const connection of [...openConnections]) connection.close();
}

/** One raw TCP connection: requests are sent as written, responses read one at a time. */
class RawConnection {
  static async open(url, timeoutMs = 5000) {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    const connection = new RawConnection(socket);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cannot connect to ${url} in time`)), timeoutMs);
      socket.once('connect', () => { clearTimeout(timer); resolve(); });
      socket.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
    return connection;
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.closed = false;
    this.notify = () => {};
    openConnections.add(this);
    socket.on('data', (chunk) => { this.buffer = Buffer.concat([this.buffer, chunk]); this.notify(); });
    socket.on('close', () => { this.closed = true; openConnections.delete(this); this.notify(); });
    socket.on('error', () => {});  // a reset after an answer that closes is expected
  }

  /** Sends `request`; resolves with the next complete response. */
  request(request, timeoutMs = 10_000) {
    this.socket.write(request);
    return new Promise((resolve, reject) => {
      const done = (error, response) => {
        clearTimeout(timer);
        this.notify = () => {};
        if (error) reject(error); else resolve(response);
      };
      const timer = setTimeout(() => done(new Error(`no complete response within ${timeoutMs} ms: ${this.buffer.toString('latin1').slice(0, 500)}`)), timeoutMs);
      this.notify = () => {
        let parsed;
        try { parsed = parseResponse(this.buffer, this.closed); } catch (error) { done(error); return; }
        if (parsed) {
          this.buffer = this.buffer.subarray(parsed.end);
          done(null, parsed.response);
        } else if (this.closed) {
          done(new Error(`the connection closed before a complete response: ${this.buffer.toString('latin1').slice(0, 500)}`));
        }
      };
      this.notify();
    });
  }

  close() {
    this.socket.destroy();
    openConnections.delete(this);
  }
}

/** Sends `request` on a connection of its own; resolves with the response. */
async function exchange(url, request) {
  const connection = await RawConnection.open(url);
  try {
    return await connection.request(request);
  } finally {
    connection.close();
  }
}

// ---- logs ------------------------------------------------------------------------------
const logLines = (server) => server.log().split('\n').filter((line) => line !== '');

/** Polls the server's log until `predicate(lines)` holds, for up to 3 s (the log is written every ~50 ms). */
async function waitForLog(server, predicate, what) {
  const found = await poll(() => predicate(logLines(server)), 3000);
  assert.ok(found, `the log did not show ${what} within 3 s:\n${server.log().slice(-3000)}`);
}

// ---- Prometheus ------------------------------------------------------------------------
/** A python3 that can import `module` (PATH's, else Debian's), or null. */
function pythonWith(module) {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const run = spawnSync(candidate, ['-c', `import ${module}`], { stdio: 'ignore' });
    if (run.status === 0) return candidate;
  }
  return null;
}

const PARSE_METRICS = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": sample.name,
                        "labels": sample.labels, "value": sample.value})
print(json.dumps(samples))
`;

let prometheusPython;
/** `text` parsed by prometheus_client's parser: [{family, type, name, labels, value}]. */
function parseMetrics(text) {
  prometheusPython ??= pythonWith('prometheus_client');
  assert.ok(prometheusPython, 'no python3 can import prometheus_client: install python3-prometheus-client (scripts/install-deps)');
  return JSON.parse(execFileSync(prometheusPython, ['-c', PARSE_METRICS], { input: text, encoding: 'utf8' }));
}

/** The samples named `name` whose labels include `labels`. */
const samplesOf = (samples, name, labels = {}) => samples.filter((s) =>
  s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));

/** The one sample named `name` with `labels`; fails unless there is exactly one. */
function sampleValue(samples, name, labels = {}) {
  const found = samplesOf(samples, name, labels).filter((s) =>
    Object.keys(s.labels).every((key) => key in labels));
  assert.equal(found.length, 1, `one sample ${name}${JSON.stringify(labels)}, found ${JSON.stringify(found)}`);
  return found[0].value;
}

/** The type the parser gave the family of sample `name`. */
function typeOf(samples, name) {
  const found = samples.find((s) => s.name === name);
  assert.ok(found, `no sample ${name}`);
  return found.type;
}

// ---- 1. probes ------------------------------------------------------------------------
test('probes: /healthz and /readyz are 200; with the SQLite file gone, /readyz is 503 with Retry-After and /healthz stays 200', async () => {
  const faultDb = join(dir, 'probes.db');
  seedDatabase(faultDb);
  await withServer([], { db: faultDb }, async (server) => {
    const health = await call(server.url, 'GET', '/healthz', { token: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });
    conforms('/healthz', 'GET', health);
    const ready = await call(server.url, 'GET', '/readyz', { token: null });
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.json, { status: 'ready' });
    conforms('/readyz', 'GET', ready);

    for (const suffix of ['', '-wal', '-shm']) rmSync(faultDb + suffix, { force: true });
    let unready;
    const became = await poll(async () => {
      unready = await call(server.url, 'GET', '/readyz', { token: null });
      return unready.status !== 200;
    }, 3000);
    assert.ok(became, '/readyz stayed 200 with the database file deleted');
    assert.equal(unready.status, 503, unready.text);
    assert.equal(unready.headers.get('retry-after'), '1');
    assert.deepEqual(unready.json, { status: 'unavailable' });
    conforms('/readyz', 'GET', unready);
    // Still not ready when asked again: the file is still gone.
    assert.equal((await call(server.url, 'GET', '/readyz', { token: null })).status, 503);
    // Liveness never asks the database: a restart would not bring the file back.
    const stillLive = await call(server.url, 'GET', '/healthz', { token: null });
    assert.equal(stillLive.status, 200);
    assert.deepEqual(stillLive.json, { status: 'ok' });
  });
});

// ---- 2. metrics -----------------------------------------------------------------------
test('/metrics: exact request counters by route, method and status, parsed by prometheus_client', async () => {
  await withServer([], {}, async (server) => {
    const { url } = server;
    for (let i = 0; i < 3; i++) assert.equal((await call(url, 'GET', ITEM)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await call(url, 'GET', `${COLLECTION}/${MISSING_ID}`)).status, 404);
    assert.equal((await call(url, 'GET', ITEM, { token: null })).status, 401);
    const created = await call(url, 'POST', COLLECTION, { body: { name: 'metrics', leadProviderCriteria: [] } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await call(url, 'GET', '/healthz', { token: null })).status, 200);

    const scrape = await call(url, 'GET', '/metrics', { token: null });
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(scrape.headers.get('content-type') ?? '', /version=0\.0\.4/);
    conforms('/metrics', 'GET', scrape);
    const samples = parseMetrics(scrape.text);

    // Requests: exactly what was sent, and not the scrape itself.
    assert.equal(typeOf(samples, 'icp_http_requests_total'), 'counter');
    const counted = {};
    for (const s of samplesOf(samples, 'icp_http_requests_total')) {
      assert.deepEqual(Object.keys(s.labels).sort(), ['method', 'route', 'status']);
      if (s.value !== 0) counted[`${s.labels.method} ${s.labels.route} ${s.labels.status}`] = s.value;
    }
    assert.deepEqual(counted, {
      [`GET ${ITEM_ROUTE} 200`]: 3,
      [`GET ${ITEM_ROUTE} 404`]: 2,
      [`GET ${ITEM_ROUTE} 401`]: 1,
      [`POST ${COLLECTION} 201`]: 1,
      'GET /healthz 200': 1,
    });

    // Latency: one observation per request, by route.
    assert.equal(typeOf(samples, 'icp_http_request_duration_seconds_count'), 'histogram');
    const histogram = 'icp_http_request_duration_seconds';
    assert.equal(sampleValue(samples, `${histogram}_count`, { route: ITEM_ROUTE }), 6);
    assert.equal(sampleValue(samples, `${histogram}_count`, { route: COLLECTION }), 1);
    assert.equal(sampleValue(samples, `${histogram}_count`, { route: '/healthz' }), 1);
    const scrapes = samplesOf(samples, `${histogram}_count`, { route: '/metrics' });
    assert.ok(scrapes.every((s) => s.value === 0), 'the scrape counts itself');
    const buckets = samplesOf(samples, `${histogram}_bucket`, { route: ITEM_ROUTE });
    assert.ok(buckets.length >= 2, 'the item route has buckets');
    const byBound = buckets.map((s) => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value])
      .sort((a, b) => a[0] - b[0]);
    assert.equal(byBound.at(-1)[0], Infinity, 'a +Inf bucket');
    assert.equal(byBound.at(-1)[1], 6, 'the +Inf bucket holds every request');
    for (let i = 1; i < byBound.length; i++) assert.ok(byBound[i][1] >= byBound[i - 1][1], 'buckets are cumulative');
    assert.ok(sampleValue(samples, `${histogram}_sum`, { route: ITEM_ROUTE }) > 0);

    // Connections: at least the scrape's own.
    assert.equal(typeOf(samples, 'icp_http_open_connections'), 'gauge');
    assert.ok(sampleValue(samples, 'icp_http_open_connections') >= 1);

    // Store calls: the three 200s each read the store.
    assert.equal(typeOf(samples, 'icp_store_calls_total'), 'counter');
    for (const s of samplesOf(samples, 'icp_store_calls_total')) {
      assert.ok(['get', 'list', 'write', 'erase', 'check_health'].includes(s.labels.operation), JSON.stringify(s));
      assert.match(s.labels.outcome, /^[a-z_]+$/);
    }
    assert.ok(sampleValue(samples, 'icp_store_calls_total', { operation: 'get', outcome: 'ok' }) >= 3);
    assert.ok(sampleValue(samples, 'icp_store_calls_total', { operation: 'write', outcome: 'ok' }) >= 1);

    // The pool (SQLite: waits and timeouts stay 0) and the log's drops.
    for (const gauge of ['icp_store_pool_capacity', 'icp_store_pool_open', 'icp_store_pool_in_use']) {
      assert.equal(typeOf(samples, gauge), 'gauge', gauge);
      assert.ok(sampleValue(samples, gauge) >= 0, gauge);
    }
    assert.equal(typeOf(samples, 'icp_store_pool_waits_total'), 'counter');
    assert.equal(sampleValue(samples, 'icp_store_pool_waits_total'), 0);
    assert.equal(typeOf(samples, 'icp_store_pool_timeouts_total'), 'counter');
    assert.equal(sampleValue(samples, 'icp_store_pool_timeouts_total'), 0);
    assert.equal(typeOf(samples, 'icp_access_log_dropped_lines_total'), 'counter');
    assert.equal(sampleValue(samples, 'icp_access_log_dropped_lines_total'), 0);

    // The next scrape counts the first one.
    const again = parseMetrics((await call(url, 'GET', '/metrics', { token: null })).text);
    assert.equal(sampleValue(again, 'icp_http_requests_total', { route: '/metrics', method: 'GET', status: '200' }), 1);
    assert.equal(sampleValue(again, 'icp_http_requests_total', { route: ITEM_ROUTE, method: 'GET', status: '200' }), 3);
  });
});

test('--metrics-listen: a second stdout line; /metrics only there (404 on the main listener)', async () => {
  await withServer(['--metrics-listen', '127.0.0.1:0'], {}, async (server) => {
    const announced = await poll(() => /^metrics on http:\/\/\S+$/m.test(server.stdout()), 5000);
    assert.ok(announced, `no "metrics on" line on stdout: ${JSON.stringify(server.stdout())}`);
    const lines = server.stdout().split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 2, server.stdout());
    assert.match(lines[0], /^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const metricsUrl = lines[1].match(/^metrics on (http:\/\/127\.0\.0\.1:\d+)$/)?.[1];
    assert.ok(metricsUrl, lines[1]);
    assert.notEqual(new URL(metricsUrl).port, new URL(server.url).port);

    // The main listener: the API and the probes, not the metrics.
    const hidden = await call(server.url, 'GET', '/metrics', { token: null });
    assert.equal(hidden.status, 404, hidden.text);
    assert.equal((await call(server.url, 'GET', ITEM)).status, 200);
    assert.equal((await call(server.url, 'GET', '/healthz', { token: null })).status, 200);

    // The metrics listener: /metrics and the probes, not the API.
    const scrape = await call(metricsUrl, 'GET', '/metrics', { token: null });
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal((await call(metricsUrl, 'GET', '/healthz', { token: null })).status, 200);
    assert.equal((await call(metricsUrl, 'GET', '/readyz', { token: null })).status, 200);
    assert.equal((await call(metricsUrl, 'GET', ITEM)).status, 404);
    assert.equal((await call(metricsUrl, 'GET', COLLECTION)).status, 404);

    // What the main listener served is what the metrics listener counts.
    const samples = parseMetrics(scrape.text);
    assert.equal(sampleValue(samples, 'icp_http_requests_total', { route: ITEM_ROUTE, method: 'GET', status: '200' }), 1);
    assert.equal(typeOf(samples, 'icp_http_open_connections'), 'gauge');
  });
});

// ---- 3. the access log and request ids ----------------------------------------------------
test('--log-format json: a JSON object per line, without query, token or user id', async () => {
  await withServer(['--log-format', 'json'], {}, async (server) => {
    const { url } = server;
    const sent = new Map();  // request id -> what the log must say
    const send = async (method, target, options = {}) => {
      const id = `json-${sent.size}`;
      const response = await call(url, method, target, { ...options, headers: { 'x-request-id': id } });
      assert.equal(response.headers.get('x-request-id'), id);
      sent.set(id, { method, path: target.split('?')[0], status: response.status, bytes: Buffer.byteLength(response.text) });
      return response;
    };
    const created = await send('POST', COLLECTION, {
      token: SECRET_TOKEN, body: { name: 'logged', userIds: [SECRET_OTHER_USER], leadProviderCriteria: [] },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal((await send('GET', `${COLLECTION}/${created.json.id}`, { token: SECRET_TOKEN })).status, 200);
    assert.equal((await send('GET', `${COLLECTION}?limit=1&cursor=x`, { token: SECRET_TOKEN })).status, 400);
    assert.equal((await send('GET', `${COLLECTION}?limit=1`, { token: SECRET_TOKEN })).status, 200);
    assert.equal((await send('GET', ITEM, { token: 'tok_not_a_token_secret_73b2' })).status, 401);
    assert.equal((await send('GET', ITEM, { token: SECRET_TOKEN })).status, 403);
    assert.equal((await send('GET', '/healthz', { token: null })).status, 200);
    // A request whose header cannot be parsed: method and path are "-".
    assert.equal((await exchange(url, 'NOT HTTP AT ALL\r\n\r\n')).status, 400);

    const parsed = () => logLines(server).map((line) => {
      try { return JSON.parse(line); } catch { return { unparsable: line }; }
    });
    await waitForLog(server, () => {
      const ids = new Set(parsed().map((entry) => entry.request_id));
      return [...sent.keys()].every((id) => ids.has(id)) &&
        parsed().some((entry) => entry.method === '-' && entry.status === 400);
    }, 'a line for every request');

    const entries = parsed();
    for (const entry of entries) {
      assert.equal(entry.unparsable, undefined, `a log line that is not JSON: ${entry.unparsable}`);
      assert.equal(typeof entry, 'object');
      assert.match(entry.time, TIME, JSON.stringify(entry));
      assert.ok(Number.isFinite(Date.parse(entry.time)), entry.time);
    }
    const requests = entries.filter((entry) => 'request_id' in entry);
    assert.equal(requests.length, sent.size + 1, JSON.stringify(requests));  // + the unparsable request
    for (const entry of requests) {
      assert.equal(typeof entry.request_id, 'string');
      assert.equal(typeof entry.method, 'string');
      assert.equal(typeof entry.path, 'string');
      assert.ok(Number.isInteger(entry.status), JSON.stringify(entry));
      assert.ok(Number.isInteger(entry.duration_us) && entry.duration_us >= 0, JSON.stringify(entry));
      assert.ok(Number.isInteger(entry.bytes) && entry.bytes >= 0, JSON.stringify(entry));
      assert.ok(!entry.path.includes('?'), `a path with its query: ${entry.path}`);
      const expected = sent.get(entry.request_id);
      if (expected) {
        assert.deepEqual({ method: entry.method, path: entry.path, status: entry.status, bytes: entry.bytes },
          expected, `the line of ${entry.request_id}`);
      } else {
        assert.match(entry.request_id, GENERATED_ID);
        assert.deepEqual({ method: entry.method, path: entry.path, status: entry.status }, { method: '-', path: '-', status: 400 });
      }
    }
    const log = server.log();
    for (const secret of [SECRET_TOKEN, 'tok_not_a_token_secret_73b2', SECRET_USER, SECRET_OTHER_USER, 'cursor', 'limit=']) {
      assert.ok(!log.includes(secret), `the log shows "${secret}":\n${log}`);
    }
  });
});

test('access log: 3 s of pipelined anonymous 404s with 16 KB paths, stderr on a file: every line written, long paths cut and marked', async (t) => {
  const logFile = join(dir, 'flood.log');
  await withServer([], { stderrFile: logFile }, async (server) => {
    const { hostname, port } = new URL(server.url);
    const path = `/flooded/${'p'.repeat(15_000)}`;
    const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const batch = Buffer.concat(Array.from({ length: 32 }, () => request));
    const marker = 'HTTP/1.1 404 ';
    const until = performance.now() + 3000;
    // Each client keeps 32 requests in flight and counts the 404s it gets.
    const flood = () => new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname);
      let sent = 0;
      let answered = 0;
      let tail = '';
      socket.on('error', reject);
      socket.on('connect', () => { socket.write(batch); sent += 32; });
      socket.on('data', (chunk) => {
        const text = tail + chunk.toString('latin1');
        answered += text.split(marker).length - 1;
        tail = text.slice(-(marker.length - 1));
        if (answered < sent) return;
        if (performance.now() < until) {
          socket.write(batch);
          sent += 32;
        } else {
          socket.destroy();
          resolve(answered);
        }
      });
    });
    const answered = (await Promise.all([flood(), flood(), flood(), flood()])).reduce((a, b) => a + b, 0);
    const scrape = await call(server.url, 'GET', '/metrics', { token: null });
    const dropped = sampleValue(parseMetrics(scrape.text), 'icp_access_log_dropped_lines_total');
    await shutdown(server);  // the log is complete once the server has exited
    const lines = readFileSync(logFile, 'latin1').split('\n').filter((line) => line.includes(' /flooded/'));
    t.diagnostic(`${answered} answered in 3 s, ${lines.length} logged, ${dropped} counted as dropped`);
    assert.equal(dropped, 0, 'no line is dropped while the output takes them');
    assert.ok(answered > 100, `only ${answered} requests were answered in 3 s`);
    assert.equal(lines.length, answered, `${answered} answered, ${lines.length} logged`);
    for (const line of lines) {
      assert.match(line, /^\S+Z \S+ GET \/flooded\/p+\.\.\.\[cut:15009B\] 404 \d+us \d+B$/, line.slice(0, 200));
      assert.ok(line.length < 1200, `a logged line of ${line.length} bytes`);
    }
    assert.doesNotMatch(readFileSync(logFile, 'latin1'), /dropped/);
  });
});

test('X-Request-Id: a well-formed one is echoed and logged; else a generated 32-hex id is', async () => {
  await withServer([], {}, async (server) => {
    const ask = (id, { path = ITEM, token = 'tok_alice' } = {}) =>
      exchange(server.url, rawRequest('GET', path, { token, headers: id === undefined ? [] : [['X-Request-Id', id]] }));
    const wellFormed = ['req-123.abc', 'AZaz09._:+/=-', 'r'.repeat(128), '7'];
    for (const id of wellFormed) {
      const response = await ask(id);
      assert.equal(response.status, 200, id);
      assert.equal(response.headers.get('x-request-id'), id);
    }
    // Echoed on every response: errors and the probes too.
    assert.equal((await ask('req-401', { token: null })).headers.get('x-request-id'), 'req-401');
    assert.equal((await ask('req-404', { path: `${COLLECTION}/${MISSING_ID}` })).headers.get('x-request-id'), 'req-404');
    assert.equal((await ask('req-health', { path: '/healthz', token: null })).headers.get('x-request-id'), 'req-health');

    const malformed = ['r'.repeat(129), 'x'.repeat(200), 'has space', 'quote"d', 'semi;colon', 'tab\there', 'comma,id'];
    const generated = [];
    for (const id of malformed) {
      const response = await ask(id);
      assert.equal(response.status, 200, JSON.stringify(id));
      const given = response.headers.get('x-request-id');
      assert.match(given ?? '', GENERATED_ID, `for ${JSON.stringify(id)}`);
      generated.push(given);
    }
    for (let i = 0; i < 2; i++) {
      const response = await ask(undefined);
      assert.match(response.headers.get('x-request-id') ?? '', GENERATED_ID, 'without X-Request-Id');
      generated.push(response.headers.get('x-request-id'));
    }
    assert.equal(new Set(generated).size, generated.length, `generated ids repeat: ${generated}`);

    // The log line of each request carries its id.
    const lineOf = (id) => new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z ${id.replace(/[^A-Za-z0-9]/g, '\\$&')} GET ${ITEM} 200 \\d+us \\d+B$`);
    await waitForLog(server, (lines) => [...wellFormed, ...generated].every((id) => lines.some((line) => lineOf(id).test(line))),
      'the lines of every request id');
    const log = server.log();
    for (const id of malformed) assert.ok(!log.includes(id), `the log shows the malformed id ${JSON.stringify(id)}`);
  });
});

// ---- 4. CORS ----------------------------------------------------------------------------
const APP = 'https://app.example';
const OTHER = 'https://other.example';
const EVIL = 'https://evil.example';
const corsNames = (response) => response.headers.names.filter((name) => name.startsWith('access-control-'));
const listOf = (value) => (value ?? '').split(',').map((part) => part.trim().toLowerCase()).filter(Boolean);
const preflight = (path, origin, method) => rawRequest('OPTIONS', path, {
  headers: [['Origin', origin], ['Access-Control-Request-Method', method],
    ['Access-Control-Request-Headers', 'authorization, content-type']],
});

function assertPreflightAllowed(response, origin, methods) {
  assert.equal(response.status, 204, response.text);
  assert.equal(response.headers.get('access-control-allow-origin'), origin);
  assert.equal(response.headers.get('access-control-allow-methods'), methods);
  assert.equal(response.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, If-Match, X-Request-Id');
  assert.equal(response.headers.get('access-control-max-age'), '600');
  assert.ok(listOf(response.headers.get('vary')).includes('origin'), `Vary: ${response.headers.get('vary')}`);
  assert.equal(response.text, '');
}

function assertShared(response, origin) {
  assert.equal(response.headers.get('access-control-allow-origin'), origin, `status ${response.status}`);
  const exposed = listOf(response.headers.get('access-control-expose-headers'));
  for (const name of ['etag', 'location', 'link', 'retry-after', 'x-request-id']) {
    assert.ok(exposed.includes(name), `Access-Control-Expose-Headers lacks ${name}: ${exposed}`);
  }
  assert.ok(listOf(response.headers.get('vary')).includes('origin'), `Vary: ${response.headers.get('vary')}`);
}

test('CORS: preflights and answers for the allowed origins; nothing for another one', async () => {
  await withServer(['--cors-origin', APP, '--cors-origin', OTHER], {}, async (server) => {
    const { url } = server;
    // Preflights need no token.
    assertPreflightAllowed(await exchange(url, preflight(COLLECTION, APP, 'POST')), APP, 'GET, HEAD, POST');
    assertPreflightAllowed(await exchange(url, preflight(ITEM, APP, 'PATCH')), APP, 'GET, HEAD, PATCH, DELETE');
    assertPreflightAllowed(await exchange(url, preflight(ITEM, OTHER, 'DELETE')), OTHER, 'GET, HEAD, PATCH, DELETE');

    const got = await exchange(url, rawRequest('GET', ITEM, { token: 'tok_alice', headers: [['Origin', APP]] }));
    assert.equal(got.status, 200);
    assertShared(got, APP);
    assert.ok(got.headers.get('etag'));
    const body = JSON.stringify({ name: 'cors', leadProviderCriteria: [] });
    const created = await exchange(url, rawRequest('POST', COLLECTION, { token: 'tok_alice', headers: [['Origin', OTHER]], body }));
    assert.equal(created.status, 201, created.text);
    assertShared(created, OTHER);
    // Errors too: a browser script must be able to read why.
    const anonymous = await exchange(url, rawRequest('GET', ITEM, { headers: [['Origin', APP]] }));
    assert.equal(anonymous.status, 401);
    assertShared(anonymous, APP);
    const missing = await exchange(url, rawRequest('GET', `${COLLECTION}/${MISSING_ID}`, { token: 'tok_alice', headers: [['Origin', APP]] }));
    assert.equal(missing.status, 404);
    assertShared(missing, APP);

    // Another origin (or a near miss of an allowed one), or none: no Access-Control-* at all.
    for (const origin of [EVIL, 'https://app.example:8443', 'http://app.example', 'https://app.example.evil.example', 'null']) {
      const refused = await exchange(url, preflight(COLLECTION, origin, 'POST'));
      assert.equal(refused.status, 405, `preflight from ${origin}: ${refused.text}`);
      assert.equal(refused.headers.get('allow'), 'GET, HEAD, POST');
      assert.deepEqual(corsNames(refused), [], `preflight from ${origin}`);
      const plain = await exchange(url, rawRequest('GET', ITEM, { token: 'tok_alice', headers: [['Origin', origin]] }));
      assert.equal(plain.status, 200);
      assert.deepEqual(corsNames(plain), [], `GET from ${origin}`);
    }
    const noOrigin = await exchange(url, rawRequest('GET', ITEM, { token: 'tok_alice' }));
    assert.equal(noOrigin.status, 200);
    assert.deepEqual(corsNames(noOrigin), []);
  });
});

test('CORS: without --cors-origin, OPTIONS is 405 and nothing is shared; ICP_CORS_ORIGIN is comma-separated; * allows any origin', async () => {
  await withServer([], {}, async (server) => {
    const refused = await exchange(server.url, preflight(ITEM, APP, 'GET'));
    assert.equal(refused.status, 405);
    assert.equal(refused.headers.get('allow'), 'GET, HEAD, PATCH, DELETE');
    assert.deepEqual(corsNames(refused), []);
    const got = await exchange(server.url, rawRequest('GET', ITEM, { token: 'tok_alice', headers: [['Origin', APP]] }));
    assert.equal(got.status, 200);
    assert.deepEqual(corsNames(got), []);
  });
  await withServer([], { env: { ICP_CORS_ORIGIN: `${APP},${OTHER}` } }, async (server) => {
    for (const origin of [APP, OTHER]) {
      assertPreflightAllowed(await exchange(server.url, preflight(COLLECTION, origin, 'POST')), origin, 'GET, HEAD, POST');
    }
    assert.equal((await exchange(server.url, preflight(COLLECTION, EVIL, 'POST'))).status, 405);
  });
  await withServer(['--cors-origin', '*'], {}, async (server) => {
    assertPreflightAllowed(await exchange(server.url, preflight(ITEM, EVIL, 'GET')), EVIL, 'GET, HEAD, PATCH, DELETE');
    const got = await exchange(server.url, rawRequest('GET', ITEM, { token: 'tok_alice', headers: [['Origin', EVIL]] }));
    assert.equal(got.status, 200);
    assertShared(got, EVIL);
  });
});

test('--cors-origin: an origin a browser can never send exits 2 with the rule; real origins start', async () => {
  const valid = { ICP_DB: db, ICP_TOKENS: tokensFile, ICP_LISTEN: '127.0.0.1:0', ICP_THREADS: '1' };
  const run = (origin) => spawnSync(SERVER, ['--cors-origin', origin], {
    env: cleanEnv(valid), encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL',
  });
  for (const origin of ['https://app.example/', 'https://app.example/path', 'https://', 'https://user@app.example',
    'https://user:pw@app.example', 'https://app.example:99999', 'https://app.example:0', 'https://app.example:',
    'https://*.example', '*.example', 'https://App.Example', 'HTTPS://app.example', 'https://app.example?x=1',
    'https://app.example#top', 'https://app.example:443', 'http://app.example:80', 'file:///tmp/page.html',
    'http://0x7f000001', 'http://127.1', 'http://[0:0::1]',
    'app.example', 'null', '', 'https://app example', 'https://[::1', 'https://app.example:08080']) {
    const refused = run(origin);
    assert.equal(refused.status, 2, `--cors-origin ${JSON.stringify(origin)}: exit ${refused.status ?? refused.signal} ${refused.stderr}${refused.stdout}`);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /^icp-server: --cors-origin .*scheme:\/\/host\[:port\]/, `${JSON.stringify(origin)}: the rule is given`);
  }
  for (const origin of ['https://app.example', 'http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080',
    'https://xn--bcher-kva.example', 'chrome-extension://abcdefghijklmnop', '*']) {
    await runThenStop(await spawnServer(['--cors-origin', origin], cleanEnv(valid)), async (server) => {
      assert.equal((await call(server.url, 'GET', '/healthz', { token: null })).status, 200, origin);
    });
  }
  // A list in the environment may have spaces after its commas.
  const spaced = cleanEnv({ ...valid, ICP_CORS_ORIGIN: 'https://a.example, https://b.example' });
  await runThenStop(await spawnServer([], spaced), async (server) => {
    assertPreflightAllowed(await exchange(server.url, preflight(ITEM, 'https://b.example', 'GET')),
      'https://b.example', 'GET, HEAD, PATCH, DELETE');
  });
});

// ---- 5. configuration ----------------------------------------------------------------------
/** A POST body of exactly `size` bytes. */
function bodyOf(size) {
  const shell = JSON.stringify({ name: 'sized', leadProviderCriteria: [], description: '' });
  return shell.replace('"description":""', `"description":"${'d'.repeat(size - shell.length)}"`);
}

test('environment: a server configured only by ICP_* variables serves; a flag wins over its variable', async () => {
  const env = cleanEnv({
    ICP_DB: db, ICP_TOKENS: tokensFile, ICP_LISTEN: '127.0.0.1:0', ICP_THREADS: '2', ICP_CONCEAL_EXISTENCE: 'true',
  });
  await runThenStop(await spawnServer([], env), async (server) => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const got = await call(server.url, 'GET', ITEM);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.id, EXAMPLE_ID);
    assert.equal((await call(server.url, 'GET', ITEM, { token: 'tok_carol' })).status, 404, 'ICP_CONCEAL_EXISTENCE=true conceals');
  });

  const body = bodyOf(200);
  assert.equal(Buffer.byteLength(body), 200);
  const post = rawRequest('POST', COLLECTION, { token: 'tok_alice', body });
  const small = { ICP_MAX_BODY_BYTES: '100', ICP_LOG_FORMAT: 'json' };
  await withServer([], { env: small }, async (server) => {
    const refused = await exchange(server.url, post);
    assert.equal(refused.status, 413, `ICP_MAX_BODY_BYTES=100, a 200-byte body: ${refused.text}`);
    assert.equal(refused.json?.error?.code, 'PAYLOAD_TOO_LARGE');
    // ICP_LOG_FORMAT=json alone: JSON lines.
    await waitForLog(server, (lines) => lines.some((line) => line.startsWith('{') && line.includes('"status":413')), 'a JSON line');
  });
  await withServer(['--max-body-bytes', '100000', '--log-format', 'text'], { env: small }, async (server) => {
    const created = await exchange(server.url, post);
    assert.equal(created.status, 201, `--max-body-bytes 100000 over ICP_MAX_BODY_BYTES=100: ${created.text}`);
    // --log-format text over ICP_LOG_FORMAT=json.
    await waitForLog(server, (lines) => lines.some((line) => new RegExp(`^\\S+Z \\S+ POST ${COLLECTION} 201 \\d+us \\d+B$`).test(line)),
      'a text line for the POST');
    assert.ok(logLines(server).every((line) => !line.startsWith('{')), server.log());
  });
});

test('--help names every variable, --version the version (exit 0); a bad value in a variable exits 2', () => {
  const run = (args, env = cleanEnv()) => spawnSync(SERVER, args, { env, encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  const help = run(['--help']);
  assert.equal(help.status, 0, help.stderr);
  for (const name of ENV_NAMES) assert.ok(help.stdout.includes(name), `--help does not mention ${name}`);

  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  const number = version.stdout.match(/^icp-server (\d+\.\d+\.\d+\S*)\n$/)?.[1];
  assert.ok(number, `--version printed ${JSON.stringify(version.stdout)}`);
  const ctl = spawnSync(ICPCTL, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(ctl.status, 0, ctl.stderr);
  assert.equal(ctl.stdout, `icpctl ${number}\n`, 'icpctl and icp-server have one version');

  const valid = { ICP_DB: db, ICP_TOKENS: tokensFile, ICP_LISTEN: '127.0.0.1:0', ICP_THREADS: '1' };
  for (const [name, value] of [['ICP_THREADS', 'zero'], ['ICP_THREADS', '0'], ['ICP_LOG_FORMAT', 'xml'],
    ['ICP_MAX_BODY_BYTES', 'lots'], ['ICP_LISTEN', 'nowhere'], ['ICP_METRICS_LISTEN', 'nowhere'],
    ['ICP_REQUEST_TIMEOUT', '-1'], ['ICP_CONCEAL_EXISTENCE', 'perhaps']]) {
    const bad = run([], cleanEnv({ ...valid, [name]: value }));
    assert.equal(bad.status, 2, `${name}=${value}: exit ${bad.status ?? bad.signal} ${bad.stderr}${bad.stdout}`);
    assert.equal(bad.stderr.trim().split('\n').length, 1, `${name}=${value}: ${bad.stderr}`);
    assert.match(bad.stderr, /^icp-server: /, `${name}=${value}`);
  }
});

// ---- 6. SIGHUP ----------------------------------------------------------------------------
test('SIGHUP re-reads the tokens file without dropping connections; a bad file keeps the tokens in use', async () => {
  const file = join(dir, 'reloaded-tokens.json');
  writeFileSync(file, JSON.stringify({ tok_a: { userId: 'user_abc123' } }));
  await withServer([], { tokens: file }, async (server) => {
    const getAs = (token) => call(server.url, 'GET', ITEM, { token });
    const countOf = (text) => logLines(server).filter((line) => line.includes(text)).length;
    // A keep-alive connection that lives across the reloads.
    const kept = await RawConnection.open(server.url);
    const onKept = (token) => kept.request(rawRequest('GET', ITEM, { token }));
    assert.equal((await onKept('tok_a')).status, 200);
    assert.equal((await getAs('tok_b')).status, 401);

    writeFileSync(file, JSON.stringify({ tok_a: { userId: 'user_abc123' }, tok_b: { userId: 'user_def456' } }));
    process.kill(server.pid, 'SIGHUP');
    assert.ok(await poll(async () => (await getAs('tok_b')).status === 200, 3000), 'tok_b is not accepted 3 s after SIGHUP');
    await waitForLog(server, () => countOf('tokens reloaded') === 1, '"tokens reloaded"');
    assert.equal((await onKept('tok_b')).status, 200, 'the kept connection uses the new tokens');
    assert.equal((await onKept('tok_a')).status, 200);
    assert.equal(kept.closed, false, 'the reload closed a connection');

    writeFileSync(file, '{not json');
    process.kill(server.pid, 'SIGHUP');
    await waitForLog(server, () => countOf('kept the previous tokens') === 1, '"kept the previous tokens"');
    assert.equal((await getAs('tok_b')).status, 200, 'the bad file replaced the tokens');
    assert.equal((await onKept('tok_b')).status, 200);
    assert.equal(countOf('tokens reloaded'), 1, 'a bad file is not reported as reloaded');

    // A token left out of the file is refused after the next reload.
    writeFileSync(file, JSON.stringify({ tok_b: { userId: 'user_def456' } }));
    process.kill(server.pid, 'SIGHUP');
    await waitForLog(server, () => countOf('tokens reloaded') === 2, 'the second "tokens reloaded"');
    assert.equal((await getAs('tok_a')).status, 401, 'a token removed from the file still works');
    assert.equal((await onKept('tok_a')).status, 401);
    assert.equal((await onKept('tok_b')).status, 200);
    assert.equal(kept.closed, false, 'the reload closed a connection');
    kept.close();
    assert.equal(server.child.exitCode, null, 'SIGHUP stopped the server');
    assert.equal(server.child.signalCode, null, 'SIGHUP stopped the server');
  });
});

// ---- 7. a database a retry may find free again ------------------------------------------------
test('SQLite locked by another process past the busy timeout: 503 UNAVAILABLE with Retry-After, then 201 once free', async (t) => {
  const python = pythonWith('sqlite3');
  if (!python) {
    t.skip('no python3 with sqlite3');
    return;
  }
  const lockedDb = join(dir, 'locked.db');
  seedDatabase(lockedDb);
  await withServer([], { db: lockedDb }, async (server) => {
    const create = () => call(server.url, 'POST', COLLECTION, { body: { name: 'locked', leadProviderCriteria: [] } });
    assert.equal((await create()).status, 201, 'a create works before the lock');
    // Another process holds the write lock until its stdin closes.
    const holder = spawn(python, ['-c',
      'import sqlite3, sys\n' +
      'c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n' +
      'c.execute("BEGIN EXCLUSIVE")\n' +
      'print("locked", flush=True)\n' +
      'sys.stdin.read()\n' +
      'c.execute("ROLLBACK")\n', lockedDb], { stdio: ['pipe', 'pipe', 'pipe'] });
    const released = new Promise((resolve) => holder.on('exit', resolve));
    holder.stdin.on('error', () => {});  // EPIPE if it has already exited
    try {
      let out = '';
      let err = '';
      holder.stdout.on('data', (chunk) => { out += chunk; });
      holder.stderr.on('data', (chunk) => { err += chunk; });
      await poll(() => out.includes('locked') || holder.exitCode !== null, 10_000);
      assert.ok(out.includes('locked'), `the lock was not taken: ${err}`);
      const refused = await create();
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(refused.json?.error?.code, 'UNAVAILABLE');
      conforms(COLLECTION, 'POST', refused);
      // The client gets a generic message; the store's reason is in the log.
      assert.ok(!/sqlite|locked|busy/i.test(refused.json.error.message), refused.text);
      await poll(() => /503 UNAVAILABLE: SQLite store/.test(server.log()), 5_000);
      assert.match(server.log(), /503 UNAVAILABLE: SQLite store/);
    } finally {
      holder.stdin.end();
      await released;
    }
    const created = await create();
    assert.equal(created.status, 201, `after the lock is released: ${created.text}`);
  });
});
