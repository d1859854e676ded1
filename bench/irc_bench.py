#!/usr/bin/env python3
"""`make bench`, chat server part: our server (`chatcast serve`), ngIRCd and InspIRCd
(Debian's; ergo is not packaged for Debian 12) in the same run, each freshly started for
each measurement, rounds alternating the order of the servers.

Each measurement: --clients receiving clients in one room, spread over --load-procs
processes (bench/irc_load.py: one epoll loop each), and one sender (this process).
Throughput: --burst messages sent back to back, until every client has all of them.
Latency: --paced messages at --rate/s, send to receipt at each client. The CPU of the
server, of every load process and of the sender is read from /proc over each window, so
that the report says whether the generator (or the machine) was what limited the figure.

Memory: before anything else, each server freshly started on its own: resident memory
idle, with --memory-clients connected, and after they left.

Written to bench/results/irc.md (and .json); --report-from re-renders the markdown."""
import argparse
import errno
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from irc_load import register, register_many  # noqa: E402
from summary import fmt, heading, save, spread  # noqa: E402

OURS = "chatcast serve"
# The sender keeps at most --window messages ahead of a watching client in the room (it writes
# 100 messages a write, the next write once the watcher has the message WINDOW back): InspIRCd
# 3 reads a client's socket only when new data arrives (2 x netbuffersize a time) or on its 1 s
# timer, so a whole burst written at once left it idle for seconds (16 s for 2,000 messages).
# 500 messages (about 63 KiB) stay under the 128 KiB it reads a time with netbuffersize 65534,
# and at 100 receivers are 50,000 deliveries in flight for every server.
MIN_WINDOW = 0.25    # s: a shorter burst is too short for CPU shares to judge by
GEN_BOUND = 0.8      # a generator process above this share of a core may be what limits the figure
MACHINE_BOUND = 0.9  # server + generator above this share of all cores: they competed for CPU


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--load-procs", type=int, default=4, help="processes the receiving clients are spread over")
    p.add_argument("--burst", type=int, default=5000, help="messages sent back to back for throughput")
    p.add_argument("--paced", type=int, default=600, help="messages sent at --rate for latency")
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--window", type=int, default=500, help="messages the sender may be ahead of the watching client")
    p.add_argument("--memory-clients", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=5, help="each server measured this many times, the order rotated each round")
    p.add_argument("--quick", action="store_true", help="2 rounds of small counts: checks the script works (~1 min)")
    p.add_argument("--only", help="measure one server (for profiling); no report is written")
    p.add_argument("--port", type=int, help="with --only: measure a server already listening on this port")
    p.add_argument("--report-from", help="write the report again from this irc.json (no measuring)")
    a = p.parse_args()
    if a.quick:
        a.clients, a.burst, a.paced, a.memory_clients, a.rounds = 20, 2000, 100, 100, 2
    return a


