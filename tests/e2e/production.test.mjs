// End-to-end: icp-server and icpctl in the PostgreSQL deployments production
// runs, on a harness of their own (ctest starts this file under
// `scripts/with-postgres --pgbouncer --sync --tls`): a DML-only role on a
// database its owner migrated, two servers behind PgBouncer in transaction
// mode while it recycles its backends, PgBouncer in session mode, TLS with
// verify-full, the operator's settings, a killed writer's locks, a hot
// standby serving reads, and last (it ends the primary) a failover under a
// write load through a multi-host URL with synchronous replication.
//
//   ICP_SERVER=... ICPCTL=... scripts/with-postgres --pgbouncer --sync --tls node --test production.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, startServer as startIcpServer, stopServer } from './icp_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const { ICP_SERVER: SERVER, ICPCTL } = env;
assert.ok(SERVER && ICPCTL, 'set ICP_SERVER and ICPCTL to the built binaries');
for (const name of ['ICP_TEST_POSTGRES', 'ICP_TEST_PGBOUNCER_SESSION', 'ICP_TEST_PGBOUNCER_TRANSACTION',
  'ICP_TEST_PGBOUNCER_RECONNECT', 'ICP_TEST_STANDBY', 'ICP_TEST_POSTGRES_BOTH', 'ICP_TEST_PRIMARY_CRASH',
  'ICP_TEST_STANDBY_PROMOTE', 'ICP_TEST_POSTGRES_TLS', 'ICP_TEST_OTHER_CA']) {
  assert.ok(env[name], `${name} is not set: run under scripts/with-postgres --pgbouncer --sync --tls`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const DB = 'icp_production';
const EXAMPLE = JSON.parse(readFileSync(join(here, '../../examples/spec-example.json'), 'utf8'));

/** `url` (URL form) with the database and role swapped, and more libpq parameters. */
function urlFor(base, { user = 'icp_runtime', extra = {} } = {}) {
  const [head, query = ''] = base.split('?');
  const params = query.split('&').filter((param) => param && !param.startsWith('user='));
  let url = head.replace(/\/[^/]*$/, `/${DB}`);
  if (/\/\/[^/@]+@/.test(url)) url = url.replace(/\/\/[^/@]+@/, `//${user}@`);
  else params.push(`user=${user}`);
  for (const [key, value] of Object.entries(extra)) params.push(`${key}=${encodeURIComponent(value)}`);
  return params.length > 0 ? `${url}?${params.join('&')}` : url;
}

/** Ends the test's own lock holders (psql sessions asleep in pg_sleep). */
function endHolders() {
  psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' AND pid <> pg_backend_pid()");
}

function psql(sql, url = env.ICP_TEST_POSTGRES) {
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' }).trim();
}

let dir;
const started = [];
async function startServer(dbUrl, args = []) {
  const server = await startIcpServer(SERVER, ['--db', dbUrl, '--tokens', join(dir, 'tokens.json'), ...args]);
  started.push(server);
  return server;
}

const ICPS = '/api/v1/entities/icps';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'icp-e2e-production-'));
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tok_alice: { userId: 'user_abc123' } }));
  // The owner migrates; the runtime role may only read and write rows.
  psql('CREATE ROLE icp_owner LOGIN');
  psql('CREATE ROLE icp_runtime LOGIN');
  psql(`CREATE DATABASE ${DB} OWNER icp_owner`);
  execFileSync(ICPCTL, ['--db', urlFor(env.ICP_TEST_POSTGRES, { user: 'icp_owner' }), 'migrate']);
  const owner = urlFor(env.ICP_TEST_POSTGRES, { user: 'icp_owner' });
  psql('GRANT SELECT ON icp_schema_version TO icp_runtime; ' +
    'GRANT SELECT, INSERT, UPDATE, DELETE ON icps, icp_members TO icp_runtime', owner);
});

