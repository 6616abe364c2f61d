// Starting and stopping icp-server for the end-to-end tests: each server on a
// free loopback port, its stderr (the access log) kept for the test to read.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Starts icp-server with `args`; resolves once it listens, with its URL. */
export async function startServer(binary, args) {
  const child = spawn(binary, [...args, '--listen', '127.0.0.1:0', '--threads', '2'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/\S+)\n/);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`icp-server exited early with ${code}: ${log}`)));
  });
  return { child, url, log: () => log };
}

/** Sends SIGTERM; resolves with the exit code. */
export async function stopServer(server) {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}
