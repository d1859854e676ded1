#!/usr/bin/env python3
"""`make bench`, chat server part: 100 clients in one room and one load generator, the
same run against our server (`chatcast serve`), ngircd and InspIRCd (Debian's; ergo is not
packaged for Debian 12): messages per second delivered to all, and p50/p99 latency from
send to receipt. Then our server's resident memory idle, with 1,000 connected clients, and
after they leave. Written to bench/results/irc.md (and .json)."""
import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
p.add_argument("--clients", type=int, default=100)
p.add_argument("--burst", type=int, default=2000, help="messages sent back to back for throughput")
p.add_argument("--paced", type=int, default=600, help="messages sent at --rate for latency")
p.add_argument("--rate", type=int, default=200)
p.add_argument("--memory-clients", type=int, default=1000)
p.add_argument("--rounds", type=int, default=3, help="each server measured this many times, alternating; medians reported")
p.add_argument("--quick", action="store_true")
p.add_argument("--only", help="measure one server (for profiling); no report is written")
p.add_argument("--port", type=int, help="with --only: measure a server already listening on this port")
ARGS = p.parse_args()
if ARGS.quick:
    ARGS.clients, ARGS.burst, ARGS.paced, ARGS.memory_clients, ARGS.rounds = 20, 200, 100, 100, 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start_ours(tmp, port):
    return subprocess.Popen([ARGS.chatcast, "serve", "--irc-port", str(port), "--rtsp-port", "0", "--data-dir", os.path.join(tmp, "ours"),
                             "--rate-limit", "1000000/1", "--max-connections", "5000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_ngircd(tmp, port):
    conf = os.path.join(tmp, "ngircd.conf")
    with open(conf, "w") as f:
        f.write(f"[Global]\nName = irc.bench.local\nInfo = bench\nListen = 127.0.0.1\nPorts = {port}\n"
                "[Limits]\nMaxConnections = 5000\nMaxConnectionsIP = 5000\nMaxPenaltyTime = 0\n"
                "[Options]\nPAM = no\nIdent = no\nDNS = no\n")
    return subprocess.Popen(["/usr/sbin/ngircd", "-n", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_inspircd(tmp, port):
    conf = os.path.join(tmp, "inspircd.conf")
    with open(conf, "w") as f:
        f.write(f"""<server name="irc.bench.local" description="bench" network="Bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect name="main" allow="*" timeout="60" threshold="100000" pingfreq="120" sendq="16777216" recvq="65536" localmax="5000"
 globalmax="5000" commandrate="100000000" fakelag="no" maxchans="50" resolvehostnames="no">
<class name="Shutdown" commands="DIE RESTART REHASH">
<class name="bench" privs="users/flood/no-throttle users/flood/increased-buffers" commands="*" usermodes="*" chanmodes="*">
<type name="Bench" classes="bench">
<oper name="bench" password="bench" host="*@*" type="Bench">
<pid file="{tmp}/inspircd.pid">
<security runasuser="" runasgroup="">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{tmp}/inspircd.log">
""")
    return subprocess.Popen(["inspircd", "--runasroot", "--nofork", f"--config={conf}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Receiver:
    def __init__(self):
        self.count = 0
        self.latencies = []
        self.done = asyncio.Event()
        self.expect = None


async def client(port, nick, receiver=None, join=True):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"NICK {nick}\r\nUSER {nick[:10]} 0 * :{nick}\r\n".encode())
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError(f"{nick}: closed during registration")
        if line.startswith(b"PING"):
            writer.write(b"PONG" + line[4:])
        parts = line.split(b" ")
        if len(parts) > 1 and parts[1] in (b"376", b"422"):
            break
    if join:
        writer.write(b"JOIN #bench\r\n")
        while True:
            line = await reader.readline()
            if b" 366 " in line:
                break
    return reader, writer


async def receive(reader, writer, r):
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.startswith(b"PING"):
            writer.write(b"PONG" + line[4:])
            continue
        i = line.find(b"PRIVMSG #bench :")
        if i < 0:
            continue
        now = time.perf_counter()
        payload = line[i + 16:].split(b" ", 2)
        r.count += 1
        if payload[0] == b"t":
            r.latencies.append(now - float(payload[1]))
        if r.expect is not None and r.count >= r.expect:
            r.done.set()


async def measure(port, oper=False):
    conns = []
    receivers = []
    for k in range(ARGS.clients):
        reader, writer = await client(port, f"r{k}")
        r = Receiver()
        receivers.append(r)
        conns.append((reader, writer))
    tasks = [asyncio.create_task(receive(rd, wr, r)) for (rd, wr), r in zip(conns, receivers)]
    g_reader, g_writer = await client(port, "loadgen")
    # InspIRCd throttles every client (about 100 commands/s) unless it is an operator with
    # users/flood/no-throttle (ngircd penalises a failed OPER, so only InspIRCd gets it).
    if oper:
        g_writer.write(b"OPER bench bench\r\n")
        while b" 381 " not in await g_reader.readline():
            pass
    drain = asyncio.create_task(receive(g_reader, g_writer, Receiver()))
    # Throughput: a burst, pipelined.
    for r in receivers:
        r.count, r.expect, r.done = 0, ARGS.burst, asyncio.Event()
    text = "x" * 100
    t0 = time.perf_counter()
    for i in range(ARGS.burst):
        g_writer.write(f"PRIVMSG #bench :b {i} {text}\r\n".encode())
        if i % 100 == 0:
            await g_writer.drain()
    await g_writer.drain()
    await asyncio.wait_for(asyncio.gather(*(r.done.wait() for r in receivers)), timeout=300)
    burst_s = time.perf_counter() - t0
    # Latency: paced messages carrying their send time.
    for r in receivers:
        r.count, r.expect, r.done, r.latencies = 0, ARGS.paced, asyncio.Event(), []
    start = time.perf_counter()
    for i in range(ARGS.paced):
        target = start + i / ARGS.rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        g_writer.write(f"PRIVMSG #bench :t {time.perf_counter():.6f} {text}\r\n".encode())
    await g_writer.drain()
    try:
        await asyncio.wait_for(asyncio.gather(*(r.done.wait() for r in receivers)), timeout=120)
    except asyncio.TimeoutError:
        short = sorted(r.count for r in receivers if r.count < ARGS.paced)
        raise RuntimeError(f"{len(short)} clients short of {ARGS.paced} paced messages: {short[:10]}")
    latencies = sorted(l for r in receivers for l in r.latencies)
    for t in tasks + [drain]:
        t.cancel()
    for _, w in conns + [(g_reader, g_writer)]:
        w.close()
    return {"deliveries_per_s": ARGS.clients * ARGS.burst / burst_s, "burst_s": burst_s,
            "p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)]}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


async def memory(port, pid):
    idle = rss_kib(pid)
    conns = []
    for k in range(ARGS.memory_clients):
        conns.append(await client(port, f"m{k}", join=(k % 10 == 0)))
    await asyncio.sleep(0.5)
    loaded = rss_kib(pid)
    for _, w in conns:
        w.write(b"QUIT :bye\r\n")
        w.close()
    await asyncio.sleep(1.5)
    return {"idle_kib": idle, "loaded_kib": loaded, "after_kib": rss_kib(pid)}


def main():
    servers = [("chatcast serve", start_ours, False), ("ngircd", start_ngircd, False)]
    if shutil.which("inspircd"):
        servers.append(("InspIRCd", start_inspircd, True))
    runs = {}
    mem = None
    with tempfile.TemporaryDirectory() as tmp:
        # Rounds alternate the servers so that a slow moment of this machine does not fall
        # on one server only; the report gives each figure's median over the rounds.
        for round_ in range(ARGS.rounds):
            for name, start, oper in servers:
                if ARGS.only and ARGS.only != name:
                    continue
                if ARGS.port:
                    print(name, asyncio.run(measure(ARGS.port, oper)))
                    return
                port = free_port()
                os.makedirs(os.path.join(tmp, str(round_)), exist_ok=True)
                proc = start(os.path.join(tmp, str(round_)), port)
                try:
                    if not wait_port(port):
                        raise RuntimeError(f"{name} did not start")
                    result = asyncio.run(measure(port, oper))
                    if name == "chatcast serve" and mem is None:
                        mem = asyncio.run(memory(port, proc.pid))
                finally:
                    proc.terminate()
                    proc.wait()
                runs.setdefault(name, []).append(result)
                print(name, result, flush=True)
    results = {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for name, rs in runs.items()}
    if ARGS.only:
        return
    best_other = max(v["deliveries_per_s"] for k, v in results.items() if k != "chatcast serve")
    ours = results["chatcast serve"]
    lines = ["# Chat server benchmark", "",
             f"{ARGS.clients} clients in one room on loopback, one load generator (Python asyncio, same machine). "
             f"Throughput: {ARGS.burst} messages sent back to back, until every client has all of them. Latency: "
             f"{ARGS.paced} messages at {ARGS.rate}/s, send to receipt at each client. Medians of {ARGS.rounds} rounds that "
             "alternate the servers. ergo is not packaged for Debian 12; "
             "InspIRCd stands in for it. Each server with flood limits lifted for the generator (ours: `--rate-limit`, "
             "ngircd: `MaxPenaltyTime = 0`, InspIRCd: an operator with `users/flood/no-throttle`).", "",
             "| server | deliveries/s | burst s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['deliveries_per_s']:,.0f} | {r['burst_s']:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    lines += ["", f"Ours ÷ best of the others (deliveries/s): **{ours['deliveries_per_s'] / best_other:.2f}** (goal ≥ 1).", "",
              f"Resident memory of `chatcast serve`: idle {mem['idle_kib'] / 1024:.1f} MiB (goal < 64), with "
              f"{ARGS.memory_clients:,} clients {mem['loaded_kib'] / 1024:.1f} MiB (goal < 200), after they left "
              f"{mem['after_kib'] / 1024:.1f} MiB (ratio to idle {mem['after_kib'] / mem['idle_kib']:.2f}).", ""]
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "irc.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(ARGS.out, "irc.json"), "w") as f:
        json.dump({"servers": results, "runs": runs, "memory": mem, "clients": ARGS.clients}, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
