#!/usr/bin/env python3
"""`make bench`, video server part: `chatcast serve` against stock gst-rtsp-server 1.22 on
loopback, side by side in one run (results in bench/results/rtsp.md and rtsp.json).

- Memory first, from freshly started servers before any other load: resident memory idle,
  with the live input, with 1 viewer and with 21 viewers; per viewer = (21 − 1) / 20.
- Viewers: both servers get a live 720p30 H.264 clip from ffmpeg (-re -c copy: ours by RTSP
  RECORD, stock by RTP/UDP into a shared mount; both ffmpegs run throughout). For each viewer
  count, TCP-interleaved RTSP viewers split over several client processes (`--client` mode of
  this script) log whole frames (RTP marker bits, timestamps) over a window; the worst
  viewer's loss (timestamp gaps + lag gained), the server's CPU, each client process's CPU.
  Rounds alternate the sides (ours, stock / stock, ours); medians and min–max over the rounds.
- Latency: two publishers (x264 zerolatency; x264 with B-frames plus AAC sound) whose streams
  carry chat lines stamped with the wall clock, and IRC PRIVMSGs, read back by a headless
  `chatcast play`; rounds alternate the publishers.
- 1,000 connect/DESCRIBE/disconnect cycles: resident memory before and after.
"""
import argparse
import json
import math
import os
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FPS = 30
CLEAN = 0.01  # a count is served cleanly when the worst viewer lost under 1 % of its frames
WARMUP = 3.0  # s from the clients' start to the window: everyone connected, any GOP catch-up over
CLIENT_BOUND = 0.8  # a client process above this share of a core may be what limits the count


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
    p.add_argument("--plugins", default=os.path.join(REPO, "build", "gst-plugins"), help="GST_PLUGIN_PATH (chatinject)")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    # 16–384 brackets both servers' limits on 2 cores (stock ~128–192, ours ~192–256 in
    # earlier runs) in six steps; 7 s windows make one lost frame 0.5 %. About 20 min in all.
    p.add_argument("--viewers", default="16,64,128,192,256,384", help="viewer counts tried, in order")
    p.add_argument("--seconds", type=float, default=7, help="measuring window per viewer count")
    p.add_argument("--rounds", type=int, default=5, help="rounds of every measurement, alternating the sides")
    p.add_argument("--clients", type=int, default=4, help="client processes the viewers are split over")
    p.add_argument("--stop-after", type=int, default=2,
                   help="a side stops after this many consecutive counts with >= 1 %% loss (0: try every count)")
    p.add_argument("--stamps", type=int, default=16, help="stamped chat lines and IRC messages per latency round")
    p.add_argument("--memory-viewers", type=int, default=20)
    p.add_argument("--cycles", type=int, default=1000, help="connect/DESCRIBE/disconnect cycles")
    p.add_argument("--quick", action="store_true", help="2 rounds of tiny counts: checks the script works, ~2 min")
    p.add_argument("--report-from", help="write the report again from this rtsp.json (no measuring)")
    p.add_argument("--client", help=argparse.SUPPRESS)  # internal: one load client process (JSON spec)
    a = p.parse_args()
    if a.quick:
        a.viewers, a.seconds, a.rounds, a.stamps, a.cycles = "2,4", 3, 2, 4, 200
    a.counts = [int(x) for x in a.viewers.split(",")]
    return a


# ---------------------------------------------------------------- processes and /proc

