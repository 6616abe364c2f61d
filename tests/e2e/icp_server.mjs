// Starting and stopping icp-server for the end-to-end tests: each server on a
// free loopback port, its stderr (the access log) kept for the test to read.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/**
 * Starts icp-server with `args`; resolves once it listens, with its URL.
 *
 * `options` (all optional):
 *   fdLimit         run it under `ulimit -n fdLimit` (through sh, which execs
 *                   the server: `pid` is the server's own)
 *   threads         --threads (default 2)
 *   env             the environment (default: this process's)
 *   startTimeoutMs  give up (SIGKILL, reject) if it does not listen by then
 *   stderrFile      write stderr (the access log) to this file, as an
 *                   operator's redirect would, rather than to a pipe; log()
 *                   reads the file
 *
 * The result: `child`, `pid`, `url`, `log()` (stderr so far), `stdout()`
 * (stdout so far: the `listening on` line, and any line after it) and
 * `exited`, a promise of `{code, signal}`.
 */
export async function startServer(binary, args, options = {}) {
  const { fdLimit, threads = 2, env, startTimeoutMs, stderrFile } = options;
  const argv = [...args, '--listen', '127.0.0.1:0', '--threads', String(threads)];
  const [command, commandArgs] = fdLimit === undefined
    ? [binary, argv]
    : ['sh', ['-c', `ulimit -n ${Number(fdLimit)} && exec "$0" "$@"`, binary, ...argv]];
  const stderrFd = stderrFile === undefined ? undefined : openSync(stderrFile, 'w');
  const child = spawn(command, commandArgs,
    { stdio: ['ignore', 'pipe', stderrFd ?? 'pipe'], env: env ?? process.env });
  if (stderrFd !== undefined) closeSync(stderrFd);  // the child has its own copy
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let log = '';
  let out = '';
  child.stderr?.on('data', (chunk) => { log += chunk; });
  const logText = () => (stderrFile === undefined ? log : readFileSync(stderrFile, 'latin1'));
  child.stdout.on('data', (chunk) => { out += chunk; });
  let timer;
  try {
    const url = await new Promise((resolve, reject) => {
      child.stdout.on('data', () => {
        const match = out.match(/listening on (http:\/\/\S+)\n/);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code, signal) =>
        reject(new Error(`icp-server exited early with ${code ?? signal}: ${logText()}`)));
      if (startTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`icp-server did not listen within ${startTimeoutMs} ms: ${logText()}`));
        }, startTimeoutMs);
      }
    });
    return { child, pid: child.pid, url, log: logText, stdout: () => out, exited };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends SIGTERM; resolves with the exit code. With `killAfterMs`, a server
 * still running that long after is killed with SIGKILL (the code is then null).
 */
export async function stopServer(server, { killAfterMs } = {}) {
  const exited = server.exited ?? new Promise((resolve) =>
    server.child.on('exit', (code, signal) => resolve({ code, signal })));
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    return server.child.exitCode;
  }
  server.child.kill('SIGTERM');
  let timer;
  if (killAfterMs !== undefined) {
    timer = setTimeout(() => server.child.kill('SIGKILL'), killAfterMs);
  }
  const { code } = await exited;
  clearTimeout(timer);
  return code;
}

/**
 * One API call to `server` as `token`'s caller (a JSON body when `body` is
 * given); resolves with `status`, `etag`, `retryAfter`, `text` and `json`
 * (null when the body is empty or not JSON).
 */
export async function call(server, method, path, { token = 'tok_alice', headers = {}, body } = {}) {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: the caller checks the status */ }
  return { status: response.status, etag: response.headers.get('etag'),
    retryAfter: response.headers.get('retry-after'), json, text };
}
