#!/usr/bin/env python3
"""Side-by-side HTTP load on GET /api/v1/entities/icps/{id}: icp-server against
the reference peer (Node.js, ../shared/peers), on the same 100,001 ICPs, with
the same wrk load script, in the same run.

Each server runs pinned to CPU 1, wrk to CPU 0. For each server it reports
req/s, latency percentiles, server CPU time per request (utime+stime from
/proc/PID/stat over the requests wrk counted), peak RSS, socket errors and
non-2xx answers (the mix has 5% 403 and 5% 404 by design; WRK_STATUS=1 counts
each status), and at the end the ratios icp-server / peer.

  bench/http/compare.py [--duration 10] [--connections 32] [--rounds 3]

Needs: build/release (icp-server, icpctl), wrk, node and npm. The data and
the peer's packages are prepared once under --work (default /tmp/icp-http-bench).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def prepare(work: Path, peers_src: Path):
    peers = work / "peers"
    data = work / "data"
    if not (peers / "node-fastify" / "node_modules").exists():
        shutil.rmtree(peers, ignore_errors=True)
        shutil.copytree(peers_src, peers)
        for path in peers.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peers / "node-fastify")
    data.mkdir(parents=True, exist_ok=True)
    if not (data / "icps.db").exists():
        run(["node", "seed.js", "--db", str(data / "icps.db")], cwd=peers / "node-fastify")
    if not (data / "icps.json").exists():
        run(["node", "export.js", "--db", str(data / "icps.db"), "--out", str(data / "icps.json")],
            cwd=peers / "node-fastify")
    ours = work / "icp-server.db"
    if not ours.exists():
        with open(data / "icps.json", "rb") as icps:
            run([str(ROOT / "build/release/apps/icpctl/icpctl"), "--db", str(ours), "put", "-"],
                stdin=icps, stdout=subprocess.DEVNULL)
    return peers, data, ours


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def peak_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def wrk(peers, data, port, duration, connections):
    env = dict(os.environ, WRK_IDS_DIR=str(data), WRK_CPU="0")
    out = subprocess.run([str(peers / "load" / "run-wrk.sh"), "127.0.0.1", str(port),
                          f"{duration}s", str(connections)],
                         env=env, check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT_JSON "))
    return json.loads(line[len("RESULT_JSON "):])


def measure(name, start, peers, data, args):
    port = free_port()
    proc = start(port)
    try:
        wait_for(port)
        wrk(peers, data, port, 3, args.connections)  # warm-up: JIT, caches, memory maps
        before = cpu_seconds(proc.pid)
        result = wrk(peers, data, port, args.duration, args.connections)
        used = cpu_seconds(proc.pid) - before
        result["cpu_us_per_request"] = used * 1e6 / result["requests"]
        result["peak_rss_mib"] = peak_rss_kib(proc.pid) / 1024
        result["server"] = name
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/icp-http-bench"))
    parser.add_argument("--peers", type=Path, default=ROOT.parent / "shared" / "peers")
    parser.add_argument("--only", choices=["peer", "icp-server"])
    args = parser.parse_args()

    peers, data, ours = prepare(args.work, args.peers)
    tokens = peers / "node-fastify" / "tokens.json"

    def start_peer(port):
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), ICP_DB=str(data / "icps.db"),
                   ICP_TOKENS=str(tokens))
        return subprocess.Popen(["taskset", "-c", "1", "node", "server.js"], env=env,
                                cwd=peers / "node-fastify", stdout=subprocess.DEVNULL)

    def start_ours(port):
        return subprocess.Popen(["taskset", "-c", "1", str(ROOT / "build/release/apps/icp-server/icp-server"),
                                 "--db", str(ours), "--tokens", str(tokens), "--threads", "1",
                                 "--listen", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    servers = [("peer", start_peer), ("icp-server", start_ours)]
    if args.only:
        servers = [s for s in servers if s[0] == args.only]
    results = {name: [] for name, _ in servers}
    for round_number in range(args.rounds):
        for name, start in servers:  # alternate, so drift hits both alike
            r = measure(name, start, peers, data, args)
            results[name].append(r)
            print(f"round {round_number + 1} {name:10} {r['rps']:9.0f} req/s  p50 {r['lat_us']['p50']:6} us"
                  f"  p99 {r['lat_us']['p99']:6} us  cpu {r['cpu_us_per_request']:5.1f} us/req"
                  f"  rss {r['peak_rss_mib']:6.1f} MiB  errors {json.dumps(r['errors'])}"
                  + (f"  statuses {json.dumps(r['statuses'])}" if r.get("statuses") else ""), flush=True)

    summary = {}
    for name, rs in results.items():
        summary[name] = {
            "rps": statistics.median(r["rps"] for r in rs),
            "p50_us": statistics.median(r["lat_us"]["p50"] for r in rs),
            "p99_us": statistics.median(r["lat_us"]["p99"] for r in rs),
            "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in rs),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rs),
            "socket_errors": sum(r["errors"]["connect"] + r["errors"]["read"] + r["errors"]["write"]
                                 + r["errors"]["timeout"] for r in rs),
        }
    print("\nmedians:", json.dumps(summary, indent=2))
    if len(summary) == 2:
        ours_s, peer_s = summary["icp-server"], summary["peer"]
        print(f"\nicp-server / peer: CPU per request {ours_s['cpu_us_per_request'] / peer_s['cpu_us_per_request']:.2f}x"
              f", p99 {ours_s['p99_us'] / peer_s['p99_us']:.2f}x, req/s {ours_s['rps'] / peer_s['rps']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
