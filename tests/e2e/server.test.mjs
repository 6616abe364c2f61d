// End-to-end: icp-server on a free port with a temporary database, driven
// by a real HTTP client (Node's fetch, and raw sockets where fetch would tidy
// the request), every response checked against docs/openapi.yaml.
//
//   ICP_SERVER=.../icp-server ICPCTL=.../icpctl node --test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { once } from 'node:events';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startServer as startIcpServer, stopServer } from './icp_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = process.env.ICP_SERVER;
const ICPCTL = process.env.ICPCTL;
assert.ok(SERVER && ICPCTL, 'set ICP_SERVER and ICPCTL to the built binaries');

const EXAMPLE_ID = '550e8400-e29b-41d4-a716-446655440000';
const COLLECTION = '/api/v1/entities/icps';
const ITEM = `${COLLECTION}/${EXAMPLE_ID}`;
const TOKENS = {
  tok_alice: { userId: 'user_abc123', admin: false },
  tok_bob: { userId: 'user_def456' },
  tok_carol: { userId: 'user_000001' },
  tok_admin: { userId: 'user_admin', admin: true },
};

// ---- the OpenAPI description as a validator -----------------------------------
const openapi = YAML.parse(readFileSync(join(here, '../../docs/openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...openapi, $id: 'https://icp.example/openapi' });
const resolve = (node) => {
  while (node && node.$ref) {
    node = node.$ref.slice(2).split('/').reduce((n, key) => n[key], openapi);
  }
  return node;
};
const validators = new Map();
function schemaValidator(pointer) {
  if (!validators.has(pointer)) {
    validators.set(pointer, ajv.getSchema(`https://icp.example/openapi#${pointer}`));
  }
  return validators.get(pointer);
}

/** Fails unless `response` is what the OpenAPI description says for this operation and status. */
function conforms(template, method, response) {
  const operation = openapi.paths[template][method.toLowerCase()];
  assert.ok(operation, `${method} ${template} is not documented`);
  const documented = resolve(operation.responses[String(response.status)]);
  assert.ok(documented, `${method} ${template} does not document status ${response.status}`);
  if (!documented.content) {
    assert.equal(response.text, '', `status ${response.status} has no body`);
    return;
  }
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const status = String(response.status);
  const direct = operation.responses[status].$ref;
  const pointer = direct
    ? `${direct.slice(1)}/content/application~1json/schema`
    : `/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  const validate = schemaValidator(pointer);
  assert.ok(validate, `no schema at ${pointer}`);
  assert.ok(validate(response.json), `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)}\n${response.text}`);
  for (const [name, header] of Object.entries(documented.headers ?? {})) {
    if (name === 'Link' || name === 'WWW-Authenticate') continue;  // optional or checked below
    assert.ok(response.headers.get(name), `${status} needs header ${name}`);
  }
}

// ---- the server ---------------------------------------------------------------------
let dir;
let server;
let base;

/**
 * This file's server: the temporary database and tokens, and `extraArgs`. One
 * I/O thread, whose connections run without strands (the other suites run
 * two, with a strand each).
 */
const startServer = (extraArgs = []) =>
  startIcpServer(SERVER, ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'tokens.json'), ...extraArgs],
    { threads: 1 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'icp-e2e-'));
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(TOKENS));
  execFileSync(ICPCTL, ['--db', join(dir, 'icps.db'), 'put', join(here, '../../examples/spec-example.json')]);
  server = await startServer();
  base = server.url;
});

after(async () => {
  if (server) assert.equal(await stopServer(server), 0, 'icp-server exits 0 on SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function call(method, path, { token = 'tok_alice', body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: response.status, headers: response.headers, text, json };
}

/** Sends `request` as written on one connection and returns everything read until close. */
async function raw(request) {
  const { port, hostname } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk) => { received += chunk; });
  const closed = new Promise((resolveClose) => socket.on('close', resolveClose));
  socket.on('error', () => {});  // a reset after an early answer (413) is expected
  socket.write(request, () => {});
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  socket.destroy();
  return received;
}

const statusOf = (rawResponse) => Number(rawResponse.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);

// ---- Get -------------------------------------------------------------------------
test('GET: members and admins get the ICP exactly', async () => {
  const expected = JSON.parse(readFileSync(join(here, '../../examples/spec-example.json'), 'utf8'));
  for (const token of ['tok_alice', 'tok_bob', 'tok_admin']) {
    const response = await call('GET', ITEM, { token });
    assert.equal(response.status, 200);
    conforms('/api/v1/entities/icps/{id}', 'GET', response);
    assert.equal(response.text, JSON.stringify(expected));
    assert.match(response.headers.get('etag'), /^"[0-9a-f]{16}"$/);
  }
});

test('GET: the spec\'s errors, each with its body', async () => {
  const template = '/api/v1/entities/icps/{id}';
  const stranger = await call('GET', ITEM, { token: 'tok_carol' });
  assert.equal(stranger.status, 403);
  assert.deepEqual(stranger.json, { error: { code: 'FORBIDDEN', message: 'You do not have access to this ICP' } });
  conforms(template, 'GET', stranger);

  const anonymous = await call('GET', ITEM, { token: null });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
  assert.equal(anonymous.json.error.code, 'UNAUTHORIZED');
  conforms(template, 'GET', anonymous);

  const missing = await call('GET', `${COLLECTION}/00000000-0000-4000-8000-000000000000`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.message, 'ICP not found: 00000000-0000-4000-8000-000000000000');
  conforms(template, 'GET', missing);
  assert.equal((await call('GET', `${COLLECTION}/not-a-uuid`)).status, 404);
  assert.equal((await call('GET', `${COLLECTION}/00000000-0000-4000-8000-000000000000`, { token: null })).status, 401);
});

test('GET: header and path edge cases', async () => {
  const lower = await fetch(base + ITEM, { headers: { authorization: 'bearer tok_alice' } });
  assert.equal(lower.status, 200);
  const noScheme = await fetch(base + ITEM, { headers: { authorization: 'tok_alice' } });
  assert.equal(noScheme.status, 401);
  const basic = await fetch(base + ITEM, { headers: { authorization: 'Basic dG9rX2FsaWNlOg==' } });
  assert.equal(basic.status, 401);
  const two = await raw(`GET ${ITEM} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok_alice\r\n` +
    'Authorization: Bearer tok_alice\r\nConnection: close\r\n\r\n');
  assert.equal(statusOf(two), 401);
  assert.match(two, /WWW-Authenticate: Bearer/i);
  const encoded = await call('GET', `${COLLECTION}/550e8400%2De29b%2D41d4%2Da716%2D446655440000`);
  assert.equal(encoded.status, 200);
  assert.equal((await call('GET', `${ITEM}/`)).status, 200);
  assert.equal((await call('GET', ITEM.toUpperCase().replace('/API/V1/ENTITIES/ICPS', COLLECTION))).status, 200);
  assert.equal((await call('GET', `${ITEM}%2Fextra`)).status, 404);
  assert.equal((await call('GET', '/api/v1/entities/nothing')).status, 404);
  const wrong = await call('PUT', ITEM, { body: {} });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET, HEAD, PATCH, DELETE');
  assert.equal((await call('DELETE', COLLECTION)).headers.get('allow'), 'GET, HEAD, POST');
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
});

// ---- Create, Update, Delete ---------------------------------------------------------------
test('POST, PATCH with If-Match, DELETE: the whole lifecycle', async () => {
  const created = await call('POST', COLLECTION, { token: 'tok_carol', body: { name: 'E2E', leadProviderCriteria: [] } });
  assert.equal(created.status, 201);
  conforms('/api/v1/entities/icps', 'POST', created);
  const location = created.headers.get('location');
  assert.equal(location, `${COLLECTION}/${created.json.id}`);
  assert.deepEqual(created.json.userIds, ['user_000001']);
  const template = '/api/v1/entities/icps/{id}';

  const read = await call('GET', location, { token: 'tok_carol' });
  assert.equal(read.headers.get('etag'), created.headers.get('etag'));
  const patched = await call('PATCH', location, {
    token: 'tok_carol', body: { description: 'changed', userIds: ['user_000001', 'user_abc123'] },
    headers: { 'if-match': read.headers.get('etag') },
  });
  assert.equal(patched.status, 200);
  conforms(template, 'PATCH', patched);
  assert.equal(patched.json.description, 'changed');
  assert.notEqual(patched.headers.get('etag'), read.headers.get('etag'));

  const stale = await call('PATCH', location, { token: 'tok_carol', body: { name: 'x' }, headers: { 'if-match': read.headers.get('etag') } });
  assert.equal(stale.status, 412);
  conforms(template, 'PATCH', stale);
  const stranger = await call('PATCH', location, { token: 'tok_bob', body: '{broken' });
  assert.equal(stranger.status, 403);
  const invalid = await call('PATCH', location, { token: 'tok_alice', body: { leadsPerList: 0, bogus: 1 } });
  assert.equal(invalid.status, 400);
  conforms(template, 'PATCH', invalid);
  assert.deepEqual(invalid.json.error.details.map((d) => d.path), ['leadsPerList', 'bogus']);

  const deleted = await call('DELETE', location, { token: 'tok_alice', headers: { 'if-match': patched.headers.get('etag') } });
  assert.equal(deleted.status, 204);
  conforms(template, 'DELETE', deleted);
  const gone = await call('DELETE', location, { token: 'tok_alice' });
  assert.equal(gone.status, 404);
  conforms(template, 'DELETE', gone);
});

test('POST: every validation problem is listed; bodies must be JSON and bounded', async () => {
  const invalid = await call('POST', COLLECTION, { body: { id: EXAMPLE_ID, name: '', colour: 'red' } });
  assert.equal(invalid.status, 400);
  conforms('/api/v1/entities/icps', 'POST', invalid);
  assert.deepEqual(invalid.json.error.details, [
    { path: 'id', message: 'is set by the server' },
    { path: 'name', message: 'must not be empty' },
    { path: 'colour', message: 'unknown field' },
    { path: 'leadProviderCriteria', message: 'is required' },
  ]);
  const malformed = await call('POST', COLLECTION, { body: '{"name": ' });
  assert.equal(malformed.status, 400);
  conforms('/api/v1/entities/icps', 'POST', malformed);
  const text = await call('POST', COLLECTION, { body: 'name=x', headers: { 'content-type': 'text/plain' } });
  assert.equal(text.status, 415);
  conforms('/api/v1/entities/icps', 'POST', text);

  const huge = 'x'.repeat(10 * 1024 * 1024);
  const tooBig = await raw(`POST ${COLLECTION} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok_alice\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${huge.length + 11}\r\n\r\n{"name":"${huge}"}`);
  assert.equal(statusOf(tooBig), 413);
  assert.match(tooBig, /PAYLOAD_TOO_LARGE/);
});

// ---- List ----------------------------------------------------------------------
test('GET list: pages by Link rel=next, neither skipping nor repeating', async () => {
  const ids = [];
  for (let i = 0; i < 7; i++) {
    const created = await call('POST', COLLECTION, { token: 'tok_bob', body: { name: `P${i}`, leadProviderCriteria: [] } });
    ids.push(created.json.id);
  }
  const seen = [];
  let next = `${COLLECTION}?limit=3`;
  while (next) {
    const page = await call('GET', next, { token: 'tok_bob' });
    assert.equal(page.status, 200);
    conforms('/api/v1/entities/icps', 'GET', page);
    assert.ok(page.json.length <= 3);
    seen.push(...page.json.map((icp) => icp.id));
    const link = page.headers.get('link');
    next = link ? link.match(/^<([^>]+)>; rel="next"$/)[1] : null;
  }
  assert.equal(new Set(seen).size, seen.length);
  for (const id of ids) assert.ok(seen.includes(id));
  assert.equal(seen.at(-1), EXAMPLE_ID);  // the oldest comes last

  const all = await call('GET', `${COLLECTION}?scope=all&limit=500`, { token: 'tok_admin' });
  assert.equal(all.status, 200);
  const notAdmin = await call('GET', `${COLLECTION}?scope=all`, { token: 'tok_bob' });
  assert.equal(notAdmin.status, 403);
  conforms('/api/v1/entities/icps', 'GET', notAdmin);
  for (const query of ['?limit=0', '?limit=abc', '?cursor=nope', '?scope=x', '?sort=name']) {
    const bad = await call('GET', COLLECTION + query);
    assert.equal(bad.status, 400, query);
    conforms('/api/v1/entities/icps', 'GET', bad);
  }
});

// ---- the connection ----------------------------------------------------------------
test('pipelined requests on one connection are answered in order', async () => {
  const request = (token) => `GET ${ITEM} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
  const answers = await raw(request('tok_alice') + request('tok_carol') +
    `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  // Bodies end without a newline, so the next status line follows right after.
  const statuses = [...answers.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 403, 200]);
});

test('HEAD is GET without the body (RFC 9110 9.3.2), also pipelined', async () => {
  const get = await call('GET', ITEM);
  const head = (target) => `HEAD ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok_alice\r\n\r\n`;
  const answers = await raw(head(ITEM) + head(COLLECTION) + head('/healthz') +
    `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const parts = answers.split(/(?=HTTP\/1\.1 )/);
  assert.equal(parts.length, 4, answers);
  const [item, collection, health, last] = parts;
  assert.match(item, /^HTTP\/1\.1 200 /);
  assert.match(item, new RegExp(`\r\nContent-Length: ${Buffer.byteLength(get.text)}\r\n`, 'i'));
  assert.match(item, new RegExp(`\r\nETag: ${get.headers.get('etag').replace(/"/g, '\\"')}\r\n`, 'i'));
  assert.ok(item.endsWith('\r\n\r\n'), 'no body after the header');
  assert.match(collection, /^HTTP\/1\.1 200 /);
  assert.ok(collection.endsWith('\r\n\r\n'));
  assert.match(health, /^HTTP\/1\.1 200 /);
  assert.ok(health.endsWith('\r\n\r\n'));
  assert.match(last, /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}$/);
});

