// Organizations end to end: icp-server with bearer tokens of two
// organizations, and with Clerk session tokens minted by npm's `jose` that
// carry the active organization in both shapes (v2 `o.id`/`o.rol`, v1
// `org_id`/`org_role`). Nothing of one organization is reachable from the
// other, admins included; within one, the spec's rules hold.
//
//   ICP_SERVER=.../icp-server ICPCTL=.../icpctl node --test organizations.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, stopServer } from './icp_server.mjs';
import { SignJWT } from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const { ICP_SERVER: SERVER, ICPCTL } = process.env;
assert.ok(SERVER && ICPCTL, 'set ICP_SERVER and ICPCTL to the built binaries');

const COLLECTION = '/api/v1/entities/icps';
const EXAMPLE_ID = '550e8400-e29b-41d4-a716-446655440000';  // listed for user_abc123
const TOKENS = {
  tok_a_member: { userId: 'user_abc123', org: 'org_a' },
  tok_a_admin: { userId: 'user_root', admin: true, org: 'org_a' },
  tok_b_member: { userId: 'user_abc123', org: 'org_b' },
  tok_b_admin: { userId: 'user_root', admin: true, org: 'org_b' },
  tok_personal: { userId: 'user_abc123' },
};
const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const now = () => Math.floor(Date.now() / 1000);

let dir;
let byTokens;
let byClerk;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'icp-e2e-orgs-'));
  const db = join(dir, 'icps.db');
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(TOKENS));
  writeFileSync(join(dir, 'clerk.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }));
  // The spec's example imported into org_a only.
  execFileSync(ICPCTL, ['--db', db, 'put', '--org', 'org_a', join(here, '../../examples/spec-example.json')]);
  byTokens = await startServer(SERVER, ['--db', db, '--tokens', join(dir, 'tokens.json')]);
  byClerk = await startServer(SERVER, ['--db', db, '--clerk-jwt-key', join(dir, 'clerk.pem'),
    '--clerk-admin-claim', 'org-role']);
});