class Processes:
    """Every process the bench starts, each in its own process group, so that an error or
    Ctrl-C still stops servers, feeds, publishers and clients."""

    def __init__(self):
        self.running = []

    def start(self, cmd, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        proc = subprocess.Popen(cmd, start_new_session=True, **kw)
        self.running.append(proc)
        return proc

    def stop(self, proc, timeout=10):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass
        if proc in self.running:
            self.running.remove(proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in reversed(list(self.running)):
            self.stop(proc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sleep_until(t):
    time.sleep(max(0.0, t - time.time()))


def settle(pids, limit=8):
    """Waits until the servers are idle again (viewers just left: sessions still tearing
    down), so that one measurement's teardown does not load the next one."""
    end = time.time() + limit
    while time.time() < end:
        before = [cpu_seconds(p) for p in pids]
        time.sleep(0.5)
        if all((cpu_seconds(p) - b) / 0.5 < 0.15 for p, b in zip(pids, before)):
            return


# ---------------------------------------------------------------- RTSP viewers

POLL = 0.05  # s between reads once every viewer plays: each read then takes several packets


class Viewer:
    """A TCP-interleaved RTSP viewer (DESCRIBE, SETUP, PLAY) as a non-blocking state machine,
    logging each whole frame's arrival time and RTP timestamp (marker bit on channel 0).
    Many share one process that reads every POLL s: a coroutine per viewer woke up for every
    packet and cost more CPU than the stock server (64 viewers: 0.40 cores, now 0.07)."""

    def __init__(self, port, path):
        self.url = f"rtsp://127.0.0.1:{port}{path}"
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", port))
        self.state, self.cseq, self.buffer, self.frames, self.error = "connecting", 0, bytearray(), [], None

    def request(self, method, target, headers=""):
        self.cseq += 1
        self.sock.send(f"{method} {target} RTSP/1.0\r\nCSeq: {self.cseq}\r\n{headers}\r\n".encode())

    def connected(self):
        self.state = "describe"
        self.request("DESCRIBE", self.url, "Accept: application/sdp\r\n")

    def readable(self, now):
        data = self.sock.recv(1 << 20)
        if not data:
            raise RuntimeError(f"server closed the connection ({self.state})")
        self.buffer += data
        if self.state in ("describe", "setup"):
            self.answer()
        if self.state == "playing":
            self.packets(now)

    def answer(self):
        """The DESCRIBE or SETUP answer, once whole: the next request."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].decode()
        fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in head.split("\r\n")[1:] if ":" in l}
        length = int(fields.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return
        body = self.buffer[end + 4:end + 4 + length].decode()
        del self.buffer[:end + 4 + length]
        status = int(head.split(" ")[1])
        if status != 200:
            raise RuntimeError(f"{self.state.upper()} {status}")
        if self.state == "describe":
            control = next((l.split(":", 1)[1] for l in body.split("\r\n")
                            if l.startswith("a=control:") and l != "a=control:*"), "stream=0")
            base = fields.get("content-base", self.url + "/")
            target = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control
            self.state = "setup"
            self.request("SETUP", target, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        else:
            # The server may start sending before its PLAY answer: packets() reads both.
            self.state = "playing"
            self.request("PLAY", self.url, f"Session: {fields['session'].split(';')[0]}\r\n")

    def packets(self, now):
        buffer, at = self.buffer, 0
        while len(buffer) - at >= 4:
            if buffer[at] != 0x24:  # not '$': an RTSP message (the PLAY answer)
                end = buffer.find(b"\r\n\r\n", at)
                if end < 0:
                    break
                at = end + 4
                continue
            size = (buffer[at + 2] << 8) | buffer[at + 3]
            if len(buffer) - at < 4 + size:
                break
            if buffer[at + 1] == 0 and size >= 12 and buffer[at + 5] & 0x80:
                self.frames.append((now, int.from_bytes(buffer[at + 8:at + 12], "big")))
            at += 4 + size
        del buffer[:at]


def run_viewers(port, path, n, until):
    """n viewers until the wall-clock time `until`; returns them (closed)."""
    viewers = [Viewer(port, path) for _ in range(n)]
    sel = selectors.DefaultSelector()
    for v in viewers:
        sel.register(v.sock, selectors.EVENT_WRITE, v)
    while time.time() < until:
        if all(v.state in ("playing", "failed") for v in viewers):
            time.sleep(POLL)  # let packets gather: one read for several
            events = sel.select(0)
        else:
            events = sel.select(min(0.05, max(0.0, until - time.time())))
        now = time.monotonic()
        for key, mask in events:
            v = key.data
            try:
                if v.state == "connecting":
                    err = v.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    sel.modify(v.sock, selectors.EVENT_READ, v)
                    v.connected()
                else:
                    v.readable(now)
            except (OSError, RuntimeError, ValueError, KeyError) as e:
                v.state, v.error = "failed", repr(e)[:120]
                sel.unregister(v.sock)
                v.sock.close()
    for v in viewers:
        if v.state != "failed":
            v.sock.close()
    return viewers


EDGE = 1.0  # s at each end of the window over which a viewer's lag is averaged


def viewer_loss(log, t0, t1):
    """A viewer's share of frames lost over [t0, t1]: frames missing from the media time it
    got (RTP timestamp gaps), plus the media time it fell behind the wall clock, that lag
    taken as a median over a second at each end, so that one frame delivered 30 ms late at
    the window's edge is not counted as lost. A viewer without frames at both ends: the
    plain count against the wall clock."""
    inside = [(t, ts) for t, ts in log if t0 <= t <= t1]
    by_count = max(0.0, 1 - len(inside) / (FPS * (t1 - t0)))
    media, at, prev = [], 0, inside[0][1] if inside else 0
    for _, ts in inside:  # RTP timestamps unwrapped (32 bits, 90 kHz), seconds from the first
        at += ((ts - prev + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
        prev = ts
        media.append(at / 90000)
    lags = [(t, t - m) for (t, _), m in zip(inside, media)]
    first = [lag for t, lag in lags if t <= t0 + EDGE]
    last = [lag for t, lag in lags if t >= t1 - EDGE]
    if not first or not last:
        return {"frames": len(inside), "loss": by_count, "count_loss": by_count, "dropped": None, "behind_ms": None}
    span = round(media[-1] * FPS) + 1
    dropped = max(0, span - len(inside))
    behind = max(0.0, statistics.median(last) - statistics.median(first))
    loss = min(1.0, dropped / span + behind / (t1 - t0 - EDGE))
    return {"frames": len(inside), "loss": loss, "count_loss": by_count, "dropped": dropped, "behind_ms": 1000 * behind}


def client_window(spec):
    """One load client process: its viewers' frames over the shared window, and this
    process's own CPU over the same window (is the client what limits the count?)."""
    return measured_window(spec, lambda end: run_viewers(spec["port"], spec["path"], spec["viewers"], end))


def measured_window(spec, run):
    """`run(end)` starts a load process's viewers and returns them once `end` has passed
    (each with `frames` and `error`, None unless it failed); their loss over the window
    [start_at, start_at + seconds] and this process's CPU over it."""
    marks = {}

    def mark(name):
        marks[name] = (time.process_time(), time.monotonic())

    # The window's ends are marked from a timer thread; the viewers' loop runs meanwhile.
    start, end = spec["start_at"], spec["start_at"] + spec["seconds"]
    timers = [threading.Timer(max(0.0, start - time.time()), mark, ["start"]),
              threading.Timer(max(0.0, end - time.time()), mark, ["end"])]
    for t in timers:
        t.start()
    viewers = run(end + 0.05)
    for t in timers:
        t.join()
    (cpu0, t0), (cpu1, t1) = marks["start"], marks["end"]
    failed = [v for v in viewers if v.error]
    return {"viewers": [viewer_loss(v.frames, t0, t1) for v in viewers], "window_s": t1 - t0, "cpu_s": cpu1 - cpu0,
            "playing_at_start": sum(1 for v in viewers if v.frames and v.frames[0][0] < t0), "failed": len(failed),
            "errors": sorted({v.error for v in failed})[:3]}


def describe_status(port, path, timeout=2.0):
    """The status of one DESCRIBE on a new connection (None if the server did not answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"DESCRIBE rtsp://127.0.0.1:{port}{path} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            head = s.recv(4096).decode(errors="replace")
            return int(head.split(" ")[1])
    except (OSError, ValueError, IndexError):
        return None


def wait_live(port, path, timeout=30):
    """Until the mount answers DESCRIBE with 200: our room is live (404 before), the stock
    shared media has prepared from the RTP input."""
    end = time.time() + timeout
    while time.time() < end:
        if describe_status(port, path) == 200:
            return True
        time.sleep(0.25)
    raise RuntimeError(f"rtsp://127.0.0.1:{port}{path} never went live")


def connect_cycles(port, path, n):
    """n connections that each DESCRIBE and hang up (a leak check)."""
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(f"DESCRIBE rtsp://127.0.0.1:{port}{path} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0)
            while len(body) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk


# ---------------------------------------------------------------- the two servers

# Stock gst-rtsp-server 1.22 with the listen backlog and client threads ours sets (1024 and
# 16, Sources/ChatCastRTSP/RTSPServer.swift), one shared media fed live over RTP/UDP by
# ffmpeg: 1.22 cannot bridge its own RECORD to PLAY. The UDP socket gets a 2 MiB buffer so
# that the input does not drop packets when the cores are busy (ours gets TCP).
STOCK_SERVER = r"""
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
port, udp_port, backlog, threads = sys.argv[1:5]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1"); server.set_service(port); server.set_backlog(int(backlog))
server.get_thread_pool().set_max_threads(int(threads))
f = GstRtspServer.RTSPMediaFactory()
f.set_launch('( udpsrc port=%s buffer-size=2097152 caps="application/x-rtp,media=video,clock-rate=90000,'
             'encoding-name=H264,payload=96" ! rtpjitterbuffer latency=100 ! rtph264depay ! h264parse '
             '! rtph264pay name=pay0 pt=96 config-interval=-1 )' % udp_port)
f.set_shared(True)
server.get_mount_points().add_factory("/live", f)
server.attach(None)
GLib.MainLoop().run()
"""
STOCK_BACKLOG, STOCK_THREADS = 1024, 16


class Side:
    """A server under test: its process, the mount viewers play, and its live input."""

    def __init__(self, name, proc, port, path, irc=None):
        self.name, self.proc, self.port, self.path, self.irc = name, proc, port, path, irc
        self.feed = None


def capacity_max_viewers():
    """Ours refuses sessions beyond --max-viewers (default 64): raised only when the counts
    tried need it, the one setting the capacity part changes."""
    needed = max(ARGS.counts) + 16
    return needed if needed > 64 else None


def start_ours(procs, env, tmp, max_viewers=None):
    rtsp, irc = free_port(), free_port()
    cmd = [ARGS.chatcast, "serve", "--rtsp-port", str(rtsp), "--irc-port", str(irc),
           "--data-dir", tempfile.mkdtemp(dir=tmp)]
    if max_viewers:
        cmd += ["--max-viewers", str(max_viewers)]
    side = Side("chatcast", procs.start(cmd, env=env), rtsp, "/lobby", irc)
    if not (wait_port(rtsp) and wait_port(irc)):
        raise RuntimeError("chatcast serve did not start")
    return side


def start_stock(procs, env):
    port, udp = free_port(), free_port()
    proc = procs.start(["/usr/bin/python3", "-c", STOCK_SERVER, str(port), str(udp), str(STOCK_BACKLOG), str(STOCK_THREADS)],
                       env=env)
    side = Side("stock", proc, port, "/live")
    side.udp = udp
    if not wait_port(port):
        raise RuntimeError("the stock server did not start")
    return side


def start_feed(procs, side, clip, tmp):
    """ffmpeg plays the clip in real time, looping, into the server: RECORD over TCP for
    ours (a publisher), RTP over UDP for stock; copied, not re-encoded, on both."""
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip, "-c", "copy"]
    if side.name == "chatcast":
        cmd += ["-f", "rtsp", "-rtsp_transport", "tcp", f"rtsp://127.0.0.1:{side.port}{side.path}"]
    else:
        cmd += ["-f", "rtp", "-sdp_file", os.path.join(tmp, f"stock-{side.udp}.sdp"), f"rtp://127.0.0.1:{side.udp}"]
    side.feed = procs.start(cmd)
    wait_live(side.port, side.path)


def make_clip(tmp, env):
    """720p30 H.264, 2 Mbit/s, GOP 20, parameter sets before every key frame (the RTP feed of
    the stock server has no SDP to carry them)."""
    clip = os.path.join(tmp, "clip-720p30.mkv")
    frames = 300 if ARGS.quick else 900
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "pattern=ball", f"num-buffers={frames}", "!",
                    "video/x-raw,format=I420,width=1280,height=720,framerate=30/1", "!", "x264enc", "tune=zerolatency",
                    "speed-preset=ultrafast", "key-int-max=20", "bitrate=2000", "!", "h264parse", "config-interval=-1",
                    "!", "matroskamux", "!", "filesink", f"location={clip}"], check=True, env=env)
    return clip


# ---------------------------------------------------------------- memory

def spawn_clients(procs, side, n, start_at, seconds):
    """n viewers of `side` split over up to --clients processes (this script's --client mode),
    all measuring over [start_at, start_at + seconds] by the wall clock."""
    k = min(ARGS.clients, n)
    specs = [{"port": side.port, "path": side.path, "viewers": n // k + (1 if i < n % k else 0),
              "start_at": start_at, "seconds": seconds} for i in range(k)]
    return [procs.start([sys.executable, os.path.abspath(__file__), "--client", json.dumps(s)],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in specs]


def collect(clients):
    outs = []
    for proc in clients:
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"a load client failed: {err.strip()[-500:]}")
        outs.append(json.loads(out))
    return outs


def hold_viewers(procs, side, extra, hold):
    """RSS with one viewer, then with `extra` more; and how many of them got frames."""
    start = time.time()
    first = spawn_clients(procs, side, 1, start + hold, hold + 1.5)
    sleep_until(start + hold)
    one = rss_kib(side.proc.pid)
    more = spawn_clients(procs, side, extra, start + 2 * hold, 1.0)
    sleep_until(start + 2 * hold + 0.5)
    many = rss_kib(side.proc.pid)
    outs = collect(first + more)
    return one, many, sum(1 for o in outs for v in o["viewers"] if v["frames"] > 0)


def memory_round(name, procs, env, tmp, clip):
    """A freshly started server: idle, with its live input, 1 viewer, 1 + N viewers."""
    side = start_ours(procs, env, tmp) if name == "chatcast" else start_stock(procs, env)
    try:
        time.sleep(1)
        idle = rss_kib(side.proc.pid)
        start_feed(procs, side, clip, tmp)
        time.sleep(2)
        ready = rss_kib(side.proc.pid)
        hold = 2 if ARGS.quick else 3
        one, many, receiving = hold_viewers(procs, side, ARGS.memory_viewers, hold)
    finally:
        if side.feed:
            procs.stop(side.feed)
        procs.stop(side.proc)
    n = ARGS.memory_viewers
    return {"idle_kib": idle, "input_kib": ready, "one_viewer_kib": one, "viewers_kib": many, "extra_viewers": n,
            "receiving": receiving, "per_viewer_kib": (many - one) / n, "per_viewer_with_first_kib": (many - ready) / (n + 1)}


# ---------------------------------------------------------------- viewer capacity

def measure(side, n):
    """n viewers split over client processes; the worst viewer's loss, the server's CPU and
    each client's CPU over the same window (the clients and this process share the wall clock)."""
    start_at = time.time() + WARMUP
    with Processes() as clients:
        running = spawn_clients(clients, side, n, start_at, ARGS.seconds)
        sleep_until(start_at)
        cpu0, feed0, t0 = cpu_seconds(side.proc.pid), cpu_seconds(side.feed.pid), time.monotonic()
        sleep_until(start_at + ARGS.seconds)
        cpu1, feed1, t1 = cpu_seconds(side.proc.pid), cpu_seconds(side.feed.pid), time.monotonic()
        outs = collect(running)
    viewers = [v for o in outs for v in o["viewers"]]
    fps = [v["frames"] / o["window_s"] for o in outs for v in o["viewers"]]
    client_cores = [o["cpu_s"] / o["window_s"] for o in outs]
    return {"side": side.name, "viewers": n, "worst_loss": max(v["loss"] for v in viewers),
            "worst_count_loss": max(v["count_loss"] for v in viewers),
            "most_dropped": max((v["dropped"] for v in viewers if v["dropped"] is not None), default=None),
            "most_behind_ms": max((v["behind_ms"] for v in viewers if v["behind_ms"] is not None), default=None),
            "mean_fps": statistics.mean(fps),
            "server_cores": (cpu1 - cpu0) / (t1 - t0), "input_ffmpeg_cores": (feed1 - feed0) / (t1 - t0),
            "client_cores": client_cores, "client_bound": max(client_cores) > CLIENT_BOUND,
            "playing_at_start": sum(o["playing_at_start"] for o in outs), "failed": sum(o["failed"] for o in outs),
            "errors": sorted({e for o in outs for e in o["errors"]})[:3]}


def capacity_round(r, sides):
    """Every count on both sides, the side going first swapped every round; a side stops
    after --stop-after consecutive counts with >= 1 % loss."""
    order = sides if r % 2 == 0 else sides[::-1]
    misses = {s.name: 0 for s in sides}
    rows = []
    for n in ARGS.counts:
        for side in order:
            if ARGS.stop_after and misses[side.name] >= ARGS.stop_after:
                continue
            row = measure(side, n)
            rows.append(row)
            misses[side.name] = 0 if is_clean(row) else misses[side.name] + 1
            print(f"  round {r + 1} {side.name:8} {n:4} viewers: worst loss {100 * row['worst_loss']:6.2f} %, "
                  f"(by count {100 * row['worst_count_loss']:.2f} %, dropped ≤ {row['most_dropped']}, behind ≤ "
                  f"{row['most_behind_ms'] or 0:.0f} ms), mean {row['mean_fps']:5.1f} fps, server {row['server_cores']:.3f} cores, clients "
                  f"{'/'.join(f'{c:.2f}' for c in row['client_cores'])}, {row['playing_at_start']}/{n} playing at start"
                  f"{' CLIENT-BOUND' if row['client_bound'] else ''}"
                  f"{'; ' + str(row['failed']) + ' failed ' + str(row['errors']) if row['failed'] else ''}", flush=True)
            settle([s.proc.pid for s in sides])
    return {"round": r + 1, "order": [s.name for s in order], "rows": rows}


# ---------------------------------------------------------------- latency

PUBLISHERS = {
    "zerolatency": "x264enc tune=zerolatency (no B-frames), video only",
    "bframes+aac": "x264enc with 2 B-frames (no zerolatency), plus AAC sound",
}


def publisher_cmd(kind, url, irc, room, nick, stamps):
    """gst-launch: 640x360 test video, encoded, chat lines stamped into it, RECORDed."""
    video = ["videotestsrc", "is-live=true", "pattern=ball", "!", "video/x-raw,format=I420,width=640,height=360,framerate=30/1",
             "!"]
    if kind == "zerolatency":
        video += ["x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=20"]
    else:
        video += ["x264enc", "speed-preset=ultrafast", "key-int-max=30", "bframes=2"]
    video += ["!", "h264parse", "config-interval=-1", "!", "chatinject", f"messages-file={stamps}",
              f"server=irc://127.0.0.1:{irc}", f"room={room}", f"nick={nick}", "!", "rtspclientsink", "name=s",
              f"location={url}"]
    audio = ["audiotestsrc", "is-live=true", "!", "audioconvert", "!", "avenc_aac", "!", "s."] if kind != "zerolatency" else []
    return ["gst-launch-1.0", "-q"] + video + audio


def irc_join(port, nick, room):
    """A chat client in the room, once the server has answered the JOIN (names list end)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nJOIN #{room}\r\n".encode())
    got, end = b"", time.time() + 5
    while b" 366 " not in got and time.time() < end:
        got += sock.recv(4096)
    return sock


def nearest_rank(values, q):
    d = sorted(values)
    return d[max(0, math.ceil(q * len(d)) - 1)]


def start_player(procs, env, tmp, url, stamps, seen, tag):
    """A headless `chatcast play` that has shown a first stamped line; restarted (at most 7
    times) when it exits before that (it often does on a stream with sound: "Internal data
    stream error"). Returns it and the errors of the failed starts."""
    failures = []
    for attempt in range(8):
        log = os.path.join(tmp, f"play-{tag}-{attempt}.err")
        with open(log, "w") as err:
            proc = procs.start([ARGS.chatcast, "play", url, "--headless", "--latency", "50"], env=env,
                               stdout=subprocess.PIPE, stderr=err, text=True)

        def read(proc=proc):
            for line in proc.stdout:
                if '"type":"chat"' in line:
                    seen.setdefault(json.loads(line)["text"], time.time())

        threading.Thread(target=read, daemon=True).start()
        deadline = time.time() + 15
        while "ready" not in seen and proc.poll() is None and time.time() < deadline:
            with open(stamps, "a") as f:
                f.write("stamp: ready\n")
            time.sleep(1)
        if "ready" in seen:
            return proc, failures
        procs.stop(proc)
        with open(log) as f:
            failures.append(f"exit {proc.returncode}: " + " / ".join(l.strip() for l in f.readlines()[-2:])[:200])
        print(f"    viewer failed to start ({failures[-1]}); retrying", flush=True)
    return None, failures


def latency_round(procs, env, tmp, serve, kind, tag):
    """Stamped chat lines (publisher → server → viewer output) and IRC PRIVMSGs (→ chatinject
    → stream → viewer output), each timed to its JSON line in a headless viewer."""
    stamps = os.path.join(tmp, f"stamps-{tag}.txt")
    open(stamps, "w").close()
    room = f"lat{tag}"
    url = f"rtsp://127.0.0.1:{serve.port}/{room}"
    publisher = procs.start(publisher_cmd(kind, url, serve.irc, room, f"pub{tag}", stamps), env=env)
    player, irc, seen, failures = None, None, {}, []
    sent_file, sent_irc = {}, {}
    try:
        wait_live(serve.port, "/" + room)
        player, failures = start_player(procs, env, tmp, url, stamps, seen, tag)
        irc = irc_join(serve.irc, f"bench{tag}", room)
        # Random gaps: chatinject reads the file every 100 ms and the stream has a frame every
        # 33 ms; fixed gaps would hit the same phase of both every time.
        for i in range(ARGS.stamps if player else 0):
            key = f"{tag}f{i}"
            with open(stamps, "a") as f:
                sent_file[key] = time.time()
                f.write(f"stamp: {key}\n")
            time.sleep(random.uniform(0.15, 0.3))
            key = f"{tag}c{i}"
            sent_irc[key] = time.time()
            irc.sendall(f"PRIVMSG #{room} :{key}\r\n".encode())
            time.sleep(random.uniform(0.15, 0.3))
        end = time.time() + 3
        while player and time.time() < end and not all(k in seen for k in list(sent_file) + list(sent_irc)):
            time.sleep(0.1)
    finally:
        if irc:
            irc.close()
        if player:
            procs.stop(player)
        procs.stop(publisher)

    def summary(sent):
        d = [1000 * (seen[k] - t) for k, t in sent.items() if k in seen]
        return {"p50": nearest_rank(d, 0.5) if d else None, "p95": nearest_rank(d, 0.95) if d else None,
                "seen": len(d), "sent": len(sent), "ms": d}

    return {"publisher": kind, "viewer_playing": player is not None, "viewer_failed_starts": failures,
            "glass": summary(sent_file), "irc": summary(sent_irc)}


# ---------------------------------------------------------------- summaries

def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(s, pattern="{:.2f}", unit=""):
    if not s:
        return "—"
    m, lo, hi = (pattern.format(s[k]) for k in ("median", "min", "max"))
    return f"{m}{unit} ({lo}–{hi})"


def verdict(s, goal=1.0):
    """Whether the rounds agree on which side of `goal` a ratio lies."""
    if not s:
        return "not measured"
    if s["min"] <= goal <= s["max"]:
        return "not resolvable"
    return "above " + str(goal) + " in every round" if s["min"] > goal else "below " + str(goal) + " in every round"


def is_clean(row):
    """Under 1 % lost by the worst viewer, and every viewer playing when the window opened (a
    viewer still connecting then catches up at the GOP replay's pace and loses nothing by
    timestamps, but it was not served in time)."""
    return row["worst_loss"] < CLEAN and row.get("playing_at_start", row["viewers"]) >= row["viewers"] and not row.get("failed")


def row_of(rnd, side, n):
    return next((r for r in rnd["rows"] if r["side"] == side and r["viewers"] == n), None)


def clean_both(rnd, n):
    return all(row_of(rnd, s, n) and is_clean(row_of(rnd, s, n)) for s in ("chatcast", "stock"))


def largest_clean(rnd, side):
    return max((r["viewers"] for r in rnd["rows"] if r["side"] == side and is_clean(r)), default=0)


def capacity_summary(rounds):
    per_count = []
    for n in ARGS.counts:
        cells = {}
        for side in ("chatcast", "stock"):
            rows = [row_of(r, side, n) for r in rounds]
            rows = [x for x in rows if x]
            cells[side] = {"rounds": len(rows), "loss": spread([100 * x["worst_loss"] for x in rows]),
                           "cores": spread([x["server_cores"] for x in rows]),
                           "fps": spread([x["mean_fps"] for x in rows]),
                           "client_max": max((max(x["client_cores"]) for x in rows), default=None),
                           "client_total": spread([sum(x["client_cores"]) for x in rows]),
                           "client_bound": sum(1 for x in rows if x["client_bound"])}
        # CPU is compared only where both served the count cleanly: an overloaded server's CPU is just the cores it got.
        ratios = [row_of(r, "chatcast", n)["server_cores"] / row_of(r, "stock", n)["server_cores"]
                  for r in rounds if clean_both(r, n) and row_of(r, "stock", n)["server_cores"] > 0]
        per_count.append({"viewers": n, **cells, "cpu_ratio": spread(ratios)})
    best = {side: [largest_clean(r, side) for r in rounds] for side in ("chatcast", "stock")}
    capacity_ratio = [o / s for o, s in zip(best["chatcast"], best["stock"]) if s]
    at_common = []
    for r in rounds:
        both = [n for n in ARGS.counts if clean_both(r, n)]
        if both:
            n = max(both)
            at_common.append({"round": r["round"], "viewers": n,
                              "ratio": row_of(r, "chatcast", n)["server_cores"] / row_of(r, "stock", n)["server_cores"]})
    return {"per_count": per_count, "largest_clean": best, "largest_clean_spread": {k: spread(v) for k, v in best.items()},
            "capacity_ratio": spread(capacity_ratio), "cpu_ratio_at_largest_common": at_common,
            "cpu_ratio_at_largest_common_spread": spread([a["ratio"] for a in at_common])}


def latency_summary(rounds):
    out = {}
    for kind in PUBLISHERS:
        runs = [r for r in rounds if r["publisher"] == kind]
        out[kind] = {path: {"p50": spread([r[path]["p50"] for r in runs]), "p95": spread([r[path]["p95"] for r in runs]),
                            "seen": sum(r[path]["seen"] for r in runs), "sent": sum(r[path]["sent"] for r in runs)}
                     for path in ("glass", "irc")}
        out[kind]["rounds"] = len(runs)
        out[kind]["viewer_playing"] = sum(1 for r in runs if r["viewer_playing"])
        out[kind]["failed_starts"] = sum(len(r["viewer_failed_starts"]) for r in runs)
    return out


# ---------------------------------------------------------------- report

def report(res):
    sections = (method_section, viewers_section, latency_section, memory_section)
    return "\n".join(line for section in sections for line in section(res))


def method_section(res):
    rounds = ARGS.rounds
    lines = ["# Video server benchmark", ""]
    if ARGS.quick:
        lines += ["**QUICK RUN (`--quick`): 2 rounds of tiny viewer counts, only to check that the script works. "
                  "These figures mean nothing; run `make bench` for the real ones.**", ""]
    lines += [
        "## Method", "",
        "`chatcast serve` ("
        + (f"default settings except `--max-viewers {capacity_max_viewers()}` in the capacity part; the default 64 would "
           "refuse the larger counts" if capacity_max_viewers() else "default settings")
        + ") and stock gst-rtsp-server 1.22 (Python GI) run side by side on loopback on this 2-core "
        "machine, whose timings vary 2–3× between identical runs, so every figure is the median of "
        f"{rounds} rounds with the spread (min–max) beside it and every ratio is taken within a round. Each server gets "
        "a live 720p30 H.264 clip (2 Mbit/s, GOP 20, no B-frames) from its own `ffmpeg -re -stream_loop -1 -c copy`, "
        "both feeds running for the whole capacity part. For each viewer count, TCP-interleaved RTSP viewers split over "
        f"up to {ARGS.clients} client processes (non-blocking sockets read every {1000 * POLL:.0f} ms) connect at once "
        f"(listen backlog 1024 on both sides); after {WARMUP:.0f} s every viewer logs its whole frames (RTP marker bit, "
        f"timestamp, arrival) over {ARGS.seconds:g} s, with the server's CPU and each client process's CPU over the same "
        "window. A viewer's loss: frames missing from the media time it received "
        "(RTP timestamp gaps) plus the media time it fell behind the wall clock over the window (its lag averaged over "
        "the first and the last second, so that a frame delivered a few ms after the window closes is not a lost frame; "
        "the plain count against the wall clock is in rtsp.json as `worst_count_loss`). A count is served cleanly when "
        f"the worst viewer lost under 1 % of {FPS} fps, every viewer was playing when the window opened and none "
        "failed. Within a round the two sides alternate count by count, and the "
        "side going first swaps every round; "
        + (f"a side stops after {ARGS.stop_after} consecutive counts not served cleanly. " if ARGS.stop_after else
           "every count is tried on both sides. ")
        + "Memory comes first, from freshly started servers before any other load. "
        f"This run took {res['duration_s'] / 60:.0f} min.", "",
        "What still differs between the sides:", "",
        "- Input: ours takes the clip as an RTSP RECORD over TCP interleaved (a publisher, as OBS or ffmpeg would "
        "send it; depayloaded and parsed once, 100 ms jitter buffer); stock takes it as RTP over UDP (ffmpeg's RTP "
        "muxer, same packetiser; 2 MiB socket buffer, `rtpjitterbuffer latency=100`, depayloaded and parsed once): "
        "1.22 cannot re-serve a RECORD to viewers.",
        "- Serving: ours gives each viewer a media of its own (appsrc → rtph264pay) that starts at the cached key "
        "frame; stock serves every viewer from one shared media (one rtph264pay), so a viewer joins mid-GOP. This is "
        "the design difference being measured, and it is why ours costs more CPU per viewer.",
        f"- Both: listen backlog 1024, {STOCK_THREADS} client threads, no session limit below the counts tried. The "
        "stock server runs in a Python process (its idle memory includes the interpreter; the per-viewer figure does not).",
        "",
    ]
    return lines


def viewers_section(res):
    cap = res["capacity_summary"]
    feed_cores = lambda side: spread([r["input_ffmpeg_cores"] for rnd in res["capacity"] for r in rnd["rows"] if r["side"] == side])
    lines = [
        "## Viewers", "",
        "Worst viewer's loss in %, server CPU in cores, CPU ratio ours/stock per round at that count (rounds where both "
        "served it cleanly): median (min–max) over the rounds that reached the count. Client CPU: the busiest client "
        f"process's share of a core over all rounds (a round is client-bound when a process used > {CLIENT_BOUND:.0%} of a core).", "",
        "| viewers | chatcast: worst loss % | chatcast: CPU cores | stock: worst loss % | stock: CPU cores | CPU ratio ours/stock "
        "| busiest client process (ours / stock) | rounds (ours / stock) |",
        "|---|---|---|---|---|---|---|---|"]
    for c in cap["per_count"]:
        o, s = c["chatcast"], c["stock"]
        ratio = fmt(c["cpu_ratio"]) + (f", {verdict(c['cpu_ratio'])}" if c["cpu_ratio"] else "")
        busiest = " / ".join(f"{x['client_max']:.2f}" + (f" ({x['client_bound']} client-bound)" if x["client_bound"] else "")
                             if x["client_max"] is not None else "—" for x in (o, s))
        lines.append(f"| {c['viewers']} | {fmt(o['loss'])} | {fmt(o['cores'], '{:.3f}')} | {fmt(s['loss'])} | "
                     f"{fmt(s['cores'], '{:.3f}')} | {ratio} | {busiest} | {o['rounds']} / {s['rounds']} |")
    best, bs = cap["largest_clean"], cap["largest_clean_spread"]
    lines += ["",
              f"Largest count served cleanly, per round: chatcast {best['chatcast']}, median **{fmt(bs['chatcast'], '{:.0f}')}**; "
              f"stock {best['stock']}, median **{fmt(bs['stock'], '{:.0f}')}**. Ratio ours/stock per round: "
              f"**{fmt(cap['capacity_ratio'])}**, {verdict(cap['capacity_ratio'])} (higher is better; the counts tried "
              f"stop at {max(ARGS.counts)}, so a side clean at {max(ARGS.counts)} may serve more).", ""]
    common = cap["cpu_ratio_at_largest_common"]
    if common:
        lines += [f"Server CPU ratio ours/stock at the largest count both served cleanly in the round "
                  f"({', '.join(str(a['viewers']) for a in common)} viewers): **{fmt(cap['cpu_ratio_at_largest_common_spread'])}**, "
                  f"{verdict(cap['cpu_ratio_at_largest_common_spread'])} (lower is better for ours).", ""]
    busiest = max((max(r["client_cores"]) for rnd in res["capacity"] for r in rnd["rows"]), default=0)
    bound = [(rnd["round"], r["side"], r["viewers"]) for rnd in res["capacity"] for r in rnd["rows"] if r["client_bound"]]
    totals = [sum(r["client_cores"]) for rnd in res["capacity"] for r in rnd["rows"]]
    lines += [f"Load clients: the busiest client process used {busiest:.2f} of a core; all client processes together "
              f"at most {max(totals, default=0):.2f} cores (they share the 2 cores with the server). "
              + ("Client-bound measurements (round, side, viewers): " + ", ".join(map(str, bound)) + "." if bound
                 else "No measurement was client-bound."),
              f"The input ffmpegs used {fmt(feed_cores('chatcast'), '{:.3f}')} (ours) and "
              f"{fmt(feed_cores('stock'), '{:.3f}')} (stock) cores.", ""]
    return lines


def latency_section(res):
    lat, rounds = res["latency_summary"], ARGS.rounds
    lines = ["## Latency", "",
              f"A 640x360 publisher (gst-launch → chatinject → rtspclientsink) RECORDs to a freshly started `chatcast serve`; "
              "a headless `chatcast play --latency 50` prints the chat it finds in the stream. Glass to glass: a line "
              "written to chatinject's messages-file (it goes on the next encoded frame, so encoding is not included) to "
              "its JSON line in the viewer's output (chatinject reads the file every 100 ms: on average 50 ms of the "
              "figure). IRC: a PRIVMSG to the room to that line (through the publisher's chatinject and the stream). "
              f"{ARGS.stamps} of each per round, the publishers alternating over {rounds} rounds; per-round p50 and p95 "
              "(nearest rank" + (f": with {ARGS.stamps} samples p95 is the slowest" if math.ceil(0.95 * ARGS.stamps) == ARGS.stamps
                                 else "") + "), median (min–max) over the rounds. A viewer that exits before its first "
              "line is restarted (up to 7 times) and counted.", "",
              "| publisher | glass to glass p50 ms | p95 ms | IRC → viewer p50 ms | p95 ms | lines seen (stamped + IRC) "
              "| viewer starts failed |", "|---|---|---|---|---|---|---|"]
    for kind, text in PUBLISHERS.items():
        k = lat[kind]
        seen = f"{k['glass']['seen']}/{k['glass']['sent']} + {k['irc']['seen']}/{k['irc']['sent']}"
        lines.append(f"| {text} | {fmt(k['glass']['p50'], '{:.0f}')} | {fmt(k['glass']['p95'], '{:.0f}')} | "
                     f"{fmt(k['irc']['p50'], '{:.0f}')} | {fmt(k['irc']['p95'], '{:.0f}')} | {seen} | "
                     f"{k['failed_starts']} in {k['rounds']} rounds |")
    failed = sum(lat[kind]["failed_starts"] for kind in PUBLISHERS)
    if failed:
        lines += ["", f"`chatcast play` exited before its first line {failed} times and was restarted (errors in "
                  "rtsp.json, `viewer_failed_starts`): a viewer bug, not a latency figure."]
    return lines


def memory_section(res):
    mem, rounds = res["memory_summary"], ARGS.rounds
    lines = ["", "## Memory", "",
              f"Resident memory of a freshly started server (a new process every round, before the capacity part): idle, "
              f"with its live input, with 1 viewer, with 1 + {ARGS.memory_viewers} viewers; per viewer = the last two's "
              f"difference / {ARGS.memory_viewers} (goal for ours ≤ 2 MiB). MiB, median (min–max) over {rounds} rounds.", "",
              "| server | idle | with input | 1 viewer | 1 + N viewers | per viewer | per viewer incl. the first | viewers receiving |",
              "|---|---|---|---|---|---|---|---|"]
    for side in ("chatcast", "stock"):
        m = mem[side]
        mib = lambda key: fmt(m[key], "{:.1f}")
        lines.append(f"| {side} | {mib('idle')} | {mib('input')} | {mib('one_viewer')} | {mib('viewers')} | "
                     f"**{fmt(m['per_viewer'], '{:.2f}')}** | {fmt(m['per_viewer_with_first'], '{:.2f}')} | {m['receiving']} |")
    c = res["cycles"]
    lines += ["", f"{c['cycles']:,} connect/DESCRIBE/disconnect cycles on `chatcast serve` after the capacity part (after "
              f"{c['warmup']} warm-up ones): {c['before_kib'] / 1024:.1f} → {c['after_kib'] / 1024:.1f} MiB "
              f"(ratio {c['after_kib'] / c['before_kib']:.2f}).", ""]
    return lines


def memory_summary(rounds):
    out = {}
    for side in ("chatcast", "stock"):
        runs = [r for r in rounds if r["side"] == side]
        out[side] = {k: spread([r[k + "_kib"] / 1024 for r in runs])
                     for k in ("idle", "input", "one_viewer", "viewers", "per_viewer", "per_viewer_with_first")}
        out[side]["receiving"] = " ".join(f"{r['receiving']}/{r['extra_viewers'] + 1}" for r in runs)
    return out


# ---------------------------------------------------------------- main

def memory_phase(procs, env, tmp, clip):
    out = []
    for r in range(ARGS.rounds):
        for name in (("chatcast", "stock") if r % 2 == 0 else ("stock", "chatcast")):
            m = {"round": r + 1, "side": name, **memory_round(name, procs, env, tmp, clip)}
            print(f"  round {r + 1} {name:8} idle {m['idle_kib'] / 1024:.1f} MiB, input {m['input_kib'] / 1024:.1f}, "
                  f"1 viewer {m['one_viewer_kib'] / 1024:.1f}, +{m['extra_viewers']} {m['viewers_kib'] / 1024:.1f} "
                  f"→ {m['per_viewer_kib'] / 1024:.2f} MiB per viewer ({m['receiving']} receiving)", flush=True)
            out.append(m)
    return out


def capacity_phase(procs, env, tmp, clip):
    """Both servers and both feeds run throughout, so the side that waits costs the same on
    both; then the leak check on ours."""
    ours = start_ours(procs, env, tmp, max_viewers=capacity_max_viewers())
    stock = start_stock(procs, env)
    try:
        start_feed(procs, ours, clip, tmp)
        start_feed(procs, stock, clip, tmp)
        time.sleep(2)
        rounds = [capacity_round(r, [ours, stock]) for r in range(ARGS.rounds)]
        connect_cycles(ours.port, ours.path, 100)  # warm-up: client threads and their allocators
        time.sleep(1)
        before = rss_kib(ours.proc.pid)
        connect_cycles(ours.port, ours.path, ARGS.cycles)
        time.sleep(2)
        cycles = {"warmup": 100, "cycles": ARGS.cycles, "before_kib": before, "after_kib": rss_kib(ours.proc.pid)}
    finally:
        for proc in (ours.feed, stock.feed, ours.proc, stock.proc):
            if proc:
                procs.stop(proc)
    return rounds, cycles


def latency_phase(procs, env, tmp):
    """A fresh `chatcast serve` with default settings; the publishers alternate, a room each."""
    serve = start_ours(procs, env, tmp)
    out = []
    ms = lambda v: "—" if v is None else f"{v:.0f}"
    try:
        for r in range(ARGS.rounds):
            for kind in (list(PUBLISHERS) if r % 2 == 0 else list(PUBLISHERS)[::-1]):
                one = {"round": r + 1, **latency_round(procs, env, tmp, serve, kind, f"{r}{kind[0]}")}
                g, i = one["glass"], one["irc"]
                print(f"  round {r + 1} {kind:12} glass to glass p50 {ms(g['p50'])} p95 {ms(g['p95'])} ms ({g['seen']}/{g['sent']}), "
                      f"IRC p50 {ms(i['p50'])} p95 {ms(i['p95'])} ms ({i['seen']}/{i['sent']})", flush=True)
                out.append(one)
    finally:
        procs.stop(serve.proc)
    return out


def rerender(path):
    """The report again from a run's rtsp.json (its summaries recomputed)."""
    with open(path) as f:
        res = json.load(f)
    res["memory_summary"] = memory_summary(res["memory"])
    res["capacity_summary"] = capacity_summary(res["capacity"])
    res["latency_summary"] = latency_summary(res["latency"])
    text = report(res)
    with open(os.path.join(ARGS.out, "rtsp.md"), "w") as f:
        f.write(text)
    with open(os.path.join(ARGS.out, "rtsp.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(text)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally blocks stop everything
    res = {"quick": ARGS.quick, "settings": {k: v for k, v in vars(ARGS).items() if k != "client"},
           "warmup_s": WARMUP, "poll_s": POLL, "stock_backlog": STOCK_BACKLOG, "stock_threads": STOCK_THREADS}
    started = time.time()
    elapsed = lambda: f"[{(time.time() - started) / 60:.1f} min]"
    with tempfile.TemporaryDirectory() as tmp, Processes() as procs:
        env = dict(os.environ, GST_PLUGIN_PATH=ARGS.plugins, GST_REGISTRY=os.path.join(tmp, "registry.bin"))
        clip = make_clip(tmp, env)
        print(f"{elapsed()} memory, fresh servers:", flush=True)
        res["memory"] = memory_phase(procs, env, tmp, clip)
        print(f"{elapsed()} viewers:", flush=True)
        res["capacity"], res["cycles"] = capacity_phase(procs, env, tmp, clip)
        print(f"{elapsed()} latency:", flush=True)
        res["latency"] = latency_phase(procs, env, tmp)
    res["memory_summary"] = memory_summary(res["memory"])
    res["capacity_summary"] = capacity_summary(res["capacity"])
    res["latency_summary"] = latency_summary(res["latency"])
    res["duration_s"] = time.time() - started
    text = report(res)
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "rtsp.md"), "w") as f:
        f.write(text)
    with open(os.path.join(ARGS.out, "rtsp.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(text)
    print(f"{elapsed()} done")


ARGS = parse_args()
if __name__ == "__main__":
    if ARGS.client:
        print(json.dumps(client_window(json.loads(ARGS.client))))
    elif ARGS.report_from:
        rerender(ARGS.report_from)
    else:
        main()
