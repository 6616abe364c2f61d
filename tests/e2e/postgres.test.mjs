// End-to-end: two icp-server processes on one PostgreSQL database, the way
// several app servers share it. Concurrent PATCHes with one If-Match must
// produce exactly one 200; read-modify-write loops across both must lose
// nothing. A database that stops mid-run makes both answer 503 (never 500)
// until it is back, when they serve again without a restart.
//
//   ICP_SERVER=... ICPCTL=... ICP_TEST_POSTGRES=postgresql://... node --test
// Without ICP_TEST_POSTGRES the test is skipped, unless ICP_TEST_REQUIRE_POSTGRES=1.
// The stop test also needs ICP_TEST_POSTGRES_STOP and ICP_TEST_POSTGRES_START
// (shell commands; scripts/with-postgres sets both).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, startServer as startIcpServer, stopServer } from './icp_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { ICP_SERVER: SERVER, ICPCTL, ICP_TEST_POSTGRES: SERVER_URL } = process.env;
assert.ok(SERVER && ICPCTL, 'set ICP_SERVER and ICPCTL to the built binaries');
const required = process.env.ICP_TEST_REQUIRE_POSTGRES === '1';
assert.ok(SERVER_URL || !required, 'ICP_TEST_REQUIRE_POSTGRES=1 but ICP_TEST_POSTGRES is not set');
const skip = SERVER_URL ? false : 'ICP_TEST_POSTGRES is not set (see scripts/with-postgres)';
const { ICP_TEST_POSTGRES_STOP: STOP, ICP_TEST_POSTGRES_START: START } = process.env;
const skipStop = skip || (STOP && START ? false
  : 'ICP_TEST_POSTGRES_STOP and ICP_TEST_POSTGRES_START are not set (see scripts/with-postgres)');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const EXAMPLE_ID = '550e8400-e29b-41d4-a716-446655440000';
const ITEM = `/api/v1/entities/icps/${EXAMPLE_ID}`;
const ALICE = { authorization: 'Bearer tok_alice' };

/** `url` with one more libpq parameter, in URL or conninfo form. */
function withParameter(url, key, value) {
  if (/^postgres(ql)?:\/\//.test(url)) return `${url}${url.includes('?') ? '&' : '?'}${key}=${value}`;
  return `${url} ${key}=${value}`;
}

const database = `icp_e2e_${process.pid}`;
let dir;
let dbUrl;
const servers = [];

function psql(sql) {
  execFileSync('psql', [SERVER_URL, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'pipe' });
}

/** The rows of a query as the superuser, one string per row. */
function psqlRows(sql) {
  return execFileSync('psql', [SERVER_URL, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' })
    .split('\n').filter(Boolean);
}

/** Waits up to 10 s for `predicate()` to hold; returns whether it did. */
async function eventually(predicate) {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
    if (await predicate()) return true;
  }
  return false;
}

const startServer = () => startIcpServer(SERVER, ['--db', dbUrl, '--tokens', join(dir, 'tokens.json')]);

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'icp-e2e-pg-'));
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tok_alice: { userId: 'user_abc123' } }));
  psql(`DROP DATABASE IF EXISTS ${database}`);
  psql(`CREATE DATABASE ${database}`);
  dbUrl = withParameter(SERVER_URL, 'dbname', database);
  execFileSync(ICPCTL, ['--db', dbUrl, 'put', join(here, '../../examples/spec-example.json')]);
  // Two servers start at once: both migrate-or-find the schema.
  servers.push(...await Promise.all([startServer(), startServer()]));
});

after(async () => {
  for (const server of servers) assert.equal(await stopServer(server), 0);
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!skip) psql(`DROP DATABASE IF EXISTS ${database}`);
});