after(async () => {
  for (const server of [byTokens, byClerk]) if (server) assert.equal(await stopServer(server), 0);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(server, token, method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
}

/** Every ICP a caller can list, page by page (all: scope all). */
async function listAll(server, token, all = false) {
  const ids = [];
  let next = `${COLLECTION}?limit=2${all ? '&scope=all' : ''}`;
  while (next) {
    const page = await call(server, token, 'GET', next);
    assert.equal(page.status, 200, page.text);
    ids.push(...page.json.map((icp) => icp.id));
    const link = await fetch(server.url + next, { headers: { authorization: `Bearer ${token}` } });
    next = link.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1]?.replace(server.url, '') ?? null;
  }
  return ids;
}

/** A Clerk-shaped session token signed by jose with extra claims. */
function session(sub, claims) {
  return new SignJWT({ azp: 'http://localhost:3000', sid: 'sess_1', ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setSubject(sub).setIssuedAt(now() - 5).setNotBefore(now() - 5).setExpirationTime(now() + 60)
    .sign(key.privateKey);
}

test('tokens: the ICP of org_a is 404 from org_b and from no organization, admins included', async () => {
  const item = `${COLLECTION}/${EXAMPLE_ID}`;
  assert.equal((await call(byTokens, 'tok_a_member', 'GET', item)).status, 200);
  assert.equal((await call(byTokens, 'tok_a_admin', 'GET', item)).status, 200);
  for (const token of ['tok_b_member', 'tok_b_admin', 'tok_personal']) {
    assert.equal((await call(byTokens, token, 'GET', item)).status, 404, `${token} GET`);
    assert.equal((await call(byTokens, token, 'PATCH', item, { name: 'taken' })).status, 404, `${token} PATCH`);
    assert.equal((await call(byTokens, token, 'DELETE', item)).status, 404, `${token} DELETE`);
    assert.ok(!(await listAll(byTokens, token)).includes(EXAMPLE_ID), `${token} list`);
  }
  assert.ok(!(await listAll(byTokens, 'tok_b_admin', true)).includes(EXAMPLE_ID));
  const kept = await call(byTokens, 'tok_a_member', 'GET', item);
  assert.equal(kept.json.name, 'Enterprise Tech Decision Makers');
});

test('tokens: create lands in the caller\'s organization, and lists stay within it', async () => {
  const created = await call(byTokens, 'tok_b_member', 'POST', COLLECTION, { name: 'of b', leadProviderCriteria: [] });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.organization, undefined, 'the organization is not on the wire');
  assert.deepEqual(await listAll(byTokens, 'tok_b_member'), [created.json.id]);
  assert.deepEqual(await listAll(byTokens, 'tok_b_admin', true), [created.json.id]);
  assert.ok(!(await listAll(byTokens, 'tok_a_admin', true)).includes(created.json.id));
  assert.equal((await call(byTokens, 'tok_a_admin', 'GET', `${COLLECTION}/${created.json.id}`)).status, 404);
});

test('clerk: o.id and org_id pick the organization; o.rol and org_role its admins', async () => {
  const item = `${COLLECTION}/${EXAMPLE_ID}`;
  const v2Admin = await session('user_root', { v: 2, o: { id: 'org_a', rol: 'admin' } });
  const v1Admin = await session('user_root', { org_id: 'org_a', org_role: 'org:admin' });
  const v2Member = await session('user_abc123', { v: 2, o: { id: 'org_a', rol: 'member' } });
  const v2Stranger = await session('user_x', { v: 2, o: { id: 'org_a', rol: 'member' } });
  for (const token of [v2Admin, v1Admin, v2Member]) {
    assert.equal((await call(byClerk, token, 'GET', item)).status, 200);
  }
  assert.equal((await call(byClerk, v2Stranger, 'GET', item)).status, 403);
  // The admin of another organization, in either shape, and no organization at all.
  for (const claims of [{ v: 2, o: { id: 'org_b', rol: 'admin' } }, { org_id: 'org_b', org_role: 'org:admin' }, {}]) {
    const token = await session('user_root', claims);
    assert.equal((await call(byClerk, token, 'GET', item)).status, 404, JSON.stringify(claims));
    assert.equal((await call(byClerk, token, 'DELETE', item)).status, 404, JSON.stringify(claims));
  }
  // A member listed in userIds, signed in to another organization.
  const elsewhere = await session('user_abc123', { org_id: 'org_b', org_role: 'org:member' });
  assert.equal((await call(byClerk, elsewhere, 'GET', item)).status, 404);
  // Malformed organization claims are refused, not read as none.
  const malformed = await session('user_abc123', { o: { id: 42 } });
  assert.equal((await call(byClerk, malformed, 'GET', item)).status, 401);
  assert.deepEqual(await listAll(byClerk, v2Admin, true), [EXAMPLE_ID]);
});

test('clerk: an organization role without its organization makes no admin of the personal space', async () => {
  // A personal ICP, of user_owner, in no organization.
  const owner = await session('user_owner', {});
  const created = await call(byClerk, owner, 'POST', COLLECTION, { name: 'personal', leadProviderCriteria: [] });
  assert.equal(created.status, 201, created.text);
  const item = `${COLLECTION}/${created.json.id}`;
  // Signed role claims that name no organization, in both shapes.
  for (const claims of [{ v: 2, o: { rol: 'admin' } }, { org_role: 'org:admin' }]) {
    const token = await session('user_root', claims);
    const label = JSON.stringify(claims);
    assert.equal((await call(byClerk, token, 'GET', `${COLLECTION}?scope=all`)).status, 403, label);
    assert.equal((await call(byClerk, token, 'GET', item)).status, 403, label);
    assert.equal((await call(byClerk, token, 'PATCH', item, { name: 'taken' })).status, 403, label);
    assert.equal((await call(byClerk, token, 'DELETE', item)).status, 403, label);
  }
  const kept = await call(byClerk, owner, 'GET', item);
  assert.equal(kept.json.name, 'personal');
});