after(async () => {
  for (const server of started) await stopServer(server, { killAfterMs: 5000 });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a role that may only read and write rows serves the database its owner migrated', async () => {
  const runtime = urlFor(env.ICP_TEST_POSTGRES);
  // It may not migrate: icpctl says so, in one line, and changes nothing.
  const fresh = spawnSyncText(ICPCTL, ['--db', runtime, '--pg-schema', 'not_there', 'migrate']);
  assert.equal(fresh.status, 2);
  assert.match(fresh.stderr, /permission denied/);
  const server = await startServer(runtime, ['--pg-no-migrate']);
  const created = await call(server, 'POST', ICPS, { body: { name: 'by the runtime role', leadProviderCriteria: [] } });
  assert.equal(created.status, 201, created.text);
  const item = `${ICPS}/${created.json.id}`;
  assert.equal((await call(server, 'GET', item)).status, 200);
  const patched = await call(server, 'PATCH', item, { headers: { 'if-match': created.etag }, body: { leadsPerList: 7 } });
  assert.equal(patched.status, 200, patched.text);
  assert.equal((await call(server, 'GET', ICPS)).status, 200);
  assert.equal((await call(server, 'DELETE', item)).status, 204);
  assert.equal((await call(server, 'GET', '/readyz')).status, 200);
  await stopServer(server);
});