# ---------------------------------------------------------------- processes and /proc

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


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def cpu_seconds(pid):
    """CPU time of every thread of a process, in ns resolution (/proc/PID/task/*/schedstat);
    /proc/PID/stat counts 10 ms ticks, too coarse for a burst of a fraction of a second."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return total / 1e9


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy (all cores, every process: /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


def settle(pids, limit=5):
    """Waits until the server is idle (clients just joined), so that work left over from
    the set-up does not fall into the measured window."""
    end = time.time() + limit
    while time.time() < end:
        before = [cpu_seconds(p) for p in pids]
        time.sleep(0.3)
        if all((cpu_seconds(p) - b) / 0.3 < 0.1 for p, b in zip(pids, before)):
            return


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- servers

def start_ours(tmp, port):
    # The binary may be being rebuilt (missing, or "text file busy") for a moment: wait for it.
    for _ in range(60):
        if os.access(ARGS.chatcast, os.X_OK):
            try:
                return popen_ours(tmp, port)
            except OSError as e:
                if e.errno != errno.ETXTBSY:
                    raise
        time.sleep(1)
    return popen_ours(tmp, port)


def popen_ours(tmp, port):
    return subprocess.Popen([ARGS.chatcast, "serve", "--irc-port", str(port), "--rtsp-port", "0", "--data-dir", os.path.join(tmp, "ours"),
                             "--rate-limit", "1000000/1", "--max-connections", "5000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def start_ngircd(tmp, port):
    conf = os.path.join(tmp, "ngircd.conf")
    with open(conf, "w") as f:
        f.write(f"[Global]\nName = irc.bench.local\nInfo = bench\nListen = 127.0.0.1\nPorts = {port}\n"
                "[Limits]\nMaxConnections = 5000\nMaxConnectionsIP = 5000\nMaxPenaltyTime = 0\n"
                "[Options]\nPAM = no\nIdent = no\nDNS = no\n")
    return subprocess.Popen(["/usr/sbin/ngircd", "-n", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def start_inspircd(tmp, port):
    conf = os.path.join(tmp, "inspircd.conf")
    with open(conf, "w") as f:
        f.write(f"""<server name="irc.bench.local" description="bench" network="Bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect name="main" allow="*" timeout="60" threshold="100000" pingfreq="120" sendq="16777216" recvq="16777216" localmax="5000"
 globalmax="5000" commandrate="100000000" fakelag="no" maxchans="50" resolvehostnames="no">