test('a write through one server is read through the other', { skip }, async () => {
  const created = await call(servers[0], 'POST', '/api/v1/entities/icps', { body: { name: 'shared', leadProviderCriteria: [] } });
  assert.equal(created.status, 201);
  const read = await call(servers[1], 'GET', `/api/v1/entities/icps/${created.json.id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.json, created.json);
  assert.equal(read.etag, created.etag);
});

test('concurrent PATCHes with one If-Match: exactly one 200, the rest 412', { skip }, async () => {
  const { etag } = await call(servers[0], 'GET', ITEM);
  const attempts = Array.from({ length: 24 }, (_, i) =>
    call(servers[i % 2], 'PATCH', ITEM, { headers: { 'if-match': etag }, body: { leadsPerList: 100 + i } }));
  const results = await Promise.all(attempts);
  const winners = results.filter((r) => r.status === 200);
  assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
  assert.ok(results.every((r) => r.status === 200 || r.status === 412));
  const after = await call(servers[1], 'GET', ITEM);
  assert.equal(after.json.leadsPerList, winners[0].json.leadsPerList);
  assert.equal(after.etag, winners[0].etag);
});

test('read-modify-write loops on both servers lose no update', { skip }, async () => {
  const start = (await call(servers[0], 'GET', ITEM)).json.leadsPerList;
  const workers = 8;
  const each = 5;
  let conflicts = 0;
  await Promise.all(Array.from({ length: workers }, async (_, worker) => {
    const server = servers[worker % 2];
    for (let done = 0; done < each;) {
      const read = await call(server, 'GET', ITEM);
      const write = await call(server, 'PATCH', ITEM, {
        headers: { 'if-match': read.etag }, body: { leadsPerList: read.json.leadsPerList + 1 },
      });
      if (write.status === 200) done += 1;
      else if (write.status === 412) conflicts += 1;
      else assert.fail(`unexpected ${write.status}: ${JSON.stringify(write.json)}`);
    }
  }));
  const end = (await call(servers[1], 'GET', ITEM)).json.leadsPerList;
  assert.equal(end, start + workers * each);
  assert.ok(conflicts > 0, 'the workers did race (else this test shows nothing)');
});

/** A GET through `server` that never waits more than 10 s: `{status, retryAfter, json, text}`. */
async function probe(server, path) {
  const response = await fetch(server.url + path, { headers: ALICE, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), json, text };
}

// The server answers what does not need the blocked call: its store calls run
// on threads of their own (one I/O thread here, which a blocked call would hold).
test('a row lock held from psql: the PATCH is 503 at the lock timeout, /healthz and other ICPs answer meanwhile', { skip }, async () => {
  const app = 'e2e_locked';
  const args = ['--db', withParameter(dbUrl, 'application_name', app), '--tokens', join(dir, 'tokens.json'),
    '--pg-lock-timeout', '1500'];
  const server = await startIcpServer(SERVER, args, { threads: 1 });
  // One store call at a time: the next is refused while one waits.
  const narrow = await startIcpServer(SERVER, [...args, '--max-store-calls', '1'], { threads: 1 });
  let holder;
  let other;
  try {
    other = await call(server, 'POST', '/api/v1/entities/icps', { body: { name: 'other', leadProviderCriteria: [] } });
    assert.equal(other.status, 201);
    holder = spawn('psql', [dbUrl, '-v', 'ON_ERROR_STOP=1', '-qAt'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout.on('data', (chunk) => { out += chunk; });
    holder.stdin.write(`BEGIN;\nSELECT 'locked' FROM icps WHERE id = '${EXAMPLE_ID}' FOR UPDATE;\n`);
    assert.ok(await eventually(() => out.includes('locked')), 'psql took the row lock');

    const started = Date.now();
    const patch = call(server, 'PATCH', ITEM, { body: { leadsPerList: 7 } });
    assert.ok(await eventually(() => psqlRows(`SELECT 1 FROM pg_stat_activity WHERE application_name = '${app}' AND wait_event_type = 'Lock'`).length === 1),
      'the PATCH waits on the lock');
    const asked = Date.now();
    const [alive, read] = await Promise.all([probe(server, '/healthz'), probe(server, `/api/v1/entities/icps/${other.json.id}`)]);
    const answeredIn = Date.now() - asked;
    assert.equal(alive.status, 200);
    assert.equal(read.status, 200, read.text);
    assert.ok(answeredIn < 1000, `/healthz and another ICP took ${answeredIn} ms`);
    const narrowPatch = call(narrow, 'PATCH', ITEM, { body: { leadsPerList: 8 } });
    assert.ok(await eventually(() => psqlRows(`SELECT 1 FROM pg_stat_activity WHERE application_name = '${app}' AND wait_event_type = 'Lock'`).length === 2),
      'both PATCHes wait on the lock');
    const [refused, narrowAlive] = await Promise.all([probe(narrow, `/api/v1/entities/icps/${other.json.id}`), probe(narrow, '/healthz')]);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.retryAfter, '1');
    assert.equal(refused.json.error.code, 'UNAVAILABLE');
    assert.equal(narrowAlive.status, 200);
    assert.equal((await narrowPatch).status, 503);
    const blocked = await patch;
    const waited = Date.now() - started;
    assert.equal(blocked.status, 503, JSON.stringify(blocked.json));
    assert.equal(blocked.json.error.code, 'UNAVAILABLE');
    assert.ok(waited >= 1400 && waited < 6000, `the PATCH ended after ${waited} ms`);
  } finally {
    holder?.stdin.end('ROLLBACK;\n');
    if (holder) await new Promise((resolve) => holder.on('exit', resolve));
  }
  try {
    assert.equal((await call(server, 'PATCH', ITEM, { body: { leadsPerList: 7 } })).status, 200);
    assert.equal((await probe(narrow, `/api/v1/entities/icps/${other.json.id}`)).status, 200);
  } finally {
    assert.equal(await stopServer(server), 0);
    assert.equal(await stopServer(narrow), 0);
  }
});

test('a frozen database backend (SIGSTOP): the call is 503 at the answer timeout, /healthz and other calls answer meanwhile', { skip }, async () => {
  const app = 'e2e_frozen';
  const server = await startIcpServer(SERVER, ['--db', withParameter(dbUrl, 'application_name', app),
    '--tokens', join(dir, 'tokens.json'), '--pg-answer-timeout', '1500', '--pg-pool-size', '2'], { threads: 1 });
  const frozen = [];
  try {
    assert.equal((await probe(server, ITEM)).status, 200);  // one pooled connection, now idle
    const pids = psqlRows(`SELECT pid FROM pg_stat_activity WHERE application_name = '${app}'`).map(Number);
    assert.equal(pids.length, 1);
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');  // its socket stays up: TCP sees nothing wrong
      frozen.push(pid);
    }
    const started = Date.now();
    const stuck = probe(server, ITEM);
    await sleep(200);
    const asked = Date.now();
    const [alive, other] = await Promise.all([probe(server, '/healthz'), probe(server, ITEM)]);
    const answeredIn = Date.now() - asked;
    assert.equal(alive.status, 200);
    assert.equal(other.status, 200, other.text);  // on a second connection
    assert.ok(answeredIn < 1000, `/healthz and another call took ${answeredIn} ms`);
    const got = await stuck;
    const waited = Date.now() - started;
    assert.equal(got.status, 503, got.text);
    assert.equal(got.retryAfter, '1');
    assert.ok(waited >= 1400 && waited < 6000, `the frozen call ended after ${waited} ms`);
    assert.ok(await eventually(() => /503 UNAVAILABLE: .*no answer from the server within 1500 ms/.test(server.log())),
      `the reason is logged: ${server.log()}`);
    // The frozen connection was dropped: calls keep succeeding.
    for (let i = 0; i < 3; i++) assert.equal((await probe(server, ITEM)).status, 200);
  } finally {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    assert.equal(await stopServer(server), 0);
  }
});

test('three servers whose pools exceed the connection limit together all serve again after a burst', { skip }, async (t) => {
  // A role of its own: connection limits do not apply to superusers.
  const role = `icp_e2e_limited_${process.pid}`;
  const db = `icp_e2e_limited_${process.pid}`;
  psql(`DROP DATABASE IF EXISTS ${db}`);
  psql(`DROP ROLE IF EXISTS ${role}`);
  psql(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 4`);
  psql(`CREATE DATABASE ${db} OWNER ${role}`);
  const url = withParameter(withParameter(SERVER_URL, 'dbname', db), 'user', role);
  const held = () => Number(psqlRows(`SELECT count(*) FROM pg_stat_activity WHERE usename = '${role}'`)[0]);
  const three = [];
  try {
    execFileSync(ICPCTL, ['--db', url, 'put', join(here, '../../examples/spec-example.json')]);
    const args = ['--db', url, '--tokens', join(dir, 'tokens.json'), '--pg-pool-size', '3',
      '--pg-idle-timeout', '2000', '--pg-min-idle', '1', '--pg-acquire-timeout', '300'];
    for (let i = 0; i < 3; i++) three.push(await startIcpServer(SERVER, args));
    // A burst on the first opens up to its pool's 3 of the role's 4 connections.
    const burst = await Promise.all(Array.from({ length: 24 }, () => probe(three[0], ITEM)));
    assert.ok(burst.every((r) => r.status === 200), burst.map((r) => r.status).join(','));
    assert.equal((await probe(three[1], ITEM)).status, 200);
    // Starved: the third cannot open a connection while the others hold theirs.
    assert.equal(held(), 4, "the first two hold the role's 4 connections");
    t.diagnostic(`the first two hold ${held()} of the role's 4 connections`);
    const starved = await probe(three[2], ITEM);
    assert.equal(starved.status, 503, starved.text);
    // Once the first closes the connections idle past 2 s, the third serves.
    assert.ok(await eventually(async () => (await probe(three[2], ITEM)).status === 200),
      'the third server got a connection back');
    // A burst on all three at once: 200s and 503s to retry, never another error ...
    const all = await Promise.all(Array.from({ length: 36 }, (_, i) => probe(three[i % 3], ITEM)));
    assert.ok(all.every((r) => r.status === 200 || r.status === 503), all.map((r) => r.status).join(','));
    // ... and after it every server serves again.
    for (const [index, server] of three.entries()) {
      assert.ok(await eventually(async () => (await probe(server, ITEM)).status === 200), `server ${index} serves again`);
    }
    assert.ok(held() <= 4);
  } finally {
    for (const server of three) assert.equal(await stopServer(server), 0);
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    psql(`DROP ROLE IF EXISTS ${role}`);
  }
});

