#!/usr/bin/env python3
"""Measures the reference server under load, on loopback, and prints the figures that
docs/performance.md records.

  python3 scripts/load-server.py [--binary .build/release/rfl-server] [--duration 30]
                                 [--connections 64] [--sockets 500] [--broadcasts 200]
                                 [--bare scripts/bare-route/.build/release/bare-route] [--rolls-only]

It starts the server itself in a temporary data folder, with rate limits raised out of the
way (the load would otherwise be refused by design) and bcrypt at its cheapest (accounts are
made, not attacked). Then:

1. authenticated rolls: wrk, `POST /v1/campaigns/{id}/rolls` with a bearer token, at
   --connections connections for --duration seconds: requests a second, p50 and p99;
2. broadcast: --sockets live sockets on one campaign (in two client processes), then
   --broadcasts rolls one after another; for each, the time from sending the roll to each
   socket's receiving its event: p50, p99 and the maximum over all deliveries;
3. the server's resident memory with the sockets connected.

With --routes, before the rolls: the same wrk load for --route-duration seconds on each of a
ladder of operations, from `/healthz` without a token to a roll, printing requests a second and
the server's CPU time per request for each: what each layer of a roll costs (the token and its
session, the membership, the body and its contract, the write and its entry).

With --bare, the same wrk run against a bare Hummingbird route that decodes and echoes the same
JSON body (scripts/bare-route, built with `swift build -c release --package-path
scripts/bare-route`), right after the rolls: how far the server is from the framework. With
--rolls-only, the sockets are skipped.

Needs wrk (Debian's wrk) and the Python package websockets. The load generators share the
machine with the server: the figures are what this machine does with both on it.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from loadkit import free_port, percentile

PASSWORD = "a long enough passphrase for load"


def call(base, method, path, token=None, body=None, headers=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request) as response:
        text = response.read().decode()
        return json.loads(text) if text else {}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def sockets_worker(url, tokens, ready, start, results, count):
    """Opens one socket per token, reports when all are welcomed, then records the arrival
    time of every event by sequence until `count` events came to each."""
    import websockets

    arrivals = {}

    async def one(token, index):
        async with websockets.connect(url, max_size=1 << 22, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            welcomed = False
            seen = 0
            async for frame in ws:
                now = time.time()
                if not welcomed:
                    welcomed = True
                    ready.put(1)
                    continue
                if frame.startswith('{"type":"event"'):
                    sequence = int(re.search(r'"sequence":(\d+)', frame).group(1))
                    arrivals.setdefault(sequence, []).append(now)
                    seen += 1
                    if seen >= count:
                        return

    await asyncio.gather(*(one(token, index) for index, token in enumerate(tokens)))
    results.put(arrivals)


def run_sockets(url, tokens, ready, start, results, count):
    asyncio.run(sockets_worker(url, tokens, ready, start, results, count))


def cpu_seconds(pid):
    """The user and system CPU time a process has used so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(command, pid):
    """Runs wrk and prints its output with the CPU time the server under it spent per request:
    unlike requests a second, that figure barely moves when something else shares the cores."""
    before = cpu_seconds(pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    spent = cpu_seconds(pid) - before
    print(output, flush=True)
    requests = re.search(r"(\d+) requests in", output)
    if requests and int(requests.group(1)) > 0:
        print(f"server CPU time per request: {spent / int(requests.group(1)) * 1e6:.0f} µs "
              f"({spent:.1f} s over {requests.group(1)} requests)", flush=True)
    return output


def measure_bare(arguments, script, folder):
    """The same wrk run (same body, connections and duration) against the bare route."""
    port = free_port()
    bare = subprocess.Popen([arguments.bare, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        command = ["wrk", "-t2", f"-c{arguments.connections}", f"-d{arguments.duration}s", "--latency", "-s", script,
                   f"http://127.0.0.1:{port}/echo"]
        print("bare route: $ " + " ".join(command).replace(folder, "$TMP"), flush=True)
        run_wrk(command, bare.pid)
    finally:
        bare.terminate()
        bare.wait(timeout=30)


def measure_routes(arguments, folder, base, pid, token, campaign):
    """Each operation of the ladder under the same wrk load, one after another."""
    ladder = [
        ("GET /healthz, no token", "GET", "/healthz", None, False),
        ("GET /healthz, a token (its session read)", "GET", "/healthz", None, True),
        ("GET /v1/me", "GET", "/v1/me", None, True),
        ("POST /v1/sample-rolls (a body, its contract, a roll)", "POST", "/v1/sample-rolls", '{"expression":"1d20+5"}', True),
        ("GET /v1/campaigns/{id} (the membership read)", "GET", f"/v1/campaigns/{campaign}", None, True),
        ("POST /v1/campaigns/{id}/rolls (the write, the entry)", "POST", f"/v1/campaigns/{campaign}/rolls", '{"expression":"1d20+5"}', True),
    ]
    print(f"CPU time per request, wrk -t2 -c{arguments.connections} -d{arguments.route_duration}s each:", flush=True)
    for index, (name, method, path, body, signed) in enumerate(ladder):
        script = os.path.join(folder, f"route{index}.lua")
        with open(script, "w") as lua:
            lua.write(f'wrk.method = "{method}"\n')
            if body:
                lua.write(f"wrk.body = '{body}'\n")
                lua.write('wrk.headers["Content-Type"] = "application/json"\n')
            if signed:
                lua.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
        command = ["wrk", "-t2", f"-c{arguments.connections}", f"-d{arguments.route_duration}s", "-s", script, base + path]
        before = cpu_seconds(pid)
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        spent = cpu_seconds(pid) - before
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        print(f"  {name:55s} {rate:9.0f} requests/s  {spent / max(requests, 1) * 1e6:6.0f} µs"
              + (f"  ({non2xx.group(1)} not 2xx)" if non2xx else ""), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/rfl-server")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--broadcasts", type=int, default=200)
    parser.add_argument("--players", type=int, default=50)
    parser.add_argument("--bare", help="the bare-route binary to measure beside the server")
    parser.add_argument("--rolls-only", action="store_true", help="skip the live sockets")
    parser.add_argument("--routes", action="store_true", help="first, the CPU time per request of a ladder of operations")
    parser.add_argument("--route-duration", type=int, default=10)
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")

    folder = tempfile.mkdtemp(prefix="rfl-load-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = dict(os.environ, RFL_DATA_DIR=folder, RFL_PORT=str(port), RFL_BCRYPT_COST="4", RFL_LOG_LEVEL="warning",
                       RFL_RATE_LIMIT_PER_MINUTE="1000000", RFL_RATE_LIMIT_BURST="1000000",
                       RFL_AUTH_RATE_LIMIT_PER_MINUTE="1000000", RFL_AUTH_RATE_LIMIT_BURST="1000000",
                       RFL_ACCOUNT_RATE_LIMIT_PER_MINUTE="1000000", RFL_ACCOUNT_RATE_LIMIT_BURST="1000000",
                       RFL_ACCESS_TOKEN_TTL="3600")
    env_file = os.path.join(folder, "none.env")
    open(env_file, "w").close()

    def add_user(name, role):
        result = subprocess.run([arguments.binary, "user", "add", name, "--role", role, "--env-file", env_file], input=PASSWORD.encode(),
                       env=environment, capture_output=True)
        if result.returncode != 0:
            sys.exit(f"rfl-server user add {name}: {result.stderr.decode().strip()}")

    add_user("loadmaster", "game_master")
    players = [f"player{index}" for index in range(arguments.players)]
    for name in players:
        add_user(name, "player")
    server = subprocess.Popen([arguments.binary, "serve", "--env-file", env_file], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                call(base, "GET", "/readyz")
                break
            except Exception:
                time.sleep(0.02)
        login = lambda name: call(base, "POST", "/v1/auth/login", body={"username": name, "password": PASSWORD})["access_token"]
        master = login("loadmaster")
        campaign = call(base, "POST", "/v1/campaigns", master, {"name": "Load", "packs": [{"id": "core"}]})["id"]
        invitation = call(base, "POST", f"/v1/campaigns/{campaign}/invitations", master, {"max_uses": 100})
        tokens = [login(name) for name in players]
        for token in tokens:
            call(base, "POST", invitation["path"], token, {"code": invitation["code"]})
        call(base, "POST", f"/v1/campaigns/{campaign}/sessions", master)
        print(f"rfl-server {arguments.binary}, port {port}, campaign {campaign}, {len(players)} players", flush=True)

        if arguments.routes:
            measure_routes(arguments, folder, base, server.pid, tokens[0], campaign)

        # 1. Authenticated rolls with wrk.
        script = os.path.join(folder, "roll.lua")
        with open(script, "w") as lua:
            lua.write('wrk.method = "POST"\n')
            lua.write('wrk.body = \'{"expression":"1d20+5"}\'\n')
            lua.write('wrk.headers["Content-Type"] = "application/json"\n')
            lua.write(f'wrk.headers["Authorization"] = "Bearer {tokens[0]}"\n')
        command = ["wrk", "-t2", f"-c{arguments.connections}", f"-d{arguments.duration}s", "--latency", "-s", script,
                   f"{base}/v1/campaigns/{campaign}/rolls"]
        print("$ " + " ".join(command).replace(folder, "$TMP"), flush=True)
        output = run_wrk(command, server.pid)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        if non2xx:
            print(f"warning: {non2xx.group(1)} answers were not 2xx", flush=True)
        rss_after_rolls = rss_kib(server.pid)
        if arguments.bare:
            measure_bare(arguments, script, folder)
        if arguments.rolls_only:
            print(f"resident memory: {rss_after_rolls / 1024:.1f} MiB after the roll load", flush=True)
            return

        # 2. Broadcast to live sockets.
        url = f"ws://127.0.0.1:{port}/v1/campaigns/{campaign}/live"
        socket_tokens = [tokens[index % len(tokens)] for index in range(arguments.sockets)]
        halves = [socket_tokens[0::2], socket_tokens[1::2]]
        ready, results, start = multiprocessing.Queue(), multiprocessing.Queue(), multiprocessing.Event()
        workers = [multiprocessing.Process(target=run_sockets, args=(url, half, ready, start, results, arguments.broadcasts)) for half in halves]
        for worker in workers:
            worker.start()
        for _ in range(arguments.sockets):
            ready.get(timeout=120)
        time.sleep(1)  # let the presence messages of the last arrivals drain
        rss_connected = rss_kib(server.pid)
        sent = {}
        for index in range(arguments.broadcasts):
            before = time.time()
            entry = call(base, "POST", f"/v1/campaigns/{campaign}/rolls", master, {"expression": "1d20"})
            sent[entry["sequence"]] = before
            time.sleep(0.05)
        arrivals = {}
        for _ in workers:
            for sequence, times in results.get(timeout=300).items():
                arrivals.setdefault(sequence, []).extend(times)
        for worker in workers:
            worker.join(timeout=60)
        latencies = [(arrival - sent[sequence]) * 1000 for sequence, times in arrivals.items() if sequence in sent for arrival in times]
        expected = arguments.broadcasts * arguments.sockets
        print(f"broadcast: {arguments.sockets} sockets, {arguments.broadcasts} rolls, {len(latencies)} deliveries of {expected} expected", flush=True)
        print(f"  delivery latency from sending the roll: p50 {percentile(latencies, 0.5):.1f} ms, "
              f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms", flush=True)
        print(f"resident memory: {rss_after_rolls / 1024:.1f} MiB after the roll load, "
              f"{rss_connected / 1024:.1f} MiB with {arguments.sockets} sockets connected, "
              f"{rss_kib(server.pid) / 1024:.1f} MiB after the broadcasts", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