<class name="Shutdown" commands="DIE RESTART REHASH">
<class name="bench" privs="users/flood/no-throttle users/flood/no-fakelag users/flood/increased-buffers" commands="*" usermodes="*" chanmodes="*">
<type name="Bench" classes="bench">
<oper name="bench" password="bench" host="*@*" type="Bench">
<performance netbuffersize="65534">
<pid file="{tmp}/inspircd.pid">
<security runasuser="" runasgroup="">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{tmp}/inspircd.log">
""")
    return subprocess.Popen(["inspircd", "--runasroot", "--nofork", f"--config={conf}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


# (name, start, whether the sender opers up). InspIRCd throttles every client (about 100
# commands/s) unless it is an operator with users/flood/no-throttle; ngircd penalises a
# failed OPER, so only InspIRCd's sender opers.
SERVERS = [(OURS, start_ours, False), ("ngircd", start_ngircd, False), ("InspIRCd", start_inspircd, True)]
# Clients registered at once: ngIRCd listens with a queue of 10 (more connecting at once have
# their SYNs dropped and retried 1, 3, 7 s later); InspIRCd completes registrations on its
# once-a-second timer, so it wants many at once.
REGISTER_BATCH = {"ngircd": 10}


# ---------------------------------------------------------------- the load generator

class Load:
    """One bench/irc_load.py process and a line reader on its stdout."""

    def __init__(self, port, prefix, clients, batch):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "irc_load.py"),
                                      json.dumps({"port": port, "prefix": prefix, "clients": clients, "batch": batch})],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.buf = b""

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def read(self, deadline):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if select.select([fd], [], [], left)[0]:
                data = os.read(fd, 1 << 20)
                if not data:
                    err = self.proc.stderr.read().decode(errors="replace").strip()
                    raise RuntimeError(f"a load process exited: {err[-400:]}")
                self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                stop(self.proc)


def read_all(loads, timeout):
    deadline = time.monotonic() + timeout
    outs = [load.read(deadline) for load in loads]
    if any(o is None for o in outs):
        for load, o in zip(loads, outs):
            if o is None:
                load.send("stop")
        late = [load.read(time.monotonic() + 10) if o is None else o for load, o in zip(loads, outs)]
        shorts = [x["short"] for x in late if x and x.get("short")]
        raise RuntimeError(f"timed out after {timeout} s; some clients short: {shorts[:3]}")
    return outs


def nearest_rank(values, q):
    return values[min(len(values) - 1, int(len(values) * q))]


def measure(name, port, server_pid, oper):
    """One measurement of a server listening on `port`: burst and paced phases."""
    n, k = ARGS.clients, max(1, min(ARGS.load_procs, ARGS.clients))
    batch = REGISTER_BATCH.get(name, 100)
    loads = [Load(port, f"r{i}x", n // k + (1 if i < n % k else 0), max(1, batch // k)) for i in range(k)]
    sender = watcher = None
    try:
        read_all(loads, 120)  # {"ready": ...}
        sender, _ = register(port, "loadgen")
        watcher, _ = register(port, "watcher")
        if oper:
            sender.sendall(b"OPER bench bench\r\n")
            buf = b""
            while b" 381 " not in buf:
                data = sender.recv(65536)
                if not data:
                    raise RuntimeError("closed after OPER")
                buf += data
        pids = [load.proc.pid for load in loads]
        settle([server_pid] if server_pid else [])

        def snapshot():
            return (time.monotonic(), cpu_seconds(server_pid) if server_pid else None,
                    [cpu_seconds(p) for p in pids], time.process_time(), machine_busy_seconds())

        def usage(a, b):
            wall = b[0] - a[0]
            return {"window_s": wall, "server_cores": (b[1] - a[1]) / wall if server_pid else None,
                    "load_cores": [(y - x) / wall for x, y in zip(a[2], b[2])], "sender_cores": (b[3] - a[3]) / wall,
                    "machine_cores": (b[4] - a[4]) / wall}

        text = "x" * 100
        # Throughput: a burst, pipelined, 100 messages a write.
        for load in loads:
            load.send(f"burst {ARGS.burst}")
        read_all(loads, 10)  # armed
        chunks = [(min(i + 100, ARGS.burst), "".join(f"PRIVMSG #bench :b {j} {text}\r\n" for j in range(i, min(i + 100, ARGS.burst))).encode())
                  for i in range(0, ARGS.burst, 100)]
        watcher.setblocking(False)
        seen, tail, waited = 0, b"", 0.0
        a = snapshot()
        for upto, chunk in chunks:
            sender.sendall(chunk)
            w0 = time.monotonic()
            while upto - seen > ARGS.window:
                if time.monotonic() - a[0] > 300:
                    raise RuntimeError(f"the watching client had {seen} of {upto} messages after 300 s")
                select.select([watcher], [], [], 1.0)
                try:
                    got = watcher.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not got:
                    raise RuntimeError("the server closed the watching client")
                data = tail + got
                end = data.rfind(b"\n") + 1
                seen, tail = seen + data[:end].count(b"PRIVMSG #bench :"), data[end:]
            waited += time.monotonic() - w0
        send_s = time.monotonic() - a[0]
        outs = read_all(loads, 300)
        watcher.sendall(b"QUIT :done\r\n")
        b = snapshot()
        burst_s = max(o["done_at"] for o in outs) - a[0]
        burst_cpu = usage(a, b)
        # Latency: paced messages carrying their send time (time.monotonic, shared by all processes).
        for load in loads:
            load.send(f"paced {ARGS.paced}")
        read_all(loads, 10)
        a = snapshot()
        for i in range(ARGS.paced):
            delay = a[0] + i / ARGS.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sender.sendall(f"PRIVMSG #bench :t {time.monotonic():.6f} {text}\r\n".encode())
        outs = read_all(loads, ARGS.paced / ARGS.rate + 60)
        b = snapshot()
        latencies = sorted(x for o in outs for x in o["latencies"])
        return {"deliveries_per_s": n * ARGS.burst / burst_s, "burst_s": burst_s, "send_s": send_s, "window_wait_s": waited,
                "p50_ms": 1000 * nearest_rank(latencies, 0.5), "p99_ms": 1000 * nearest_rank(latencies, 0.99),
                "latency_samples": len(latencies), "burst_cpu": burst_cpu, "paced_cpu": usage(a, b),
                "server_threads": threads(server_pid) if server_pid else None}
    finally:
        for sock in (sender, watcher):
            if sock:
                sock.close()
        for load in loads:
            load.close()


def memory(name, start, tmp):
    """A freshly started server, before any other load on it: resident memory idle, with
    --memory-clients connected (one in ten in a room), and after they left."""
    port = free_port()
    proc = start(tmp, port)
    conns = []
    try:
        if not wait_port(port):
            raise RuntimeError(f"{name} did not start")
        time.sleep(1)
        idle = rss_kib(proc.pid)
        conns = [sock for sock, _ in register_many(port, [f"m{k}" for k in range(ARGS.memory_clients)], lambda k: k % 10 == 0,
                                                  batch=REGISTER_BATCH.get(name, 100))]
        time.sleep(1)
        loaded = rss_kib(proc.pid)
        for s in conns:
            try:
                s.sendall(b"QUIT :bye\r\n")
            except OSError:
                pass
            s.close()
        conns = []
        time.sleep(2)
        settle([proc.pid])
        return {"idle_kib": idle, "loaded_kib": loaded, "after_kib": rss_kib(proc.pid), "clients": ARGS.memory_clients}
    finally:
        for s in conns:
            s.close()
        stop(proc)


# ---------------------------------------------------------------- summaries and report

def verdict(s, higher_is_better=True):
    """Whether the rounds agree on which side of 1 a ratio ours ÷ best other lies."""
    if not s:
        return "not measured"
    if s["min"] <= 1.0 <= s["max"]:
        return "not resolvable (the spread covers 1)"
    above = s["min"] > 1.0
    return ("ours ahead" if above == higher_is_better else "ours behind") + " in every round"


def busiest(run):
    c = run["burst_cpu"]
    return max(c["load_cores"] + [c["sender_cores"]])


def summarize(res):
    ok = [r for r in res["runs"] if "error" not in r]
    names = [n for n, _, _ in SERVERS if any(r["server"] == n for r in ok)]
    table = {}
    for name in names:
        rs = [r for r in ok if r["server"] == name]
        table[name] = {key: spread([r[key] for r in rs]) for key in ("deliveries_per_s", "burst_s", "p50_ms", "p99_ms")}
        table[name]["server_cores"] = spread([r["burst_cpu"]["server_cores"] for r in rs])
        table[name]["busiest_gen"] = spread([busiest(r) for r in rs])
        table[name]["gen_total"] = spread([sum(r["burst_cpu"]["load_cores"]) + r["burst_cpu"]["sender_cores"] for r in rs])
        table[name]["paced_busiest_gen"] = spread([max(r["paced_cpu"]["load_cores"] + [r["paced_cpu"]["sender_cores"]]) for r in rs])
        table[name]["short"] = sum(1 for r in rs if r["burst_cpu"]["window_s"] < MIN_WINDOW)
        judged = [r for r in rs if r["burst_cpu"]["window_s"] >= MIN_WINDOW]
        table[name]["judged"] = len(judged)
        table[name]["gen_bound"] = sum(1 for r in judged if busiest(r) > GEN_BOUND)
        table[name]["machine"] = spread([r["burst_cpu"]["machine_cores"] for r in rs])
        table[name]["machine_bound"] = sum(1 for r in judged if r["burst_cpu"]["machine_cores"] > MACHINE_BOUND * res["cpus"])
        table[name]["rounds"] = len(rs)
        table[name]["threads"] = max((r.get("server_threads") or 0 for r in rs), default=None)
    ratios = {"deliveries_per_s": [], "p50_ms": [], "p99_ms": []}
    for rnd in sorted({r["round"] for r in ok}):
        here = {r["server"]: r for r in ok if r["round"] == rnd}
        others = [r for n, r in here.items() if n != OURS]
        if OURS not in here or not others:
            continue
        ours = here[OURS]
        ratios["deliveries_per_s"].append(ours["deliveries_per_s"] / max(r["deliveries_per_s"] for r in others))
        for key in ("p50_ms", "p99_ms"):
            ratios[key].append(ours[key] / min(r[key] for r in others))
    return table, {k: spread(v) for k, v in ratios.items()}, {k: v for k, v in ratios.items()}


def report(res):
    s = res["settings"]
    table, ratios, per_round = summarize(res)
    errors = [r for r in res["runs"] if "error" in r]
    lines = heading("Chat server benchmark", res.get("quick"), f"{s['clients']} clients, {res['rounds']} rounds")
    lines += [
        f"{s['clients']} clients in one room on loopback. Throughput: {s['burst']} messages of 100+ bytes sent back to back "
        f"(100 a write) by one sender, until every client has all of them (deliveries/s = clients × messages ÷ seconds from "
        f"the first message sent to the last received); the sender stays at most {s.get('window', 500)} messages ahead of "
        "one more client in the room that it watches (see below why). "
        f"Latency: {s['paced']} messages at {s['rate']}/s, send to receipt "
        f"at each client, nearest-rank p50 and p99 over all {s['clients']} × {s['paced']} receipts. Each server is started "
        f"afresh for each measurement; {res['rounds']} rounds, the order of the servers rotated each round "
        f"({', '.join(' → '.join(o) for o in res['orders'])}). Figures: median (min–max) over the rounds. "
        f"Machine: {res['cpus']} CPU cores, {res.get('host', '?')}.", "",
        "| server | deliveries/s | burst s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for name, t in table.items():
        lines.append(f"| {name} | {fmt(t['deliveries_per_s'], '{:,.0f}')} | {fmt(t['burst_s'])} | {fmt(t['p50_ms'])} | {fmt(t['p99_ms'])} |")
    lines += ["", "Ours ÷ best of the others, computed in each round (the other server best in that round), median (min–max):", "",
              "| figure | ours ÷ best other | goal | verdict |", "|---|---|---|---|",
              f"| deliveries/s | **{fmt(ratios['deliveries_per_s'])}** | ≥ 1 | {verdict(ratios['deliveries_per_s'])} |",
              f"| p50 latency | {fmt(ratios['p50_ms'])} | ≤ 1 | {verdict(ratios['p50_ms'], higher_is_better=False)} |",
              f"| p99 latency | {fmt(ratios['p99_ms'])} | ≤ 1 | {verdict(ratios['p99_ms'], higher_is_better=False)} |", "",
              "Per round (deliveries/s ratio): " + ", ".join(f"{x:.2f}" for x in per_round["deliveries_per_s"]) + ".", ""]
    # The load generator.
    lines += ["## Is the load generator the bottleneck?", "",
              f"The receiving clients are spread over {s['load_procs']} processes (`bench/irc_load.py`: one epoll loop each; "
              "in a burst it reads every 2 ms and counts with `bytes.count`, not per line); the sender is the bench process itself. The CPU "
              "of the server and of every load process is read from `/proc/PID/task/*/schedstat` (the sender's from "
              "`time.process_time`, the whole machine's from `/proc/stat`) over the burst window (first message sent to "
              f"last received). In cores (1.00 = one core busy all the window); only rounds whose burst lasted at least "
              f"{MIN_WINDOW} s are judged:", "",
              "| server | server | busiest generator process | all generator processes | whole machine (every process) | "
              f"server threads | generator-bound rounds (> {GEN_BOUND:.0%} of a core) | machine-bound rounds (> {MACHINE_BOUND:.0%} of "
              f"{res['cpus']} cores busy) |", "|---|---|---|---|---|---|---|---|"]
    for name, t in table.items():
        lines.append(f"| {name} | {fmt(t['server_cores'])} | {fmt(t['busiest_gen'])} | {fmt(t['gen_total'])} | {fmt(t['machine'])} | "
                     f"{t['threads'] or '—'} | " + (f"{t['gen_bound']} of {t['judged']} | {t['machine_bound']} of {t['judged']} |"
                                              if t["judged"] else "not judged (bursts too short) | |"))
    lines.append("")
    lines.append("Verdict, per server:")
    lines.append("")
    for name, t in table.items():
        judged = [r for r in res["runs"] if r.get("server") == name and "error" not in r
                  and r["burst_cpu"]["window_s"] >= MIN_WINDOW]
        note = f" ({t['short']} of {t['rounds']} bursts shorter than {MIN_WINDOW} s not judged)" if t["short"] else ""
        if not judged:
            lines.append(f"- {name}: not judged, every burst was shorter than {MIN_WINDOW} s (a longer --burst is needed).")
        elif t["gen_bound"]:
            lines.append(f"- {name}: **the generator was the bottleneck** in {t['gen_bound']} of {len(judged)} rounds (a generator "
                         "process near a full core): there the throughput is a lower bound on what the server can do; a "
                         f"faster generator (more --load-procs on more cores, or a compiled one) is needed to measure it{note}.")
        else:
            worst = max(busiest(r) for r in judged)
            lines.append(f"- {name}: not generator-bound: the busiest generator process used at most {worst:.2f} of a core "
                         f"(limit taken {GEN_BOUND:.2f}){note}.")
    lines.append("")
    mach = [n for n, t in table.items() if t["machine_bound"]]
    if mach:
        lines.append(f"For {', '.join(mach)} the machine had nearly all {res['cpus']} cores busy in some rounds (the server, the "
                     "generator and anything else running): they competed for the CPU, so those figures are what this machine "
                     "gave, a lower bound on the server alone. Where the whole machine is well above server + generator, "
                     "other processes were running: the figures are not to be quoted.")
        lines.append("")
    waits = {n: spread([r["window_wait_s"] / r["burst_s"] for r in res["runs"] if r.get("server") == n and "error" not in r
                         and "window_wait_s" in r]) for n in table}
    if any(waits.values()):
        lines.append("The sender spent this share of each burst waiting for its window (the server had not yet delivered the "
                     "messages it had): " + ", ".join(f"{fmt(w, '{:.0%}')} ({n})" for n, w in waits.items() if w)
                     + "; for the rest it was writing, or done and waiting for the last deliveries.")
        lines.append("")
    lines.append("In the paced (latency) phase the busiest generator process used "
                 + ", ".join(f"{fmt(t['paced_busiest_gen'])} ({n})" for n, t in table.items()) + " of a core.")
    lines.append("")
    if errors:
        lines += ["Measurements that failed (left out of the figures): "
                  + "; ".join(f"round {r['round']} {r['server']}: {r['error']}" for r in errors) + ".", ""]
    lines += ["## What still differs between the servers", "",
              "- Flood limits are lifted for the sender on each: ours `--rate-limit 1000000/1 --max-connections 5000`; ngIRCd "
              "`MaxPenaltyTime = 0`, `MaxConnections(IP) = 5000`; InspIRCd a connect class with `commandrate=100000000 "
              "fakelag=no threshold=100000`, sendq and recvq 16 MiB, `<performance netbuffersize=65534>` (its largest; default 10240), and the sender "
              "opers up for `users/flood/no-throttle no-fakelag increased-buffers` (ngIRCd penalises a failed OPER, so only "
              "InspIRCd's sender does).",
              "- InspIRCd 3.15 reads a client's socket only when new data arrives (2 × netbuffersize a time) or on its 1 s "
              "timer: a whole burst written at once left it idle for seconds (2,000 messages took 16 s, its CPU near zero). "
              f"Hence the sender's window of {s.get('window', 500)} messages (about 63 KiB, under the 128 KiB InspIRCd then "
              "reads a time), the same for every server: at 100 receivers that is 50,000 deliveries in flight. `--window` "
              "changes it, to see whether it limits a server. A registration on InspIRCd completes on that timer too (1 s; "
              "clients register 100 at once).",
              "- The watching client is one more member of the room (deliveries to it are not counted).",
              "- Threads: ngIRCd and InspIRCd run their clients on one thread; ours on SwiftNIO event loops (threads at the "
              "end of a measurement in the table above).",
              "- Write buffers: each server's own defaults apart from InspIRCd's sendq above (ours and ngIRCd's are not set).",
              "- Ours keeps room history under `--data-dir` (a fresh temporary one per measurement); the others keep none.",
              "- ergo is not packaged for Debian 12; InspIRCd stands in for it.", ""]
    mem = res.get("memory") or {}
    if mem:
        lines += ["## Memory", "",
                  "Each server freshly started on its own before any other load (the first thing this bench does): resident "
                  f"memory (VmRSS) 1 s after start, with {s['memory_clients']:,} clients connected (registered; one in ten in "
                  "one room), and 2 s after they quit.", "",
                  "| server | idle MiB | with clients MiB | after they left MiB | after ÷ idle |", "|---|---|---|---|---|"]
        for name, m in mem.items():
            if "error" in m:
                lines.append(f"| {name} | {m['error']} | | | |")
            else:
                lines.append(f"| {name} | {m['idle_kib'] / 1024:.1f} | {m['loaded_kib'] / 1024:.1f} | {m['after_kib'] / 1024:.1f} "
                             f"| {m['after_kib'] / m['idle_kib']:.2f} |")
        o = mem.get(OURS)
        if o and "error" not in o:
            lines += ["", f"Goals for `chatcast serve`: idle < 64 MiB ({o['idle_kib'] / 1024:.1f}), with {s['memory_clients']:,} "
                      f"clients < 200 MiB ({o['loaded_kib'] / 1024:.1f})."]
        lines.append("")
    if res.get("duration_s"):
        lines += [f"The run took {res['duration_s'] / 60:.1f} min.", ""]
    return "\n".join(lines)


def write(res):
    save(ARGS.out, "irc", report(res), res)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, ARGS.memory_clients + 1024)), hard))
    servers = [x for x in SERVERS if x[0] != "InspIRCd" or shutil.which("inspircd")]
    if ARGS.only:
        servers = [x for x in servers if x[0] == ARGS.only]
        if not servers:
            sys.exit(f"--only: one of {', '.join(n for n, _, _ in SERVERS)}")
        if ARGS.port:
            print(ARGS.only, json.dumps(measure(ARGS.only, ARGS.port, None, servers[0][2])))
            return
    started = time.time()
    res = {"quick": ARGS.quick, "settings": {k: v for k, v in vars(ARGS).items() if k != "report_from"},
           "cpus": os.cpu_count(), "host": os.uname().release, "rounds": ARGS.rounds, "orders": [], "runs": [], "memory": {}}
    with tempfile.TemporaryDirectory() as tmp:
        if not ARGS.only:
            for name, start, _ in servers:
                d = os.path.join(tmp, "memory-" + name.split()[0])
                os.makedirs(d)
                try:
                    res["memory"][name] = memory(name, start, d)
                except Exception as e:  # the others' memory is context; ours must work
                    if name == OURS:
                        raise
                    res["memory"][name] = {"error": str(e)[:200]}
                print("memory", name, res["memory"][name], flush=True)
        for rnd in range(ARGS.rounds):
            order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
            res["orders"].append([n for n, _, _ in order])
            for name, start, oper in order:
                d = os.path.join(tmp, f"{rnd}-{name.split()[0]}")
                os.makedirs(d)
                port = free_port()
                proc = start(d, port)
                try:
                    if not wait_port(port):
                        raise RuntimeError(f"{name} did not start")
                    run = {"server": name, "round": rnd, **measure(name, port, proc.pid, oper)}
                except RuntimeError as e:
                    run = {"server": name, "round": rnd, "error": str(e)[:300]}
                finally:
                    stop(proc)
                res["runs"].append(run)
                print(f"[{(time.time() - started) / 60:.1f} min] round {rnd + 1}/{ARGS.rounds} {name}:",
                      json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in run.items()
                                  if k not in ("burst_cpu", "paced_cpu")}),
                      "burst cores: server", run.get("burst_cpu", {}).get("server_cores"),
                      "load", [round(x, 2) for x in run.get("burst_cpu", {}).get("load_cores", [])],
                      "sender", run.get("burst_cpu", {}).get("sender_cores"), flush=True)
    if ARGS.only:
        return
    res["duration_s"] = time.time() - started
    write(res)


ARGS = parse_args()
if __name__ == "__main__":
    if ARGS.report_from:
        with open(ARGS.report_from) as f:
            write(json.load(f))
    else:
        main()