test('malformed HTTP is 400, oversized headers 431', async () => {
  assert.equal(statusOf(await raw('NOT HTTP AT ALL\r\n\r\n')), 400);
  const bigHeader = await raw(`GET ${ITEM} HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20000)}\r\n\r\n`);
  assert.equal(statusOf(bigHeader), 431);
});

test('concurrent clients all get their answers', async () => {
  const clients = Array.from({ length: 16 }, async (_, client) => {
    const statuses = [];
    for (let i = 0; i < 40; i++) {
      const token = ['tok_alice', 'tok_carol', 'tok_admin'][(client + i) % 3];
      statuses.push((await call('GET', ITEM, { token })).status);
      if (i % 10 === 0) {
        statuses.push((await call('POST', COLLECTION, { token, body: { name: `C${client}`, leadProviderCriteria: [] } })).status);
      }
    }
    return statuses;
  });
  const all = (await Promise.all(clients)).flat();
  const counts = all.reduce((c, s) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {});
  assert.deepEqual(Object.keys(counts).sort(), ['200', '201', '403']);
  assert.equal(counts[201], 16 * 4);
});

test('the access log has a line per request: time, id, method, path, status, microseconds, bytes', async () => {
  await call('GET', ITEM);
  await new Promise((r) => setTimeout(r, 200));  // the log is written in batches
  assert.match(server.log(),
    new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z [0-9a-f]{32} GET ${ITEM} 200 \\d+us \\d+B$`, 'm'));
});

test('bad flags or an unusable database: one line, exit 2', () => {
  const run = (args) => {
    try {
      execFileSync(SERVER, args, { stdio: 'pipe' });
      return { status: 0 };
    } catch (e) {
      return { status: e.status, stderr: String(e.stderr) };
    }
  };
  for (const args of [['--bogus'], ['--db'], ['--tokens', join(dir, 'tokens.json')],
    ['--db', join(dir, 'nope.db'), '--tokens', join(dir, 'tokens.json')],
    ['--db', join(dir, 'tokens.json'), '--tokens', join(dir, 'tokens.json')],
    ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'missing.json')],
    ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'tokens.json'), '--listen', 'nowhere'],
    ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'tokens.json'), '--threads', '0'],
    ['--db', join(dir, 'icps.db')],
    ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'tokens.json'), '--clerk-jwt-key', join(dir, 'tokens.json')],
    ['--db', join(dir, 'icps.db'), '--clerk-jwt-key', join(dir, 'missing.pem')],
    ['--db', join(dir, 'icps.db'), '--clerk-jwt-key', join(dir, 'tokens.json')],
    ['--db', join(dir, 'icps.db'), '--clerk-jwt-key', 'env:ICP_E2E_UNSET_VARIABLE'],
    ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'tokens.json'), '--clerk-admin-claim', 'o.rol=admin'],
    ['--db', join(dir, 'icps.db'), '--tokens', join(dir, 'tokens.json'), '--clerk-authorized-party', 'https://a.example'],
    ['--db', join(dir, 'icps.db'), '--clerk-jwt-key', join(dir, 'tokens.json'), '--clerk-admin-claim', 'nonsense']]) {
    const result = run(args);
    assert.equal(result.status, 2, args.join(' '));
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^icp-server: /);
  }
});

test('SIGTERM lets a request in flight finish, then exits 0', async () => {
  const second = await startServer(['--conceal-existence']);
  const previous = base;
  base = second.url;
  try {
    assert.equal((await call('GET', ITEM, { token: 'tok_carol' })).status, 404);  // concealed
    // A slow client: the request is sent in two parts, the server is stopped in between.
    const { port, hostname } = new URL(base);
    const socket = net.connect(Number(port), hostname);
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk) => { received += chunk; });
    const body = JSON.stringify({ name: 'in flight', leadProviderCriteria: [] });
    socket.write(`POST ${COLLECTION} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok_alice\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 100));
    // Listen before the signal: the server may exit while this test awaits the socket.
    const exited = once(second.child, 'exit');
    second.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body.slice(5));
    await once(socket, 'close');
    assert.equal(statusOf(received), 201);
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    base = previous;
  }
});
