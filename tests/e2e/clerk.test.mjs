// Interoperability: session tokens minted by npm's `jose` (a JOSE
// implementation this project did not write), sent to icp-server started with
// --clerk-jwt-key. Every token jose accepts as a valid session must be
// accepted, and every token jose rejects must be rejected (401) too.
//
//   ICP_SERVER=.../icp-server ICPCTL=.../icpctl node --test clerk.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, stopServer } from './icp_server.mjs';
import { SignJWT, UnsecuredJWT, jwtVerify } from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const { ICP_SERVER: SERVER, ICPCTL } = process.env;
assert.ok(SERVER && ICPCTL, 'set ICP_SERVER and ICPCTL to the built binaries');

const EXAMPLE_ID = '550e8400-e29b-41d4-a716-446655440000';  // listed for user_abc123
const ITEM = `/api/v1/entities/icps/${EXAMPLE_ID}`;
// What the verifier promises, as jose options: the same algorithms, the same
// leeway, the same required claims.
const VERIFY_OPTIONS = { algorithms: ['RS256', 'RS384', 'RS512'], clockTolerance: 5, requiredClaims: ['exp', 'sub'] };

const rsa = (modulusLength) => generateKeyPairSync('rsa', { modulusLength });
const key = rsa(2048);
const otherKey = rsa(2048);
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = () => Math.floor(Date.now() / 1000);

let dir;
let server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'icp-e2e-clerk-'));
  writeFileSync(join(dir, 'clerk.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }));
  execFileSync(ICPCTL, ['--db', join(dir, 'icps.db'), 'put', join(here, '../../examples/spec-example.json')]);
  server = await startServer(SERVER, ['--db', join(dir, 'icps.db'), '--clerk-jwt-key', join(dir, 'clerk.pem'),
    '--clerk-admin-claim', 'metadata.role=admin']);
});

after(async () => {
  if (server) assert.equal(await stopServer(server), 0);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A Clerk-shaped session token, signed by jose; a claim given as null is left out. */
function session({ sub = 'user_abc123', alg = 'RS256', signer = key.privateKey, claims = {}, header = {},
  exp = now() + 60, iat = now() - 5, nbf = now() - 5 } = {}) {
  let jwt = new SignJWT({ azp: 'http://localhost:3000', sid: 'sess_1', v: 2, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...header })
    .setIssuer('https://clerk.example.dev');
  if (sub !== null) jwt = jwt.setSubject(sub);
  if (exp !== null) jwt = jwt.setExpirationTime(exp);
  if (iat !== null) jwt = jwt.setIssuedAt(iat);
  if (nbf !== null) jwt = jwt.setNotBefore(nbf);
  return jwt.sign(signer);
}

async function joseAccepts(token) {
  try {
    await jwtVerify(token, key.publicKey, VERIFY_OPTIONS);
    return true;
  } catch {
    return false;
  }
}

async function get(token) {
  const response = await fetch(server.url + ITEM, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  return { status: response.status, message: body.error?.message ?? '' };
}

/** Both verdicts for one token: jose's, and icp-server's answer. */
async function verdicts(token) {
  return { jose: await joseAccepts(token), server: await get(token) };
}

test('tokens jose signs and accepts are accepted, with the user and admin flag', async () => {
  for (const alg of ['RS256', 'RS384', 'RS512']) {
    const { jose, server: answer } = await verdicts(await session({ alg }));
    assert.equal(jose, true, alg);
    assert.equal(answer.status, 200, `${alg}: ${answer.message}`);
  }
  // Not listed on the ICP: 403 as a user, 200 as an admin by the claim.
  assert.equal((await get(await session({ sub: 'user_stranger' }))).status, 403);
  assert.equal((await get(await session({ sub: 'user_root', claims: { metadata: { role: 'admin' } } }))).status, 200);
  // Expired by less than the clock tolerance both sides allow.
  const lenient = await verdicts(await session({ exp: now() - 2, iat: now() - 120, nbf: now() - 120 }));
  assert.equal(lenient.jose, true);
  assert.equal(lenient.server.status, 200);
});

test('tokens jose rejects are rejected, each with its reason', async () => {
  const pem = key.publicKey.export({ type: 'spki', format: 'pem' });
  const good = await session();
  const [h, , s] = good.split('.');
  const cases = {
    'token-expired': await session({ exp: now() - 60, iat: now() - 120, nbf: now() - 120 }),
    'token-not-active-yet': await session({ nbf: now() + 60, exp: now() + 120 }),
    'token-invalid-signature': await session({ signer: otherKey.privateKey }),
    'token-invalid-signature ': `${h}.${Buffer.from(JSON.stringify({ sub: 'user_abc123', exp: now() + 60, metadata: { role: 'admin' } })).toString('base64url')}.${s}`,
    'token-invalid-algorithm': new UnsecuredJWT({ sub: 'user_abc123' }).setExpirationTime(now() + 60).encode(),
    'token-invalid-algorithm ': await new SignJWT({ sub: 'user_abc123' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime(now() + 60).sign(new TextEncoder().encode(pem)),
    'token-invalid-algorithm  ': await session({ alg: 'PS256' }),
    'token-invalid-algorithm   ': await session({ alg: 'ES256', signer: ecKey.privateKey }),
    'token-missing-subject': await session({ sub: null }),
    'token-invalid': await session({ exp: null }),
    'token-invalid ': good.slice(0, good.lastIndexOf('.')),
  };
  for (const [reason, token] of Object.entries(cases)) {
    const { jose, server: answer } = await verdicts(token);
    assert.equal(jose, false, `jose accepted the ${reason.trim()} case`);
    assert.equal(answer.status, 401, `${reason.trim()}: ${answer.status} ${answer.message}`);
    assert.ok(answer.message.startsWith(`${reason.trim()}: `), `${reason.trim()}: got "${answer.message}"`);
  }
});

test('stricter than jose where the issue asks: iat in the future, typ other than JWT', async () => {
  const future = await session({ iat: now() + 60 });
  assert.equal(await joseAccepts(future), true);  // jose checks iat only with maxTokenAge
  assert.match((await get(future)).message, /^token-iat-in-the-future: /);
  const typed = await session({ header: { typ: 'at+jwt' } });
  assert.equal(await joseAccepts(typed), true);
  assert.match((await get(typed)).message, /^token-invalid: /);
});

test('no token, key or claim reaches the log', async () => {
  const token = await session();
  await get(token);
  await get(`${token}x`);
  await new Promise((resolve) => setTimeout(resolve, 150));  // the access log writes in batches
  const log = server.log();
  assert.ok(log.length > 0);
  assert.ok(!log.includes(token.split('.')[2].slice(0, 16)));
  assert.ok(!log.includes('user_abc123'));
});