function spawnSyncText(binary, args) {
  try {
    const stdout = execFileSync(binary, args, { encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    return { status: error.status, stdout: error.stdout, stderr: error.stderr };
  }
}

/** What a client of the pooler finds in the session it is given. */
const pooledState = () => psql("SELECT current_setting('statement_timeout') || ' ' || " +
  "current_setting('lock_timeout') || ' ' || current_setting('search_path') || ' ' || " +
  '(SELECT count(*) FROM pg_prepared_statements)', urlFor(env.ICP_TEST_PGBOUNCER_TRANSACTION));

// RECONNECT may close a backend still logging in, which PgBouncer counts as a
// failed login: it refuses the clients then waiting ("server login has been
// failing"), which is a 503 to retry. Never a 500, never a wrong answer.
test('two servers behind PgBouncer in transaction mode, backends recycled mid-run: no 500, no wrong answer, nothing leaked', async () => {
  const pooled = urlFor(env.ICP_TEST_PGBOUNCER_TRANSACTION);
  const untouched = pooledState();
  const servers = await Promise.all([0, 1].map(() => startServer(pooled, ['--pg-transaction-pooling'])));
  const statuses = new Map();
  const wrong = [];
  const count = (status) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const noRetryAfter = [];
  const counted = (answer) => {
    count(answer.status);
    if (answer.status === 503 && answer.retryAfter !== '1') noRetryAfter.push(answer.text);
    return answer;
  };
  let running = true;
  const worker = async (index) => {
    for (let round = 0; running; round++) {
      const [writer, reader] = [servers[(index + round) % 2], servers[(index + round + 1) % 2]];
      const created = counted(await call(writer, 'POST', ICPS, { body: { name: `w${index}r${round}`, leadProviderCriteria: [] } }));
      if (created.status !== 201) continue;
      const item = `${ICPS}/${created.json.id}`;
      const read = counted(await call(reader, 'GET', item));
      if (read.status === 200 && JSON.stringify(read.json) !== JSON.stringify(created.json)) wrong.push(read.text);
      const patched = counted(await call(reader, 'PATCH', item, { headers: { 'if-match': created.etag }, body: { leadsPerList: round + 1 } }));
      const again = counted(await call(writer, 'GET', item));
      if (patched.status === 200 && again.status === 200 && again.json?.leadsPerList !== round + 1) wrong.push(again.text);
    }
  };
  const workers = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
  const leaks = [];
  for (let recycle = 0; recycle < 8; recycle++) {
    await sleep(250);
    execSync(env.ICP_TEST_PGBOUNCER_RECONNECT, { stdio: 'pipe' });
    const state = pooledState();
    if (state !== untouched) leaks.push(state);
  }
  running = false;
  await workers;
  const summary = JSON.stringify(Object.fromEntries(statuses));
  assert.ok((statuses.get(201) ?? 0) > 20, summary);
  // A PATCH whose first try was cut off with a 503 may find the ETag moved on: 412.
  assert.deepEqual([...statuses.keys()].filter((s) => ![200, 201, 412, 503].includes(s)), [], summary);
  assert.ok((statuses.get(503) ?? 0) * 10 < (statuses.get(201) ?? 0), summary);
  assert.deepEqual(noRetryAfter, []);
  assert.deepEqual(wrong, []);
  // The recycling over, every call answers.
  for (const server of servers) {
    const created = await call(server, 'POST', ICPS, { body: { name: 'after the recycling', leadProviderCriteria: [] } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await call(server, 'GET', `${ICPS}/${created.json.id}`)).status, 200);
  }
  assert.deepEqual(leaks, [], `a pooled session carried the store's state (untouched: ${untouched})`);
  for (const server of servers) assert.doesNotMatch(server.log(), / 500 /);
  await Promise.all(servers.map((server) => stopServer(server)));
});

test('PgBouncer in session mode serves with prepared statements', async () => {
  const server = await startServer(urlFor(env.ICP_TEST_PGBOUNCER_SESSION));
  const created = await call(server, 'POST', ICPS, { body: { name: 'through a session pooler', leadProviderCriteria: [] } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await call(server, 'GET', `${ICPS}/${created.json.id}`)).status, 200);
  await stopServer(server);
});

test('TLS with verify-full: served when the CA signed the server, a clean error when not', async () => {
  const verified = urlFor(env.ICP_TEST_POSTGRES_TLS);
  const server = await startServer(verified);
  const created = await call(server, 'POST', ICPS, { body: { name: 'over TLS', leadProviderCriteria: [] } });
  assert.equal(created.status, 201, created.text);
  await stopServer(server);
  const other = verified.replace(/sslrootcert=[^&]+/, `sslrootcert=${env.ICP_TEST_OTHER_CA}`);
  const refused = spawnSyncText(ICPCTL, ['--db', other, 'get', created.json.id]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /certificate verify failed/);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
});

test("the URL's options=-c statement_timeout wins over the store's lock timeout", async () => {
  const url = urlFor(env.ICP_TEST_POSTGRES, { extra: { options: '-c statement_timeout=800' } });
  const server = await startServer(url, ['--pg-lock-timeout', '5000']);
  const created = await call(server, 'POST', ICPS, { body: { name: 'locked', leadProviderCriteria: [] } });
  const holder = spawn('psql', [urlFor(env.ICP_TEST_POSTGRES, { user: 'postgres' }), '-qc',
    `BEGIN; SELECT 1 FROM icps WHERE id = '${created.json.id}' FOR UPDATE; SELECT pg_sleep(10);`], { stdio: 'ignore' });
  try {
    await holding();
    const start = Date.now();
    const patched = await call(server, 'PATCH', `${ICPS}/${created.json.id}`, { body: { leadsPerList: 3 } });
    const waited = Date.now() - start;
    assert.equal(patched.status, 503, patched.text);
    assert.equal(patched.retryAfter, '1');
    assert.ok(waited < 3000, `waited ${waited} ms: the 5 s lock timeout, not the URL's 800 ms statement timeout`);
    await waitFor(() => (/statement timeout/.test(server.log()) ? true : null), 2000);
  } finally {
    holder.kill();
    endHolders();
  }
  await stopServer(server);
});

/** Resolves once a lock holder of the test's own sleeps, its lock taken. */
const holding = () => waitFor(() => (psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") === '1' ? true : null));

/** Polls `probe` every 50 ms for up to `ms`; resolves with its first non-null answer. */
async function waitFor(probe, ms = 10_000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    const answer = await probe();
    if (answer !== null && answer !== undefined) return answer;
  }
  throw new Error(`not within ${ms} ms`);
}

test("a writer killed while it waits for a row lock lets go of its other locks within about a second", async () => {
  const url = urlFor(env.ICP_TEST_POSTGRES);
  const owner = urlFor(env.ICP_TEST_POSTGRES, { user: 'postgres' });
  // Two ICPs; the import locks them in id order, so it holds the first while
  // it waits for the second, which another session holds.
  const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
  const batch = ids.map((id) => ({ ...EXAMPLE, id }));
  writeFileSync(join(dir, 'batch.json'), JSON.stringify(batch));
  execFileSync(ICPCTL, ['--db', url, 'put', join(dir, 'batch.json')]);
  const holder = spawn('psql', [owner, '-qc',
    `BEGIN; SELECT 1 FROM icps WHERE id = '${ids[1]}' FOR UPDATE; SELECT pg_sleep(20);`], { stdio: 'ignore' });
  await holding();
  const writer = spawn(ICPCTL, ['--db', url, 'put', join(dir, 'batch.json')], { stdio: 'ignore' });
  try {
    // The import's backend waits on the lock: kill the client under it.
    await waitFor(() => psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icp' AND wait_event_type = 'Lock'") === '1' ? true : null);
    writer.kill('SIGKILL');
    const killed = Date.now();
    await waitFor(() => {
      try {
        psql(`BEGIN; SET LOCAL lock_timeout = 50; SELECT 1 FROM icps WHERE id = '${ids[0]}' FOR UPDATE; COMMIT`, owner);
        return true;
      } catch {
        return null;
      }
    });
    const held = Date.now() - killed;
    // client_connection_check_interval: 1 s; without it, the 5 s lock timeout.
    assert.ok(held < 2500, `the killed writer's lock was held ${held} ms after the kill`);
  } finally {
    holder.kill();
    writer.kill('SIGKILL');
    endHolders();
  }
});

test('a hot standby serves reads; a write there is 503 with Retry-After, never 500', async () => {
  const created = execFileSync(ICPCTL, ['--db', urlFor(env.ICP_TEST_POSTGRES), '--as', 'user_abc123',
    'create'], { input: JSON.stringify({ name: 'replicated', leadProviderCriteria: [] }), encoding: 'utf8' });
  const { id } = JSON.parse(created);
  const server = await startServer(urlFor(env.ICP_TEST_STANDBY));
  // Synchronous replication: the commit waited for the standby.
  const read = await call(server, 'GET', `${ICPS}/${id}`);
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.name, 'replicated');
  assert.equal((await call(server, 'GET', ICPS)).status, 200);
  for (let attempt = 0; attempt < 3; attempt++) {
    const write = await call(server, 'POST', ICPS, { body: { name: 'on a standby', leadProviderCriteria: [] } });
    assert.equal(write.status, 503, write.text);
    assert.equal(write.retryAfter, '1');
    assert.equal(write.json.error.code, 'UNAVAILABLE');
  }
  assert.equal(execFileSync(ICPCTL, ['--db', urlFor(env.ICP_TEST_STANDBY), '--as', 'user_abc123', 'get', id],
    { encoding: 'utf8' }).includes('replicated'), true);
  await stopServer(server);
});

test('a failover under a write load, through a multi-host URL: 503s while it lasts, never 500, no acknowledged write lost', async () => {
  const both = urlFor(env.ICP_TEST_POSTGRES_BOTH);
  const server = await startServer(both, ['--pg-acquire-timeout', '1000']);
  const acknowledged = [];
  const statuses = new Map();
  const bad = [];
  let running = true;
  const worker = async (index) => {
    for (let round = 0; running; round++) {
      let created;
      try {
        created = await call(server, 'POST', ICPS, { body: { name: `f${index}r${round}`, leadProviderCriteria: [] } });
      } catch (error) {
        bad.push(`no answer: ${error.message}`);
        continue;
      }
      statuses.set(created.status, (statuses.get(created.status) ?? 0) + 1);
      if (created.status === 201) acknowledged.push(created.json.id);
      else if (created.status !== 503 || created.retryAfter !== '1') bad.push(`${created.status} ${created.text}`);
      if (created.status === 503) await sleep(50);
    }
  };
  const workers = Promise.all([0, 1, 2, 3].map(worker));
  await sleep(1000);
  const beforeCrash = acknowledged.length;
  execSync(env.ICP_TEST_PRIMARY_CRASH, { stdio: 'pipe' });
  // Longer than the acquire timeout: calls give up waiting, with a 503.
  await sleep(2500);
  execSync(env.ICP_TEST_STANDBY_PROMOTE, { stdio: 'pipe' });
  const promoted = Date.now();
  // Writes resume on the promoted standby.
  const resumedAt = acknowledged.length;
  await waitFor(() => (acknowledged.length > resumedAt + 10 ? true : null), 15_000);
  const resumedAfter = Date.now() - promoted;
  running = false;
  await workers;
  const summary = JSON.stringify(Object.fromEntries(statuses));
  assert.deepEqual(bad, [], summary);
  assert.ok(beforeCrash > 10, summary);
  assert.ok((statuses.get(503) ?? 0) > 0, `no 503 at all: did the failover happen? ${summary}`);
  assert.ok(resumedAfter < 10_000, `writes resumed ${resumedAfter} ms after promotion`);
  // Every 201 is on the new primary.
  const promotedUrl = urlFor(env.ICP_TEST_STANDBY, { user: 'postgres' });
  const stored = new Set(psql('SELECT id FROM icps', promotedUrl).split('\n'));
  const lost = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged writes are gone`);
  assert.doesNotMatch(server.log(), / 500 /);
  await stopServer(server);
});