// Runs last: the cluster stops and starts again under both servers.
test('the database stops mid-run: 503 with Retry-After, then 200s again without a restart', { skip: skipStop }, async () => {
  for (const server of servers) assert.equal((await probe(server, ITEM)).status, 200);

  execSync(STOP, { stdio: 'pipe' });
  try {
    // Every answer is a 503 to retry. Each store call first waits for the
    // database for the pool's acquire timeout (5 s), so the probes run at once.
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(servers.map(async (server) => {
        const [got, ready] = await Promise.all([probe(server, ITEM), probe(server, '/readyz')]);
        return { got, ready, alive: await probe(server, '/healthz') };
      }));
      for (const [index, { got, ready, alive }] of answers.entries()) {
        assert.equal(got.status, 503, `server ${index}, GET with the database stopped: ${got.text}`);
        assert.equal(got.retryAfter, '1', `server ${index}, GET: Retry-After`);
        assert.equal(got.json?.error?.code, 'UNAVAILABLE', got.text);
        assert.equal(ready.status, 503, `server ${index}, /readyz with the database stopped: ${ready.text}`);
        assert.equal(ready.retryAfter, '1', `server ${index}, /readyz: Retry-After`);
        assert.deepEqual(ready.json, { status: 'unavailable' });
        // Liveness does not ask the database.
        assert.equal(alive.status, 200);
      }
    }
    // Writes and lists too.
    const [write, list] = await Promise.all([
      call(servers[0], 'POST', '/api/v1/entities/icps', { body: { name: 'while down', leadProviderCriteria: [] } }),
      probe(servers[1], '/api/v1/entities/icps')]);
    assert.equal(write.status, 503, JSON.stringify(write.json));
    assert.equal(write.json?.error?.code, 'UNAVAILABLE');
    assert.equal(list.status, 503, list.text);
    assert.equal(list.retryAfter, '1');
  } finally {
    execSync(START, { stdio: 'pipe' });
  }

  // Back within 15 s, on the same processes; meanwhile 503s only.
  for (const [index, server] of servers.entries()) {
    const deadline = Date.now() + 15_000;
    let got;
    let ready;
    for (;;) {
      got = await probe(server, ITEM);
      ready = await probe(server, '/readyz');
      if ((got.status === 200 && ready.status === 200) || Date.now() >= deadline) break;
      for (const [what, answer] of [['GET', got], ['/readyz', ready]]) {
        assert.ok(answer.status === 200 || answer.status === 503,
          `server ${index}, ${what} while the database comes back: ${answer.status} ${answer.text}`);
      }
      await sleep(100);
    }
    assert.equal(got.status, 200, `server ${index}, GET 15 s after the database started: ${got.text}`);
    assert.equal(got.json.id, EXAMPLE_ID);
    assert.equal(ready.status, 200, `server ${index}, /readyz 15 s after the database started: ${ready.text}`);
    assert.deepEqual(ready.json, { status: 'ready' });
    // The same process all along: it neither exited nor was replaced.
    assert.equal(server.child.exitCode, null, `server ${index} exited: ${server.log().slice(-2000)}`);
    assert.equal(server.child.signalCode, null, `server ${index} was killed`);
    process.kill(server.pid, 0);  // throws if that pid is gone
  }
  // Writes work again too (a pooled connection from before the stop may still cost one 503).
  const body = { name: 'after the stop', leadProviderCriteria: [] };
  let created = await call(servers[1], 'POST', '/api/v1/entities/icps', { body });
  for (let attempt = 0; created.status === 503 && attempt < 20; attempt++) {
    await sleep(100);
    created = await call(servers[1], 'POST', '/api/v1/entities/icps', { body });
  }
  assert.equal(created.status, 201, JSON.stringify(created.json));
});
