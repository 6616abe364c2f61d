#!/usr/bin/env python3
"""Side-by-side HTTP load on GET /api/v1/entities/icps/{id}: icp-server against
the reference peer (Node.js 20, Fastify, better-sqlite3), on the same 100,001
ICPs, with the same wrk load script, in the same run. The peer, its load script
and the floor servers are not part of this repository: --peers (or the
ICP_PEERS variable) names the directory that holds them (node-fastify/,
load/, http-floor/).

Each server runs pinned to CPU 1, wrk to CPU 0. For each server it reports
req/s, latency percentiles, server CPU time per request (utime+stime from
/proc/PID/stat over the requests wrk counted), peak RSS, socket errors and
non-2xx answers (the mix has 5% 403 and 5% 404 by design; WRK_STATUS=1 counts
each status), and at the end the ratios icp-server / peer.

  bench/http/compare.py [--duration 10] [--connections 32] [--rounds 3]
                        [--ops] [--baseline PATH-TO-ANOTHER-icp-server]
                        [--floor] [--json PATH]

--ops adds "icp-server+ops": the same binary with the JSON access log written
to a file and /metrics scraped every second while wrk runs (the default
"icp-server" logs text to /dev/null and is never scraped). --baseline adds
"baseline", another icp-server build (say, of an older commit) with the same
flags, to compare builds in the same run. --floor adds the peers' minimal C
servers (http-floor/, built with make on first use): "floor-sqlite" (token,
one prepared SQLite read, a membership check, the stored text) and
"floor-static" (a fixed 656-byte answer: loopback TCP, epoll and parsing).

--json PATH also writes what is printed at the end to PATH: per server the
medians over the rounds (req/s, p50 and p99 in us, CPU us per request), peak
RSS, socket errors and non-2xx answers summed, each round's figures, and the
ratios. bench/plot.py draws its charts from that file.

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
from datetime import datetime, timezone
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


def scrape_every_second(port, stop):
    """GET /metrics once a second until `stop` is set, as Prometheus would."""
    import threading
    import urllib.request

    def loop():
        while not stop.wait(1.0):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                body = response.read()
                assert b"icp_http_requests_total" in body
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def measure(name, start, peers, data, args, scrape=False):
    import threading
    port = free_port()
    proc = start(port)
    try:
        wait_for(port)
        wrk(peers, data, port, 3, args.connections)  # warm-up: JIT, caches, memory maps
        stop = threading.Event()
        scraper = scrape_every_second(port, stop) if scrape else None
        before = cpu_seconds(proc.pid)
        result = wrk(peers, data, port, args.duration, args.connections)
        used = cpu_seconds(proc.pid) - before
        if scraper:
            stop.set()
            scraper.join()
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
    parser.add_argument("--peers", type=Path, default=os.environ.get("ICP_PEERS"),
                        help="the reference servers' directory (default: $ICP_PEERS)")
    parser.add_argument("--only", choices=["peer", "icp-server"])
    parser.add_argument("--ops", action="store_true",
                        help="also icp-server with the JSON log to a file and /metrics scraped")
    parser.add_argument("--baseline", type=Path, help="also this icp-server binary")
    parser.add_argument("--floor", action="store_true",
                        help="also the minimal C servers of the peers' http-floor/")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the medians, each round and the ratios to PATH")
    args = parser.parse_args()
    if args.peers is None:
        parser.error("--peers DIR (or ICP_PEERS) must name the reference servers' directory")

    peers, data, ours = prepare(args.work, args.peers)
    tokens = peers / "node-fastify" / "tokens.json"

    def start_peer(port):
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), ICP_DB=str(data / "icps.db"),
                   ICP_TOKENS=str(tokens))
        return subprocess.Popen(["taskset", "-c", "1", "node", "server.js"], env=env,
                                cwd=peers / "node-fastify", stdout=subprocess.DEVNULL)

    def starter(binary, extra=(), log=None):
        def start(port):
            stderr = open(log, "wb") if log else subprocess.DEVNULL
            return subprocess.Popen(["taskset", "-c", "1", str(binary),
                                     "--db", str(ours), "--tokens", str(tokens), "--threads", "1",
                                     "--listen", f"127.0.0.1:{port}", *extra],
                                    stdout=subprocess.DEVNULL, stderr=stderr)
        return start

    ours_binary = ROOT / "build/release/apps/icp-server/icp-server"
    servers = [("peer", start_peer, False), ("icp-server", starter(ours_binary), False)]
    if args.only:
        servers = [s for s in servers if s[0] == args.only]
    if args.baseline:
        servers.append(("baseline", starter(args.baseline), False))
    if args.ops:
        servers.append(("icp-server+ops", starter(ours_binary, ["--log-format", "json"],
                                                  args.work / "access-log.jsonl"), True))
    if args.floor:
        floor_dir = peers / "http-floor"
        if not ((floor_dir / "floor-sqlite").exists() and (floor_dir / "floor-static").exists()):
            run(["make", "-C", str(floor_dir)], stdout=subprocess.DEVNULL)

        def floor(binary, extra=()):
            def start(port):
                return subprocess.Popen(["taskset", "-c", "1", str(floor_dir / binary),
                                         "--port", str(port), *extra],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return start
        servers.append(("floor-sqlite", floor("floor-sqlite", ["--db", str(data / "icps.db"),
                                                              "--tokens", str(tokens)]), False))
        servers.append(("floor-static", floor("floor-static"), False))
    results = {name: [] for name, _, _ in servers}
    for round_number in range(args.rounds):
        for name, start, scrape in servers:  # alternate, so drift hits all alike
            r = measure(name, start, peers, data, args, scrape)
            results[name].append(r)
            print(f"round {round_number + 1} {name:14} {r['rps']:9.0f} req/s  p50 {r['lat_us']['p50']:6} us"
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
    ratios = []

    def ratio(a, b):
        x, y = summary[a], summary[b]
        print(f"{a} / {b}: CPU per request {x['cpu_us_per_request'] / y['cpu_us_per_request']:.3f}x"
              f", p99 {x['p99_us'] / y['p99_us']:.2f}x, req/s {x['rps'] / y['rps']:.2f}x")
        ratios.append({"server": a, "versus": b,
                       **{key: x[key] / y[key] if y[key] else None
                          for key in ("cpu_us_per_request", "rps", "p50_us", "p99_us")}})
    print()
    for other in ("baseline", "icp-server+ops"):
        if "icp-server" in summary and other in summary:
            ratio(other, "icp-server") if other != "baseline" else ratio("icp-server", "baseline")
    if "icp-server+ops" in summary and "baseline" in summary:
        ratio("icp-server+ops", "baseline")
    if "icp-server" in summary and "peer" in summary:
        ratio("icp-server", "peer")
    for floor_name in ("floor-sqlite", "floor-static"):
        for name in ("icp-server", "peer"):
            if name in summary and floor_name in summary:
                ratio(name, floor_name)
    if args.json:
        write_json(args.json, args, results, summary, ratios)


def write_json(path, args, results, summary, ratios):
    """The figures printed at the end, and each round's, for bench/plot.py."""
    def round_figures(r):
        return {
            "rps": r["rps"],
            "p50_us": r["lat_us"]["p50"],
            "p99_us": r["lat_us"]["p99"],
            "cpu_us_per_request": r["cpu_us_per_request"],
            "peak_rss_mib": r["peak_rss_mib"],
            "requests": r["requests"],
            "socket_errors": sum(r["errors"][key]
                                 for key in ("connect", "read", "write", "timeout")),
            "status_non2xx": r["errors"].get("status_non2xx", 0),
            **({"statuses": r["statuses"]} if r.get("statuses") else {}),
        }
    servers = {}
    for name, medians in summary.items():
        rounds = [round_figures(r) for r in results[name]]
        servers[name] = {**medians,
                         "requests": sum(r["requests"] for r in rounds),
                         "status_non2xx": sum(r["status_non2xx"] for r in rounds),
                         "per_round": rounds}
    document = {
        "tool": "bench/http/compare.py",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "duration_s": args.duration,
        "connections": args.connections,
        "servers": servers,
        "ratios": ratios,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
