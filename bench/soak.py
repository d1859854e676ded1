#!/usr/bin/env python3
"""`make soak`: a long churn soak of `chatcast serve` (not part of `make test`; results in
bench/results/soak.md, soak.json and soak.png).

One `chatcast serve` on loopback (127.0.0.1: the reused WHEP and playbin clients assume it),
recording every live room (`--record-dir`) with its history in a temporary `--data-dir`.
After a baseline (one long-lived "anchor" room published by `chatcast publish`, nothing else),
churn runs for --minutes:

- publishers: --rooms room slots, each a publisher after another living a random 20–120 s,
  alternately `ffmpeg -re -f lavfi -i testsrc -f lavfi -i sine -c:v libx264 -c:a aac -f rtsp`
  (libx264's defaults, B-frames included; RTSP over TCP or UDP) and `chatcast publish
  --preset test` (320x240, detected, chat stamped in), each stopped by SIGTERM or SIGKILL
  (no TEARDOWN); how long the room takes to go live and to go away again is logged;
- RTSP viewers (TCP interleaved, from 127.0.0.2, the RTSP client of Tests/interop/rtsp_probe.py
  and rtsp_viewers.py) in --rtsp-processes load processes: each picks a live room, plays it
  5–40 s, some pause and resume (time to the first IDR after PLAY is logged), and leaves by
  TEARDOWN, by closing the socket, or by a reset; every 45–120 s one load process is killed
  (SIGKILL: all its viewers vanish at once) and replaced; GStreamer playbin viewers
  (Tests/interop/rtsp_pause_sync.py, over TCP and UDP) pause and resume on the anchor room,
  some killed mid-play;
- WHEP viewers (bench/webrtc_bench.py's webrtcbin load client, `POST /ROOM/whep`), most of
  them killed once connected (no DELETE: the server must notice the silence), the others
  ending with DELETE and reporting the frames they got;
- chat clients, IRC over TCP (from 127.0.0.3) and over WebSocket (`/irc`, text.ircv3.net,
  from 127.0.0.4): register, join one or two rooms, talk under the rate limit, a quarter of
  them flood past it (the server refuses, then drops them: "Excess Flood"), and leave by
  QUIT, by closing the socket or by a reset.

Every --interval s (30) the server's VmRSS, thread count, open descriptors (/proc/PID/fd), its
TCP connections by peer address (so by role; CLOSE_WAIT ones are connections the server did
not close), the SQLite history's size (chat.sqlite + -wal), the recordings' size and /metrics
(live rooms, viewers, sessions, chat clients, messages) are sampled, with the CPU of the server,
of every load generator (by role, from /proc) and of the whole machine; RSS, threads,
descriptors and the load are also read every 5 s and averaged into each sample.

Verdict: over the steady part (after the first third of the churn) the growth of RSS, threads
and descriptors that the load of the moment does not explain (the time term of a least-squares
fit that also has live rooms, RTSP and WebRTC sessions and chat clients as terms; the plain
line is reported beside it) must stay under its threshold per 10 minutes; after the churn stops
and a drain, threads, descriptors, sessions, chat clients and the server's connections must be
back to the baseline and no connection left half-closed; no request may fail while its room
stayed live (same publisher before and after) and no chat client be dropped that did not flood;
a fresh RTSP viewer and a fresh WHEP viewer must play the anchor room, and a fresh RTSP viewer a
room published after the churn; the server must stop on SIGTERM. SQLite growth is judged only
when `serve` has `--history-max-messages` (passed when `serve --help` lists it). The exit
status is 1, with the reasons printed, when a check fails.
"""
import argparse
import base64
import collections
import http.client
import json
import os
import random
import re
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
INTEROP = os.path.join(REPO, "Tests", "interop")
sys.path.insert(0, BENCH)
sys.path.insert(0, INTEROP)
# rtsp_bench reads its own arguments when imported: give it none.
_argv, sys.argv = sys.argv, sys.argv[:1]
import rtsp_bench as rb  # noqa: E402
sys.argv = _argv
import summary  # noqa: E402
from rtsp_probe import Conn  # noqa: E402
from rtsp_viewers import idr_in, packets  # noqa: E402

PY = "/usr/bin/python3"
SERVER = "127.0.0.1"  # webrtc_bench's client and rtsp_pause_sync's URLs are on 127.0.0.1
# Each role that this script's own sockets play comes from its own address, so that the
# server's connections can be told apart by peer; publishers (ffmpeg, chatcast publish),
# WHEP and playbin clients cannot pick theirs and come from 127.0.0.1.
ADDR = {"rtsp": "127.0.0.2", "irc": "127.0.0.3", "ws": "127.0.0.4", "probe": "127.0.0.5"}
PEER_ROLE = {SERVER: "local", **{a: r for r, a in ADDR.items()}}
COVARIATES = ("rooms_live", "rtsp_sessions", "webrtc_sessions", "chat_clients")
TCP_STATES = {"01": "established", "08": "close_wait", "06": "time_wait", "04": "fin_wait1", "05": "fin_wait2",
              "07": "close", "09": "last_ack", "0B": "closing", "02": "syn_sent", "03": "syn_recv"}

# Thresholds, justified in the report (threshold_text).
RSS_PCT_PER_10MIN = 2.0
THREADS_PER_10MIN = 10.0
FDS_PER_10MIN = 20.0
SQLITE_PCT_PER_10MIN = 5.0
THREAD_BAND = 6  # drained: threads may exceed the baseline's maximum by this many (idle pool workers)
FD_BAND = 4
MIN_STEADY_SAMPLES = 6
FAST = 5.0  # s between the readings averaged into each sample
FINAL_MIN_FRAMES = 20  # in FINAL_SECONDS: the anchor runs 15 fps
FINAL_SECONDS = 6.0
STOP_WAIT = 15.0  # s a server gets to exit on SIGTERM
LOAD_BUSY = 0.8  # a load process above this share of a core may be what limits the churn
MACHINE_BUSY = 0.85  # the machine's busy share above which the load may be what limits the server


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
    p.add_argument("--plugins", default=os.path.join(REPO, "build", "gst-plugins"), help="GST_PLUGIN_PATH")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--web-dir", default=os.path.join(REPO, "web"), help="serve's --web-dir")
    p.add_argument("--minutes", type=float, default=30, help="minutes of churn (the whole run takes about 2 more)")
    p.add_argument("--interval", type=float, default=30, help="seconds between samples")
    p.add_argument("--drain", type=float, default=60, help="seconds after the churn before the drained sample "
                   "(a WHEP viewer that vanished is noticed after about 25 s)")
    p.add_argument("--rooms", type=int, default=4, help="room slots with churning publishers (plus the anchor room)")
    p.add_argument("--rtsp-viewers", type=int, default=12, help="RTSP viewers at once")
    p.add_argument("--rtsp-processes", type=int, default=2, help="load processes the RTSP viewers are split over")
    p.add_argument("--whep-viewers", type=int, default=3, help="WHEP viewers at once")
    p.add_argument("--irc-clients", type=int, default=12, help="IRC clients over TCP at once")
    p.add_argument("--ws-clients", type=int, default=6, help="IRC clients over WebSocket at once")
    p.add_argument("--history-max-messages", type=int, default=200,
                   help="passed to serve when its --help lists the option (SQLite growth is judged then)")
    p.add_argument("--actors", default="publishers,rtsp,playbin,whep,chat",
                   help="the churn actors to run (a subset narrows down what grows)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--report-from", help="write the report again from this soak.json (no measuring)")
    p.add_argument("--actor", choices=["rtsp", "chat"], help=argparse.SUPPRESS)  # internal: one load process
    p.add_argument("--spec", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.seed is None:
        a.seed = random.randrange(1 << 30)
    return a


def say(obj):
    """One event line from a load process to the orchestrator."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def now_s():
    return round(time.time(), 3)


# ---------------------------------------------------------------- RTSP viewers (load process)

class BoundConn(Conn):
    """rtsp_probe's RTSP connection, from the role's own address."""

    def __init__(self, host, port, source):  # noqa: super().__init__ connects from any address
        self.sock = socket.create_connection((host, port), timeout=10, source_address=(source, 0))
        self.buf = b""
        self.cseq = 0


def http_get(port, path, source, timeout=5.0):
    c = http.client.HTTPConnection(SERVER, port, timeout=timeout, source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class RoomList:
    """The live rooms (GET /api/rooms), read at most every 2 s for all the threads of a process."""

    def __init__(self, http_port, source):
        self.port, self.source, self.lock, self.at, self.rooms = http_port, source, threading.Lock(), 0.0, []

    def get(self):
        with self.lock:
            if time.time() - self.at > 2:
                try:
                    status, body = http_get(self.port, "/api/rooms", self.source)
                    self.rooms = [r["name"] for r in json.loads(body)["rooms"]] if status == 200 else []
                except (OSError, ValueError, KeyError, http.client.HTTPException):
                    self.rooms = []
                self.at = time.time()
            return list(self.rooms)


def tracks(body, url, headers):
    """The SETUP URLs of the SDP's tracks, the video first: [(media, url)]."""
    found, media = [], None
    for line in body.decode(errors="replace").split("\r\n"):
        if line.startswith("m="):
            media = line[2:].split(" ")[0]
        elif media and line.startswith("a=control:"):
            found.append((media, line.split(":", 1)[1]))
            media = None
    base = headers.get("content-base", url + "/")
    found.sort(key=lambda t: t[0] != "video")
    return [(m, c if c.startswith("rtsp://") else base.rstrip("/") + "/" + c) for m, c in found] or [("video", base + "stream=0")]


def open_session(port, room, source, all_tracks=False):
    """DESCRIBE and SETUP (TCP interleaved, the video on channels 0-1) of the room's video, or
    of every track: (conn, url, session), or the failing status as an int."""
    url = f"rtsp://{SERVER}:{port}/{room}"
    c = BoundConn(SERVER, port, source)
    status, headers, body = c.send("DESCRIBE", url, {"Accept": "application/sdp"})
    if status != 200:
        c.sock.close()
        return status
    session = None
    for i, (_, target) in enumerate(tracks(body, url, headers)[:None if all_tracks else 1]):
        extra = {"Session": session} if session else {}
        status, headers, _ = c.send("SETUP", target, {"Transport": f"RTP/AVP/TCP;unicast;interleaved={2 * i}-{2 * i + 1}", **extra})
        if status != 200:
            c.sock.close()
            return status
        session = headers["session"].split(";")[0]
    return c, url, session


def play_for(c, url, session, seconds, stats, resume=False):
    """PLAY, then read for `seconds`: frames (distinct RTP timestamps) and the time to the
    first IDR; stats["last_frame"] is the last frame's arrival. Raises ConnectionError when
    the server closes."""
    start = time.time()
    c.sock.settimeout(10)
    status = c.send("PLAY", url, {"Session": session})[0]
    if status != 200:
        raise RuntimeError(f"PLAY {status}" + (" on resuming" if resume else ""))
    first, last_ts = None, None
    for t, ts, payload in packets(c, start + seconds):
        if ts is None:
            continue
        if ts != last_ts:
            stats["frames"] += 1
            stats["last_frame"] = t
            last_ts = ts
        if first is None and payload and idr_in(payload):
            first = t - start
    return first


def pause(c, url, session):
    """PAUSE (its answer read with what was in flight), as rtsp_viewers.pauser does."""
    c.cseq += 1
    c.sock.sendall(f"PAUSE {url} RTSP/1.0\r\nCSeq: {c.cseq}\r\nSession: {session}\r\n\r\n".encode())
    for _ in packets(c, time.time() + 0.6):
        pass


def leave(sock, how):
    """Ends a connection: TEARDOWN/QUIT already sent by the caller for "teardown"/"quit";
    "close" is a plain close (FIN), "reset" an RST (SO_LINGER 0)."""
    try:
        if how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def rtsp_viewer_life(spec, rooms, rng, playing):
    """One viewer from joining to leaving; its event."""
    live = rooms.get()
    if not live:
        time.sleep(1)
        return None
    room = rng.choice(live)
    ev = {"kind": "rtsp", "room": room, "t0": now_s(), "frames": 0, "first_idr_s": None, "resume_idr_s": [],
          "end": None, "error": None, "tracks": rng.choice(["video", "all"])}
    try:
        opened = open_session(spec["port"], room, ADDR["rtsp"], all_tracks=ev["tracks"] == "all")
    except (OSError, ValueError, KeyError, IndexError) as e:
        ev.update(end="error", error=f"open: {e!r}"[:160])
        return ev
    if isinstance(opened, int):
        ev.update(end="refused", error=f"DESCRIBE/SETUP {opened}")
        time.sleep(0.5)
        return ev
    c, url, session = opened
    life = rng.uniform(5, 40)
    pauser = rng.random() < 0.35
    end = time.time() + life
    with playing:
        playing.n += 1
    try:
        if pauser:
            ev["pauser"] = True
            first = True
            while time.time() < end - 2:
                idr = play_for(c, url, session, max(2.0, min(rng.uniform(3, 8), end - time.time())), ev, resume=not first)
                if first:
                    ev["first_idr_s"], first = idr, False
                else:
                    ev["resume_idr_s"].append(idr)
                pause(c, url, session)
                time.sleep(min(rng.uniform(1, 4), max(0.0, end - time.time())))
        else:
            ev["first_idr_s"] = play_for(c, url, session, life, ev)
        ev["end"] = rng.choice(["teardown", "teardown", "close", "reset"])
        if ev["end"] == "teardown":
            c.cseq += 1
            c.sock.sendall(f"TEARDOWN {url} RTSP/1.0\r\nCSeq: {c.cseq}\r\nSession: {session}\r\n\r\n".encode())
        leave(c.sock, ev["end"])
    except ConnectionError as e:
        ev.update(end="server-closed", error=repr(e)[:120])  # the room ended (or the server hung up)
        leave(c.sock, "close")
    except (OSError, RuntimeError, ValueError, IndexError, KeyError) as e:
        ev.update(end="error", error=repr(e)[:160])
        leave(c.sock, "close")
    finally:
        with playing:
            playing.n -= 1
    ev["t1"] = now_s()
    # Frames that stopped well before the viewer left: its room ended under it (or the stream stalled).
    last = ev.pop("last_frame", None)
    ev["stopped_early_s"] = round(ev["t1"] - last, 2) if last and not ev.get("pauser") else None
    return ev


class LiveCount:
    """How many of a load process's clients are connected now (`with count: count.n += 1`)."""

    def __init__(self):
        self.n, self.lock = 0, threading.Lock()

    def __enter__(self):
        self.lock.acquire()

    def __exit__(self, *exc):
        self.lock.release()


def rtsp_actor(spec):
    """A load process of spec["viewers"] RTSP viewers, one thread each, until spec["deadline"];
    one JSON event per viewer that left, and a status line every 5 s."""
    rooms = RoomList(spec["http"], ADDR["rtsp"])
    playing = LiveCount()
    out_lock = threading.Lock()

    def slot(k):
        rng = random.Random(spec["seed"] * 1000 + k)
        time.sleep(rng.uniform(0, 3))
        while time.time() < spec["deadline"]:
            ev = rtsp_viewer_life(spec, rooms, rng, playing)
            if ev:
                with out_lock:
                    say(ev)
            time.sleep(rng.uniform(0.2, 2))

    threads = [threading.Thread(target=slot, args=(k,), daemon=True) for k in range(spec["viewers"])]
    for t in threads:
        t.start()
    while time.time() < spec["deadline"]:
        time.sleep(5)
        with out_lock:
            say({"kind": "status", "playing": playing.n})


# ---------------------------------------------------------------- chat clients (load process)

class ChatConn:
    """An IRC client connection over TCP, or over WebSocket (RFC 6455, `/irc`, subprotocol
    text.ircv3.net: one line a text message, client frames masked)."""

    def __init__(self, transport, port):
        self.ws = transport == "ws"
        self.sock = socket.create_connection((SERVER, port), timeout=10, source_address=(ADDR[transport], 0))
        self.buf, self.fragments = b"", b""
        if self.ws:
            key = base64.b64encode(os.urandom(16)).decode()
            self.sock.sendall((f"GET /irc HTTP/1.1\r\nHost: {SERVER}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                               "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n").encode())
            while b"\r\n\r\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    raise ConnectionError("closed during the WebSocket handshake")
                self.buf += data
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            if b" 101 " not in head.split(b"\r\n")[0]:
                raise ConnectionError("WebSocket handshake: " + head.split(b"\r\n")[0].decode(errors="replace"))

    def frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    def send_lines(self, lines):
        if self.ws:
            self.sock.sendall(b"".join(self.frame(1, line.encode()) for line in lines))
        else:
            self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def read(self, timeout):
        """The whole lines that came within `timeout`; EOFError when the server closed."""
        if not select.select([self.sock], [], [], timeout)[0]:
            return []
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("closed by the server")
        self.buf += data
        if not self.ws:
            *lines, self.buf = self.buf.split(b"\r\n")
            return [l.decode(errors="replace") for l in lines]
        lines = []
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    break
                n, at = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                if len(self.buf) < 10:
                    break
                n, at = int.from_bytes(self.buf[2:10], "big"), 10
            mask = None
            if b1 & 0x80:
                mask, at = self.buf[at:at + 4], at + 4
            if len(self.buf) < at + n:
                break
            payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode in (0, 1, 2):
                self.fragments += payload
                if b0 & 0x80:
                    lines += [l for l in self.fragments.decode(errors="replace").split("\r\n") if l]
                    self.fragments = b""
            elif opcode == 8:
                raise EOFError("WebSocket close from the server" + (": " + lines[-1] if lines else ""))
            elif opcode == 9:
                self.sock.sendall(self.frame(10, payload))
        return lines


WORDS = "ball goal pass shot left right nice wow replay camera stream chat hello again lag fine ok late".split()


def chat_life(spec, transport, nick, rng, live):
    """One chat client from connecting to leaving; its event."""
    ev = {"kind": "chat", "transport": transport, "t0": now_s(), "registered": False, "joined": 0, "sent": 0,
          "sent_bytes": 0, "refused": 0, "flood": False, "end": None, "error": None}
    port = spec["irc"] if transport == "irc" else spec["http"]
    try:
        c = ChatConn(transport, port)
    except (OSError, ConnectionError) as e:
        ev.update(end="error", error=f"connect: {e!r}"[:160])
        return ev
    rooms = rng.sample(spec["rooms"], rng.choice([1, 1, 2]))
    life = rng.uniform(10, 60)
    end = time.time() + life
    flood_at = time.time() + rng.uniform(2, life - 1) if rng.random() < 0.25 else None
    next_msg = time.time() + rng.uniform(1, 3)
    with live:
        live.n += 1
    try:
        c.send_lines([f"NICK {nick}", f"USER {nick} 0 * :soak {transport}"])
        registered_by = time.time() + 10
        while not ev["joined"] or time.time() < end:
            if not ev["joined"] and time.time() > registered_by:
                raise RuntimeError("not registered within 10 s" if not ev["registered"] else "JOIN unanswered for 10 s")
            for line in c.read(0.3):
                parts = line.split(" ")
                if line.startswith("PING"):
                    c.send_lines(["PONG" + line[4:]])
                elif line.startswith("ERROR"):
                    raise EOFError(line[:120])
                elif len(parts) > 1 and parts[1] in ("001", "376", "422") and not ev["registered"]:
                    ev["registered"] = True
                    c.send_lines(["JOIN " + ",".join("#" + r for r in rooms)])
                elif len(parts) > 1 and parts[1] == "366":
                    ev["joined"] += 1
                elif len(parts) > 1 and parts[1] == "NOTICE" and "not delivered" in line:
                    ev["refused"] += 1
            if not ev["joined"]:
                continue
            t = time.time()
            if t >= next_msg:
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 60)))[:480]
                c.send_lines([f"PRIVMSG #{rng.choice(rooms)} :{text}"])
                ev["sent"] += 1
                ev["sent_bytes"] += len(text)
                next_msg = t + rng.uniform(2, 6)
            if flood_at and t >= flood_at:
                flood_at, ev["flood"] = None, True
                burst = [f"PRIVMSG #{rooms[0]} :flood {i} " + "x" * rng.randint(10, 200) for i in range(40)]
                c.send_lines(burst)
                ev["sent"] += len(burst)
                ev["sent_bytes"] += sum(len(b.split(" :", 1)[1]) for b in burst)
        ev["end"] = rng.choice(["quit", "quit", "close", "reset"])
        if ev["end"] == "quit":
            c.send_lines(["QUIT :soak over"])
        leave(c.sock, ev["end"])
    except EOFError as e:
        ev.update(end="server-closed", error=str(e)[:160])
        leave(c.sock, "close")
    except (OSError, RuntimeError, ValueError) as e:
        ev.update(end="error", error=repr(e)[:160])
        leave(c.sock, "close")
    finally:
        with live:
            live.n -= 1
    ev["t1"] = now_s()
    return ev


def chat_actor(spec):
    """spec["irc_clients"] TCP and spec["ws_clients"] WebSocket chat clients, one thread each,
    until spec["deadline"]; one JSON event per client that left, a status line every 5 s."""
    live = LiveCount()
    out_lock = threading.Lock()

    def slot(transport, k):
        rng = random.Random(spec["seed"] * 1000 + k + (500 if transport == "ws" else 0))
        time.sleep(rng.uniform(0, 5))
        n = 0
        while time.time() < spec["deadline"]:
            ev = chat_life(spec, transport, f"{'t' if transport == 'irc' else 'w'}{k}x{n}", rng, live)
            n += 1
            with out_lock:
                say(ev)
            time.sleep(rng.uniform(0.2, 2))

    threads = [threading.Thread(target=slot, args=("irc", k), daemon=True) for k in range(spec["irc_clients"])]
    threads += [threading.Thread(target=slot, args=("ws", k), daemon=True) for k in range(spec["ws_clients"])]
    for t in threads:
        t.start()
    while time.time() < spec["deadline"]:
        time.sleep(5)
        with out_lock:
            say({"kind": "status", "chatting": live.n})


# ---------------------------------------------------------------- the orchestrator's processes

class Procs:
    """Every process the soak starts, each in its own process group tagged with a role (its
    CPU is counted for that role), stopped on the way out whatever happens."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = set()
        self.roles = {}  # process group -> role

    def start(self, role, cmd, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        kw.setdefault("stdin", subprocess.DEVNULL)
        with self.lock:
            proc = subprocess.Popen(cmd, start_new_session=True, **kw)
            self.roles[proc.pid] = role
            self.running.add(proc)
        return proc

    def stop(self, proc, kill=False, timeout=10):
        """SIGKILL at once (kill), or SIGTERM and SIGKILL after `timeout`; the exit status."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass
        else:
            try:  # what it left behind in its group
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        with self.lock:
            self.running.discard(proc)
        return proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in list(self.running):
            self.stop(proc, kill=True)


class CpuMeter(threading.Thread):
    """Every second, the CPU time of every process in a group Procs started (read from
    /proc: a process that exits between two reads loses under a second), summed by role."""

    def __init__(self, procs):
        super().__init__(daemon=True)
        self.procs, self.lock = procs, threading.Lock()
        self.last = {}  # pid -> (role, cpu seconds)
        self.stopping = threading.Event()

    def scan(self):
        tick = os.sysconf("SC_CLK_TCK")
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            role = self.procs.roles.get(int(fields[2]))
            if role:
                with self.lock:
                    self.last[int(d)] = (role, (int(fields[11]) + int(fields[12])) / tick)

    def run(self):
        while not self.stopping.wait(1.0):
            self.scan()

    def snapshot(self):
        """(CPU seconds by role, by pid) so far."""
        self.scan()
        with self.lock:
            by_role = collections.Counter()
            for role, cpu in self.last.values():
                by_role[role] += cpu
            return dict(by_role), {pid: v for pid, v in self.last.items()}


def machine_cpu():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def server_connections(pid):
    """The server's TCP connections by peer role and state, and its UDP sockets."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    conns = collections.Counter()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open(f"/proc/{pid}/net/{proto}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) < 10 or cols[9] not in inodes:
                continue
            if proto.startswith("udp"):
                conns["udp"] += 1
                continue
            if cols[3] == "0A":
                continue  # listening
            ip_hex = cols[2].split(":")[0]
            peer = socket.inet_ntoa(struct.pack("<I", int(ip_hex, 16))) if len(ip_hex) == 8 else "ipv6"
            conns[f"{PEER_ROLE.get(peer, peer)}/{TCP_STATES.get(cols[3], cols[3])}"] += 1
    return dict(conns)


def dir_size(path):
    total, files = 0, 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(root, n))
                files += 1
            except OSError:
                pass
    return total, files


# ---------------------------------------------------------------- the soak

class Soak:
    def __init__(self, procs, tmp):
        self.procs, self.tmp = procs, tmp
        self.env = dict(os.environ, GST_PLUGIN_PATH=ARGS.plugins, GST_REGISTRY=os.path.join(tmp, "registry.bin"))
        self.rng = random.Random(ARGS.seed)
        self.rng_lock = threading.Lock()
        self.events, self.ev_lock = [], threading.Lock()
        self.samples = []
        self.stop_churn = threading.Event()
        self.problems = []  # server problems seen while running
        self.live_rooms, self.rooms_at = set(), 0.0
        self.status = {}  # load process -> its last status line
        self.cpu = CpuMeter(procs)
        self.fast, self.fast_lock, self.stopping = [], threading.Lock(), threading.Event()
        self.t_churn = None
        self.data_dir, self.rec_dir = os.path.join(tmp, "data"), os.path.join(tmp, "recordings")

    def rand(self, fn, *a):
        with self.rng_lock:
            return getattr(self.rng, fn)(*a)

    def event(self, ev):
        ev.setdefault("t1", now_s())
        with self.ev_lock:
            self.events.append(ev)

    def problem(self, text):
        print(f"  PROBLEM: {text}", flush=True)
        self.problems.append({"t": now_s(), "text": text})

    # -- the server

    def start_server(self):
        help_text = subprocess.run([ARGS.chatcast, "serve", "--help"], env=self.env, capture_output=True, text=True).stdout
        self.retention = "--history-max-messages" in help_text
        self.rtsp, self.irc, self.http = rb.free_port(), rb.free_port(), rb.free_port()
        cmd = [ARGS.chatcast, "serve", "--bind", SERVER, "--rtsp-port", str(self.rtsp), "--irc-port", str(self.irc),
               "--http-port", str(self.http), "--data-dir", self.data_dir, "--record-dir", self.rec_dir,
               "--web-dir", ARGS.web_dir]
        if self.retention:
            cmd += ["--history-max-messages", str(ARGS.history_max_messages)]
        self.serve_cmd = cmd
        self.serve_log = os.path.join(self.tmp, "serve.log")
        self.server = self.procs.start("server", cmd, env=self.env, stdout=open(self.serve_log, "w"), stderr=subprocess.STDOUT)
        if not all(rb.wait_port(p, 30) for p in (self.rtsp, self.irc, self.http)):
            raise RuntimeError("chatcast serve did not start: " + open(self.serve_log).read()[-800:])

    def metrics(self):
        status, body = http_get(self.http, "/metrics", ADDR["probe"])
        if status != 200:
            raise RuntimeError(f"/metrics {status}")
        return parse_metrics(body.decode())

    def rooms(self):
        """The live rooms, read at most every second."""
        if time.time() - self.rooms_at > 1:
            try:
                status, body = http_get(self.http, "/api/rooms", ADDR["probe"])
                if status == 200:
                    self.live_rooms = {r["name"] for r in json.loads(body)["rooms"]}
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                pass
            self.rooms_at = time.time()
        return set(self.live_rooms)

    def wait_room(self, room, live, timeout, churn=False):
        """Seconds until the room is live (or gone, live=False); None after timeout, or for a
        churn publisher (churn) once the churn stops."""
        start = time.time()
        while time.time() - start < timeout:
            if (room in self.rooms()) == live:
                return time.time() - start
            if churn and live and self.stop_churn.is_set():
                return None
            time.sleep(0.25)
        return None

    # -- samples

    def sample(self, phase, prev):
        pid = self.server.pid
        t = time.time()
        s = {"t": t, "min": (t - self.t_churn) / 60 if self.t_churn else 0.0, "phase": phase}
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            s["rss_kib"] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            s["threads"] = int(re.search(r"Threads:\s+(\d+)", status).group(1))
            s["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
            s["conns"] = server_connections(pid)
            if any(k.endswith("close_wait") for k in s["conns"]):
                # A connection closed by its client an instant ago is in CLOSE_WAIT until the
                # server reads the end: count those still there a second later.
                time.sleep(1)
                s["conns_before"], s["conns"] = s["conns"], server_connections(pid)
            s["server_cpu_s"] = rb.cpu_seconds(pid)
        except (OSError, AttributeError):
            s["dead"] = True
            return s
        sizes = {}
        for suffix in ("", "-wal", "-shm"):
            try:
                sizes[suffix or "db"] = os.path.getsize(os.path.join(self.data_dir, "chat.sqlite" + suffix))
            except OSError:
                sizes[suffix or "db"] = 0
        s["sqlite_bytes"] = sizes["db"] + sizes["-wal"]
        s["sqlite"] = sizes
        s["recordings_bytes"], s["recordings_files"] = dir_size(self.rec_dir)
        start = time.time()
        try:
            m = self.metrics()
            s["metrics_ms"] = 1000 * (time.time() - start)
            s["rooms_live"] = m.get("chatcast_rooms_live")
            s["viewers_rtsp"] = m.get('chatcast_viewers{protocol="rtsp"}')
            s["viewers_webrtc"] = m.get('chatcast_viewers{protocol="webrtc"}')
            s["rtsp_sessions"] = m.get("chatcast_rtsp_sessions")
            s["webrtc_sessions"] = m.get("chatcast_webrtc_sessions")
            s["chat_clients"] = m.get("chatcast_chat_clients")
            s["chat_messages_total"] = m.get("chatcast_chat_messages_total")
        except (OSError, RuntimeError, http.client.HTTPException) as e:
            s["metrics_error"] = repr(e)[:120]
        s["cpu_by_role"], by_pid = self.cpu.snapshot()
        s["machine"] = machine_cpu()
        s["own_cpu_s"] = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        s["load_actors"] = {k: v for k, v in self.status.items()}
        if prev and "server_cpu_s" in prev:
            dt = s["t"] - prev["t"]
            s["server_cores"] = (s["server_cpu_s"] - prev["server_cpu_s"]) / dt
            busy, total = s["machine"][0] - prev["machine"][0], s["machine"][1] - prev["machine"][1]
            s["machine_busy"] = busy / total if total else None  # share of all cores
            s["load_cores"] = {r: (c - prev["cpu_by_role"].get(r, 0.0)) / dt for r, c in s["cpu_by_role"].items() if r != "server"}
            s["load_cores"]["orchestrator"] = (s["own_cpu_s"] - prev["own_cpu_s"]) / dt
            # Whatever else runs on the machine (not the server, not the soak's load).
            s["others_cores"] = max(0.0, s["machine_busy"] * os.cpu_count() - s["server_cores"] - sum(s["load_cores"].values()))
            busiest = max(((pid, (cpu - prev["_by_pid"].get(pid, (role, 0.0))[1]) / dt, role) for pid, (role, cpu) in by_pid.items()
                           if role != "server"), key=lambda x: x[1], default=(None, 0.0, None))
            s["busiest_load_process"] = {"cores": busiest[1], "role": busiest[2]}
        s["_by_pid"] = by_pid
        return s

    def readings(self):
        """Every FAST s: RSS, threads, descriptors and the load from /metrics, averaged into
        each sample (`avg`) so that one sample does not catch a session starting or ending."""
        pid = self.server.pid
        while not self.stopping.wait(FAST):
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = f.read()
                r = {"t": time.time(), "rss_kib": int(re.search(r"VmRSS:\s+(\d+)", status).group(1)),
                     "threads": int(re.search(r"Threads:\s+(\d+)", status).group(1)), "fds": len(os.listdir(f"/proc/{pid}/fd"))}
                m = self.metrics()
                r.update(rooms_live=m.get("chatcast_rooms_live"), rtsp_sessions=m.get("chatcast_rtsp_sessions"),
                         webrtc_sessions=m.get("chatcast_webrtc_sessions"), chat_clients=m.get("chatcast_chat_clients"))
            except (OSError, AttributeError, RuntimeError, http.client.HTTPException):
                continue
            with self.fast_lock:
                self.fast.append(r)

    def take(self, phase):
        prev = self.samples[-1] if self.samples else None
        s = self.sample(phase, prev)
        with self.fast_lock:
            since = prev["t"] if prev else 0.0
            window = [r for r in self.fast if since < r["t"] <= s["t"]]
        if window:
            s["avg"] = {k: statistics.fmean(r[k] for r in window if r.get(k) is not None)
                        for k in ("rss_kib", "threads", "fds") + COVARIATES if any(r.get(k) is not None for r in window)}
            s["avg"]["readings"] = len(window)
        self.samples.append(s)
        if s.get("dead"):
            return s
        line = (f"  [{s['min']:6.1f} min] {phase:8} rss {s['rss_kib'] / 1024:7.1f} MiB  threads {s['threads']:3}  "
                f"fds {s['fds']:4}  sqlite {s['sqlite_bytes'] / 1024:7.1f} KiB  rooms {s.get('rooms_live')}  "
                f"rtsp {s.get('viewers_rtsp')}/{s.get('rtsp_sessions')}  webrtc {s.get('viewers_webrtc')}/{s.get('webrtc_sessions')}  "
                f"chat {s.get('chat_clients')}")
        if "server_cores" in s:
            line += f"  server {s['server_cores']:.2f} cores, machine {100 * s['machine_busy']:.0f} % busy"
        print(line, flush=True)
        if "metrics_error" in s:
            self.problem(f"/metrics did not answer at {s['min']:.1f} min: {s['metrics_error']}")
        return s

    def server_alive(self):
        if self.server.poll() is not None:
            self.problem(f"chatcast serve exited with status {self.server.returncode} during the soak")
            return False
        return True

    # -- publishers

    def publisher_cmd(self, kind, room, n):
        url = f"rtsp://{SERVER}:{self.rtsp}/{room}"
        if kind == "ffmpeg":
            transport = "tcp" if n % 2 == 0 else "udp"
            return ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                    "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-f", "rtsp", "-rtsp_transport", transport, url], transport
        return [ARGS.chatcast, "publish", "--preset", "test", "--dir", os.path.join(REPO, "pipelines"), "--room", room,
                "--server", f"irc://{SERVER}:{self.irc}", "--to", url, "--nick", f"pub{room}x{n}",
                "--set", "width=320", "--set", "height=240", "--set", "fps=15", "--set", "threads=1"], "tcp"

    def start_anchor(self):
        cmd, _ = self.publisher_cmd("chatcast", "anchor", 0)
        self.anchor = self.procs.start("anchor publisher", cmd, env=self.env, cwd=REPO)
        if self.wait_room("anchor", True, 30) is None:
            raise RuntimeError("the anchor room never went live")

    def publisher_slot(self, i):
        room, n = f"room{i}", 0
        self.stop_churn.wait(self.rand("uniform", 0, 5))
        while not self.stop_churn.is_set():
            kind = "ffmpeg" if (i + n) % 2 == 0 else "chatcast"
            cmd, transport = self.publisher_cmd(kind, room, n)
            life = self.rand("uniform", 20, 120)
            err = os.path.join(self.tmp, f"pub-{room}-{n}.err")
            proc = self.procs.start(f"publisher ({kind})", cmd, env=self.env, cwd=REPO, stderr=open(err, "w"))
            t0 = time.time()
            ev = {"kind": "publisher", "publisher": kind, "transport": transport, "room": room, "t0": t0}
            ev["live_after_s"] = self.wait_room(room, True, min(life, 20), churn=True)
            while time.time() < t0 + life and not self.stop_churn.is_set() and proc.poll() is None:
                self.stop_churn.wait(0.5)
            ev["lived_s"] = time.time() - t0
            if proc.poll() is not None:
                ev["end"] = "exited"
                ev["exit"] = proc.returncode
                ev["error"] = open(err, errors="replace").read()[-300:]
                self.procs.stop(proc)
            else:
                ev["end"] = "kill" if self.rand("random") < 0.5 else "term"
                ev["exit"] = self.procs.stop(proc, kill=ev["end"] == "kill")
            # The room should go away once its publisher has (a killed one sends no TEARDOWN).
            ev["gone_after_s"] = self.wait_room(room, False, 30)
            if ev["gone_after_s"] is None:
                self.problem(f"#{room} still live 30 s after its publisher ({kind}, {ev['end']}) stopped")
            self.event(ev)
            n += 1
            self.stop_churn.wait(self.rand("uniform", 1, 8))

    # -- viewers and chat

    def start_actor(self, kind, k, deadline):
        spec = {"port": self.rtsp, "irc": self.irc, "http": self.http, "deadline": deadline,
                "seed": ARGS.seed + 7 * k + (0 if kind == "rtsp" else 100000)}
        if kind == "rtsp":
            n = ARGS.rtsp_viewers
            spec["viewers"] = n // ARGS.rtsp_processes + (1 if k % ARGS.rtsp_processes < n % ARGS.rtsp_processes else 0)
            role = "RTSP viewers"
        else:
            spec.update(irc_clients=ARGS.irc_clients, ws_clients=ARGS.ws_clients,
                        rooms=["anchor"] + [f"room{i}" for i in range(ARGS.rooms)])
            role = "chat clients"
        name = f"{kind}{k}"
        proc = self.procs.start(role, [PY, os.path.abspath(__file__), "--actor", kind, "--spec", json.dumps(spec)],
                                env=self.env, stdout=subprocess.PIPE, stderr=open(os.path.join(self.tmp, name + ".err"), "w"),
                                text=True)

        def read():
            for line in proc.stdout:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("kind") == "status":
                    self.status[name] = {k2: v for k2, v in ev.items() if k2 != "kind"}
                else:
                    self.event(ev)
        threading.Thread(target=read, daemon=True).start()
        return proc

    def rtsp_actors(self, deadline):
        """The RTSP load processes; every 45–120 s one is killed (its viewers vanish without
        TEARDOWN) and replaced."""
        actors = [(k, self.start_actor("rtsp", k, deadline)) for k in range(ARGS.rtsp_processes)]
        k = len(actors)
        while not self.stop_churn.wait(self.rand("uniform", 45, 120)):
            j = self.rand("randrange", len(actors))
            name, proc = f"rtsp{actors[j][0]}", actors[j][1]
            self.procs.stop(proc, kill=True)
            playing = self.status.pop(name, {}).get("playing", 0)  # as of its last status line (every 5 s)
            self.event({"kind": "rtsp-process-killed", "playing_before": playing})
            actors[j] = (k, self.start_actor("rtsp", k, deadline))
            k += 1
        for k, proc in actors:
            self.procs.stop(proc, kill=True)
            self.status.pop(f"rtsp{k}", None)

    def whep_slot(self, i):
        n = 0
        self.stop_churn.wait(self.rand("uniform", 0, 5))
        while not self.stop_churn.is_set():
            live = sorted(self.rooms())
            if not live:
                self.stop_churn.wait(1)
                continue
            room = self.rand("choice", live)
            life = self.rand("uniform", 10, 40)
            start_at = time.time() + 3
            spec = {"http": self.http, "room": room, "viewers": 1, "start_at": start_at, "seconds": life}
            proc = self.procs.start("WHEP viewers", [PY, os.path.join(BENCH, "webrtc_bench.py"), "--client", json.dumps(spec)],
                                    env=self.env, stdout=subprocess.PIPE, text=True)
            ev = {"kind": "whep", "room": room, "t0": time.time()}
            if self.rand("random") < 0.7:
                self.stop_churn.wait(max(0.0, start_at + self.rand("uniform", 3, life - 1) - time.time()))
                self.procs.stop(proc, kill=True)
                proc.communicate()
                ev["end"] = "vanished"
            else:
                ev.update(self.finish(proc, life + 60, lambda r: {"end": "delete", "frames": r["viewers"][0]["frames"],
                                                                  "failed": r["failed"], "errors": r["errors"]}))
            self.event(ev)
            n += 1
            self.stop_churn.wait(self.rand("uniform", 0.5, 3))

    def playbin_pausers(self):
        """GStreamer playbin viewers of the anchor room pausing and resuming (TCP and UDP in
        turn); a third of them killed mid-play."""
        n = 0
        while not self.stop_churn.wait(self.rand("uniform", 20, 50)):
            transport = "tcp" if n % 2 == 0 else "udp"
            url = f"rtsp://{SERVER}:{self.rtsp}/anchor"
            proc = self.procs.start("playbin pausers", [PY, os.path.join(INTEROP, "rtsp_pause_sync.py"), url, transport, "2", "3"],
                                    env=self.env, stdout=subprocess.PIPE, text=True)
            ev = {"kind": "playbin", "transport": transport, "t0": time.time()}
            if self.rand("random") < 0.33:
                self.stop_churn.wait(self.rand("uniform", 4, 9))
                self.procs.stop(proc, kill=True)
                proc.communicate()
                ev["end"] = "vanished"
            else:
                ev.update(self.finish(proc, 90, lambda r: {"end": "done", "stretches": [s["video"] for s in r["stretches"]],
                                                           "warnings": r["warnings"][:3]}))
            self.event(ev)
            n += 1

    def finish(self, proc, timeout, read):
        """Waits for a load client that ends by itself (stopped early when the churn stops):
        read(its JSON output), or an "end" saying why there is none."""
        end_by = time.time() + timeout
        while proc.poll() is None and not self.stop_churn.is_set() and time.time() < end_by:
            self.stop_churn.wait(0.5)
        if proc.poll() is None:
            self.procs.stop(proc, kill=True)
            proc.communicate()
            return {"end": "stopped" if self.stop_churn.is_set() else "error", "error": None if self.stop_churn.is_set() else "no answer"}
        out, _ = proc.communicate()
        self.procs.stop(proc)
        try:
            return read(json.loads(out))
        except (ValueError, KeyError, IndexError, TypeError) as e:
            return {"end": "error", "error": f"exit {proc.returncode}: {e!r}"[:160]}

    # -- the end

    def final_rtsp(self, room):
        """A fresh RTSP viewer for FINAL_SECONDS: frames, and the first IDR's time."""
        out = {"room": room, "frames": 0, "first_idr_s": None, "error": None, "ok": False}
        try:
            opened = open_session(self.rtsp, room, ADDR["rtsp"])
            if isinstance(opened, int):
                out["error"] = f"DESCRIBE/SETUP {opened}"
                return out
            c, url, session = opened
            out["first_idr_s"] = play_for(c, url, session, FINAL_SECONDS, out)
            c.cseq += 1
            c.sock.sendall(f"TEARDOWN {url} RTSP/1.0\r\nCSeq: {c.cseq}\r\nSession: {session}\r\n\r\n".encode())
            c.sock.close()
        except (OSError, RuntimeError, ValueError, KeyError, ConnectionError) as e:
            out["error"] = repr(e)[:160]
        out.pop("last_frame", None)
        out["ok"] = out["frames"] >= FINAL_MIN_FRAMES and out["first_idr_s"] is not None
        return out

    def final_whep(self, room):
        spec = {"http": self.http, "room": room, "viewers": 1, "start_at": time.time() + 3, "seconds": FINAL_SECONDS}
        proc = self.procs.start("WHEP viewers", [PY, os.path.join(BENCH, "webrtc_bench.py"), "--client", json.dumps(spec)],
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = {"room": room, "frames": 0, "error": None}
        try:
            stdout, stderr = proc.communicate(timeout=60)
            r = json.loads(stdout)
            out.update(frames=r["viewers"][0]["frames"], error="; ".join(r["errors"]) or None)
        except (subprocess.TimeoutExpired, ValueError, KeyError, IndexError) as e:
            out["error"] = repr(e)[:160]
        self.procs.stop(proc, kill=True)
        out["ok"] = out["frames"] >= FINAL_MIN_FRAMES and not out["error"]
        return out

    def run(self):
        res = {"settings": {k: v for k, v in vars(ARGS).items() if k not in ("actor", "spec", "report_from")},
               "cores": os.cpu_count(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
        started = time.time()
        self.cpu.start()
        self.start_server()
        res["retention"] = self.retention
        res["serve_cmd"] = " ".join(self.serve_cmd)
        print(f"chatcast serve on {SERVER}: rtsp {self.rtsp}, irc {self.irc}, http {self.http}; "
              f"history retention {'on (--history-max-messages %d)' % ARGS.history_max_messages if self.retention else 'not offered by this serve'}",
              flush=True)
        threading.Thread(target=self.readings, daemon=True).start()
        self.start_anchor()
        time.sleep(5)
        for _ in range(3):  # the baseline band: one live room, nothing else
            self.take("baseline")
            time.sleep(5)
        self.t_churn = time.time()
        for s in self.samples:
            s["min"] = (s["t"] - self.t_churn) / 60
        churn_end = self.t_churn + 60 * ARGS.minutes
        steady_from = self.t_churn + 60 * ARGS.minutes / 3
        actors = set(ARGS.actors.split(","))
        threads = []
        if "publishers" in actors:
            threads += [threading.Thread(target=self.publisher_slot, args=(i,), daemon=True) for i in range(ARGS.rooms)]
        if "whep" in actors:
            threads += [threading.Thread(target=self.whep_slot, args=(i,), daemon=True) for i in range(ARGS.whep_viewers)]
        if "rtsp" in actors:
            threads.append(threading.Thread(target=self.rtsp_actors, args=(churn_end + 30,), daemon=True))
        if "playbin" in actors:
            threads.append(threading.Thread(target=self.playbin_pausers, daemon=True))
        for t in threads:
            t.start()
        chat = self.start_actor("chat", 0, churn_end + 30) if "chat" in actors else None
        print(f"[{(time.time() - started) / 60:.1f} min] churn for {ARGS.minutes:g} min:", flush=True)
        next_at = self.t_churn + ARGS.interval
        alive = True
        while alive and next_at <= churn_end + 0.5:
            rb.sleep_until(next_at)
            alive = self.server_alive()
            if alive:
                s = self.take("warm-up" if time.time() < steady_from else "steady")
                alive = not s.get("dead")
                if self.anchor.poll() is not None:
                    self.problem(f"the anchor publisher exited with status {self.anchor.returncode}; restarted")
                    self.start_anchor()
            next_at += ARGS.interval
        res["churn_s"] = time.time() - self.t_churn
        print(f"[{(time.time() - started) / 60:.1f} min] churn stopped; drain {ARGS.drain:g} s:", flush=True)
        self.stop_churn.set()
        if chat:
            self.procs.stop(chat, kill=True)
        for t in threads:
            t.join(60)
        self.t_drain = time.time()
        if alive:
            drain_end = self.t_drain + ARGS.drain
            while time.time() < drain_end - 0.5 and (alive := self.server_alive()):
                rb.sleep_until(min(drain_end, time.time() + min(ARGS.interval, 15)))
                self.take("drain")
        final = {}
        if alive and self.server_alive():
            print(f"[{(time.time() - started) / 60:.1f} min] fresh viewers:", flush=True)
            final["rtsp_anchor"] = self.final_rtsp("anchor")
            final["whep_anchor"] = self.final_whep("anchor")
            cmd, _ = self.publisher_cmd("ffmpeg", "fresh", 0)
            fresh = self.procs.start("publisher (ffmpeg)", cmd, env=self.env)
            final["fresh_live_after_s"] = self.wait_room("fresh", True, 20)
            final["rtsp_fresh"] = self.final_rtsp("fresh")
            self.procs.stop(fresh)
            self.wait_room("fresh", False, 15)
            for k, v in final.items():
                print(f"  {k}: {v}", flush=True)
            time.sleep(5)  # the fresh viewers' sessions end
            self.take("final")
        res["final"] = final
        self.stopping.set()
        self.procs.stop(self.anchor)
        # The server must stop on SIGTERM.
        stop_start = time.time()
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.problem(f"chatcast serve did not exit within {STOP_WAIT:.0f} s of SIGTERM (killed)")
                self.procs.stop(self.server, kill=True)
            res["server_stop"] = {"exit": self.server.returncode, "seconds": time.time() - stop_start, "during_soak": False}
        else:
            res["server_stop"] = {"exit": self.server.returncode, "seconds": None, "during_soak": True}
        self.procs.stop(self.server)
        self.cpu.stopping.set()
        res["server_log"] = notable_log_lines(self.serve_log)
        res["recordings"] = sorted(os.listdir(self.rec_dir)) if os.path.isdir(self.rec_dir) else []
        for s in self.samples:
            s.pop("_by_pid", None)
        res.update(samples=self.samples, events=self.events, problems=self.problems, t_churn=self.t_churn,
                   t_drain=getattr(self, "t_drain", None), duration_s=time.time() - started)
        return res


def notable_log_lines(path):
    """The server's output without its status lines: each distinct line (digits folded) with
    how often it came."""
    counts, first = collections.Counter(), {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip()
                if not line or "live rooms" in line and "chat clients" in line:
                    continue
                key = re.sub(r"\d+", "N", line)[:200]
                counts[key] += 1
                first.setdefault(key, line[:300])
    except OSError:
        return []
    return [{"line": first[k], "count": n} for k, n in counts.most_common(40)]


# ---------------------------------------------------------------- verdict and report

def fit(points):
    """Least-squares slope (per minute), its standard error, and the mean of (minute, value) points."""
    n = len(points)
    if n < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    resid = [y - (my + slope * (x - mx)) for x, y in zip(xs, ys)]
    se = (sum(r * r for r in resid) / (n - 2) / sxx) ** 0.5 if n > 2 else 0.0
    return {"slope_per_min": slope, "se_per_min": se, "mean": my, "intercept": my - slope * mx, "n": n}


def value(s, key):
    """A sample's value for the growth fits: the mean of the readings since the previous
    sample where there are some, else the sample's own."""
    return s.get("avg", {}).get(key, s.get(key))


def adjusted_fit(samples, key):
    """The time coefficient of a least-squares fit key ≈ a + slope·minute + Σ b·load, the load
    being each sample's live rooms, RTSP sessions, WebRTC sessions and chat clients: growth
    that the load at the moment of the sample does not explain. None with too few samples."""
    import numpy as np
    rows = [s for s in samples if all(value(s, c) is not None for c in COVARIATES)]
    if not rows:
        return None
    x = np.array([[1.0, s["min"]] + [value(s, c) for c in COVARIATES] for s in rows])
    y = np.array([float(value(s, key)) for s in rows])
    keep = [0, 1] + [j for j in range(2, x.shape[1]) if np.ptp(x[:, j]) > 0]  # a constant load is the intercept's
    x = x[:, keep]
    n, p = x.shape
    if n < p + 3:
        return None
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta
    cov = (resid @ resid / (n - p)) * np.linalg.pinv(x.T @ x)
    names = ["intercept", "minute"] + [COVARIATES[j - 2] for j in keep[2:]]
    return {"per_10min": 10 * float(beta[1]), "se_per_10min": 10 * float(cov[1, 1]) ** 0.5, "n": n,
            "per_unit_of_load": {nm: float(b) for nm, b in zip(names[2:], beta[2:])}}


SERIES = [("rss_kib", "RSS (KiB)"), ("threads", "threads"), ("fds", "open descriptors"), ("sqlite_bytes", "SQLite (bytes)")]


def verdict(res):
    samples = [s for s in res["samples"] if not s.get("dead") and "rss_kib" in s]
    steady = [s for s in samples if s["phase"] == "steady"]
    base = [s for s in samples if s["phase"] == "baseline"]
    drained = [s for s in samples if s["phase"] == "drain"]
    checks, growth = [], {}

    def check(name, ok, measured, threshold, judged=True):
        checks.append({"check": name, "ok": bool(ok) if judged else None, "measured": measured, "threshold": threshold})

    check("server ran the whole soak", not res["server_stop"]["during_soak"] and not any(s.get("dead") for s in res["samples"]),
          "exited during the soak" if res["server_stop"]["during_soak"] else "alive", "no crash")
    unanswered = sum(1 for s in samples if "metrics_error" in s)
    check("/metrics answered every sample", unanswered == 0, f"{unanswered} of {len(samples)} unanswered", "all answered")
    enough = len(steady) >= MIN_STEADY_SAMPLES
    for key, label in SERIES:
        f = fit([(s["min"], value(s, key)) for s in steady])
        growth[key] = f
        if not f:
            continue
        f.update(per_10min=10 * f["slope_per_min"], se_per_10min=10 * f["se_per_min"])
        f["pct_per_10min"] = 100 * f["per_10min"] / f["mean"] if f["mean"] else None
        # The line through each half of the steady part: growth that slows down (an allocator
        # settling) or keeps its pace (a leak).
        half = len(steady) // 2
        f["halves_per_10min"] = [10 * h["slope_per_min"] if h else None
                                 for h in (fit([(s["min"], value(s, key)) for s in part]) for part in (steady[:half], steady[half:]))]
        adj = adjusted_fit(steady, key) if key != "sqlite_bytes" else None
        if adj:
            f["adjusted"] = adj
        judged_by = adj or f
        per10, se10 = judged_by["per_10min"], judged_by["se_per_10min"]
        limit = {"rss_kib": RSS_PCT_PER_10MIN / 100 * f["mean"], "threads": THREADS_PER_10MIN, "fds": FDS_PER_10MIN,
                 "sqlite_bytes": SQLITE_PCT_PER_10MIN / 100 * f["mean"]}[key]
        grows = per10 > limit and per10 > 2 * se10
        noisy = 2 * se10 > limit and not grows
        scale, unit, pattern = {"rss_kib": (1 / 1024, " MiB", "{:+.2f} ± {:.2f}"), "threads": (1, "", "{:+.1f} ± {:.1f}"),
                                "fds": (1, "", "{:+.1f} ± {:.1f}"), "sqlite_bytes": (1 / 1024, " KiB", "{:+.1f} ± {:.1f}")}[key]
        measured = ("load-adjusted " if adj else "") + pattern.format(per10 * scale, se10 * scale) + f"{unit} / 10 min"
        if adj:
            measured += " (line alone " + pattern.format(f["per_10min"] * scale, f["se_per_10min"] * scale) + ")"
        if key in ("rss_kib", "sqlite_bytes") and f["mean"]:
            measured += f", {100 * per10 / f['mean']:+.2f} % of the mean"
        if noisy:
            measured += "; too noisy to judge (2 × its standard error exceeds the threshold)"
        threshold = {"rss_kib": f"< {RSS_PCT_PER_10MIN:g} % of the mean / 10 min", "threads": f"< {THREADS_PER_10MIN:g} / 10 min",
                     "fds": f"< {FDS_PER_10MIN:g} / 10 min", "sqlite_bytes": f"< {SQLITE_PCT_PER_10MIN:g} % / 10 min"}[key]
        threshold += " (and > 2 SE to count)"
        name = {"rss_kib": "RSS growth over the steady part", "threads": "thread growth over the steady part",
                "fds": "descriptor growth over the steady part",
                "sqlite_bytes": "SQLite growth over the steady part"
                + ("" if res["retention"] else " (no retention in this serve: not judged)")}[key]
        f.update(limit_per_10min=limit, grows=grows, noisy=noisy)
        check(name, not grows, measured, threshold, enough and not noisy and (key != "sqlite_bytes" or res["retention"]))
    if not enough:
        check("steady samples for the growth checks", None, f"{len(steady)}", f">= {MIN_STEADY_SAMPLES} (run longer)", False)
    if base and drained:
        d = drained[-1]
        bt, bf = max(s["threads"] for s in base), max(s["fds"] for s in base)
        check("threads back in the baseline band after the drain", d["threads"] <= bt + THREAD_BAND,
              f"{d['threads']} (baseline {min(s['threads'] for s in base)}–{bt})", f"<= {bt + THREAD_BAND}")
        check("descriptors back in the baseline band after the drain", d["fds"] <= bf + FD_BAND,
              f"{d['fds']} (baseline {min(s['fds'] for s in base)}–{bf})", f"<= {bf + FD_BAND}")
        b = base[-1]
        for key, label in (("rtsp_sessions", "RTSP sessions"), ("webrtc_sessions", "WebRTC sessions"), ("chat_clients", "chat clients")):
            check(f"{label} back to the baseline after the drain", d.get(key) == b.get(key), f"{d.get(key)}", f"{b.get(key)} (baseline)")
        half = {k: v for k, v in d["conns"].items() if not k.endswith("/established") and k != "udp"
                and not k.endswith("time_wait")}
        est = lambda x: {k: n for k, n in x["conns"].items() if k.endswith("/established") and not k.startswith("probe/")}
        check("server TCP connections back to the baseline after the drain", est(d) == est(b),
              ", ".join(f"{k} {n}" for k, n in sorted(est(d).items())) or "none",
              (", ".join(f"{k} {n}" for k, n in sorted(est(b).items())) or "none") + " (baseline)")
        check("no server connection left half-closed after the drain", not any(k.endswith("close_wait") for k in half),
              ", ".join(f"{k} {v}" for k, v in sorted(half.items())) or "none", "no CLOSE_WAIT")
    f = res["final"]
    for key, text in (("rtsp_anchor", "a fresh RTSP viewer plays the anchor room"), ("whep_anchor", "a fresh WHEP viewer plays the anchor room"),
                      ("rtsp_fresh", "a fresh RTSP viewer plays a room published after the churn")):
        v = f.get(key)
        check(text, v and v["ok"], f"{v['frames']} frames in {FINAL_SECONDS:g} s" + (f" ({v['error']})" if v and v.get("error") else "")
              if v else "not run", f">= {FINAL_MIN_FRAMES} frames")
    stop = res["server_stop"]
    check("serve stops on SIGTERM", stop["seconds"] is not None and stop["seconds"] < STOP_WAIT and stop["exit"] in (0, -15, 143),
          f"exit {stop['exit']} after {stop['seconds']:.1f} s" if stop["seconds"] is not None else "not running", f"< {STOP_WAIT:.0f} s")
    ev = churn_summary(res)
    actors = set(res["settings"].get("actors", "publishers,rtsp,playbin,whep,chat").split(","))
    ran = (("publishers" not in actors or ev["publishers"]["live"] > 0) and ("rtsp" not in actors or ev["rtsp"]["with_frames"] > 0)
           and ("chat" not in actors or ev["chat"]["sent"] > 0) and ("whep" not in actors or ev["whep"]["n"] > 0))
    check("the churn ran (publishers went live, viewers played, chat flowed)", ran,
          f"{ev['publishers']['live']} publishers live, {ev['rtsp']['with_frames']} RTSP viewers with frames, "
          f"{ev['chat']['sent']} chat lines", "each > 0")
    odd = unexpected_errors(res)
    check("no failure the churn does not explain (room live throughout, no flood)", not odd,
          "; ".join(f"{n}× {text}" for text, n in odd[:4]) + (" …" if len(odd) > 4 else "") if odd else "none", "none")
    load = load_summary(res)
    check("load generators were not the bottleneck", load["ok"], load["text"], f"busiest load process < {LOAD_BUSY} core, "
          f"server + load < {100 * MACHINE_BUSY:.0f} % of the machine (median)")
    failed = [c for c in checks if c["ok"] is False]
    return {"checks": checks, "growth": growth, "failed": [c["check"] + ": " + c["measured"] for c in failed],
            "pass": not failed}


def publisher_spans(res):
    """Per room, the spans its publishers kept it live: [(from, to, kind)]."""
    spans = collections.defaultdict(list)
    for e in res["events"]:
        if e["kind"] == "publisher" and e.get("live_after_s") is not None:
            spans[e["room"]].append((e["t0"] + e["live_after_s"], e["t0"] + e["lived_s"], f"{e['publisher']}/{e['transport']}"))
    spans["anchor"].append((0.0, float("inf"), "chatcast/tcp (anchor)"))
    return spans


def live_throughout(spans, room, t0, t1):
    """The kind of publisher that kept the room live over all of [t0, t1], or None."""
    return next((kind for a, b, kind in spans.get(room, []) if a <= t0 and t1 <= b), None)


def unexpected_errors(res):
    """Failures the churn does not explain: a request refused or a session broken while its
    room stayed live throughout (same publisher before and after), a chat client dropped
    that did not flood, a playbin viewer that got no frames after a resume on the anchor."""
    spans, out = publisher_spans(res), []
    for e in res["events"]:
        if e["kind"] == "rtsp" and e["end"] in ("error", "refused"):
            kind = live_throughout(spans, e["room"], e["t0"] - 0.5, e["t1"] + 1.0)
            if kind:
                out.append(f"RTSP viewer ({e.get('tracks', 'video')} tracks) of a {kind} room: {e['error']}")
        elif e["kind"] == "whep" and (e["end"] == "error" or e.get("failed")):
            kind = live_throughout(spans, e["room"], e["t0"] - 0.5, e["t1"] + 1.0)
            if kind:
                out.append(f"WHEP viewer of a {kind} room: {e.get('errors') or e.get('error')}")
        elif e["kind"] == "chat" and (e["end"] == "error" or (e["end"] == "server-closed" and not e["flood"])):
            out.append(f"chat client ({e['transport']}): {e['end']} {e['error']}")
        elif e["kind"] == "playbin" and (e["end"] == "error" or (e["end"] == "done" and (not e["stretches"] or min(e["stretches"]) == 0))):
            out.append(f"playbin viewer ({e['transport']}) of the anchor: {e.get('error') or e.get('warnings') or e.get('stretches')}")
    return collections.Counter(out).most_common()


def churn_summary(res):
    evs = res["events"]
    pubs = [e for e in evs if e["kind"] == "publisher"]
    rtsp = [e for e in evs if e["kind"] == "rtsp"]
    whep = [e for e in evs if e["kind"] == "whep"]
    chat = [e for e in evs if e["kind"] == "chat"]
    playbin = [e for e in evs if e["kind"] == "playbin"]
    q = lambda xs: summary.spread([x for x in xs if x is not None])
    resumes = [x for e in rtsp for x in e.get("resume_idr_s", [])]
    spans = publisher_spans(res)
    by_kind = collections.defaultdict(lambda: {"ok": [], "failed": 0})
    for e in rtsp:
        if e.get("pauser"):
            kind = live_throughout(spans, e["room"], e["t0"] - 0.5, e["t1"] + 1.0) or "room ended meanwhile"
            k = by_kind[f"{kind.replace(' (anchor)', '')}, {e.get('tracks', 'video')} tracks"]
            k["ok"] += e["resume_idr_s"]
            k["failed"] += 1 if e["error"] and "resuming" in e["error"] else 0
    return {
        "publishers": {"n": len(pubs), "live": sum(1 for e in pubs if e.get("live_after_s") is not None),
                       "by_kind": dict(collections.Counter(f"{e['publisher']}/{e['transport']}" for e in pubs)),
                       "ends": dict(collections.Counter(e["end"] for e in pubs)),
                       "never_live": [f"{e['publisher']}/{e['transport']} {e['room']}" for e in pubs if e.get("live_after_s") is None][:10],
                       "exited_early": [e.get("error", "")[-160:] for e in pubs if e["end"] == "exited"][:5],
                       "live_after_s": q([e.get("live_after_s") for e in pubs]),
                       "gone_after_s": q([e.get("gone_after_s") for e in pubs]),
                       "gone_after_s_by_end": {k: q([e.get("gone_after_s") for e in pubs if e["end"] == k]) for k in ("term", "kill")},
                       "stale": sum(1 for e in pubs if e.get("gone_after_s") is None)},
        "rtsp": {"n": len(rtsp), "with_frames": sum(1 for e in rtsp if e["frames"] > 0),
                 "pausers": sum(1 for e in rtsp if e.get("pauser")), "ends": dict(collections.Counter(e["end"] for e in rtsp)),
                 "first_idr_s": q([e["first_idr_s"] for e in rtsp]), "resume_idr_s": q(resumes),
                 "resumes_without_idr": sum(1 for x in resumes if x is None),
                 "resume_by_publisher": {k: {"answered": len(v["ok"]), "failed": v["failed"],
                                             "without_idr": sum(1 for x in v["ok"] if x is None),
                                             "idr_s": q(v["ok"])} for k, v in sorted(by_kind.items())},
                 "errors": collections.Counter(e["error"] for e in rtsp if e["end"] in ("error", "refused")).most_common(5),
                 "stopped_early": sum(1 for e in rtsp if (e.get("stopped_early_s") or 0) > 3),
                 "processes_killed": sum(1 for e in evs if e["kind"] == "rtsp-process-killed"),
                 "vanished_with_process": sum(e["playing_before"] for e in evs if e["kind"] == "rtsp-process-killed")},
        "playbin": {"n": len(playbin), "ends": dict(collections.Counter(e["end"] for e in playbin)),
                    "all_stretches_played": sum(1 for e in playbin if e["end"] == "done" and e["stretches"] and min(e["stretches"]) > 0),
                    "done": sum(1 for e in playbin if e["end"] == "done"),
                    "problems": [e.get("warnings") or e.get("error") for e in playbin
                                 if e["end"] == "error" or (e["end"] == "done" and (not e["stretches"] or min(e["stretches"]) == 0))][:5]},
        "whep": {"n": len(whep), "ends": dict(collections.Counter(e["end"] for e in whep)),
                 "deleted_with_frames": sum(1 for e in whep if e["end"] == "delete" and e.get("frames", 0) > 0),
                 "frames": q([e.get("frames") for e in whep if e["end"] == "delete"]),
                 "errors": collections.Counter(str(e.get("errors") or e.get("error")) for e in whep
                                               if e.get("error") or e.get("failed")).most_common(5)},
        "chat": {"n": len(chat), "registered": sum(1 for e in chat if e["registered"]),
                 "by_transport": dict(collections.Counter(e["transport"] for e in chat)),
                 "ends": dict(collections.Counter(e["end"] for e in chat)), "sent": sum(e["sent"] for e in chat),
                 "sent_bytes": sum(e["sent_bytes"] for e in chat), "refused": sum(e["refused"] for e in chat),
                 "flooders": sum(1 for e in chat if e["flood"]),
                 "flooders_dropped": sum(1 for e in chat if e["flood"] and e["end"] == "server-closed"),
                 "dropped_not_flooding": sum(1 for e in chat if not e["flood"] and e["end"] == "server-closed"),
                 "errors": collections.Counter(e["error"] for e in chat if e["end"] == "error").most_common(5)},
    }


def load_summary(res):
    rows = [s for s in res["samples"] if "load_cores" in s and s["phase"] in ("warm-up", "steady")]
    if not rows:
        return {"ok": None, "text": "no samples", "roles": {}}
    roles = sorted({r for s in rows for r in s["load_cores"]})
    per_role = {r: summary.spread([s["load_cores"].get(r, 0.0) for s in rows]) for r in roles}
    busiest = max(rows, key=lambda s: s["busiest_load_process"]["cores"])["busiest_load_process"]
    cores = res["cores"]
    machine = summary.spread([s["machine_busy"] for s in rows])
    server = summary.spread([s["server_cores"] for s in rows])
    total = summary.spread([sum(s["load_cores"].values()) for s in rows])
    ours = summary.spread([(s["server_cores"] + sum(s["load_cores"].values())) / cores for s in rows])
    others = summary.spread([s.get("others_cores", 0.0) for s in rows])
    ok = busiest["cores"] < LOAD_BUSY and ours["median"] < MACHINE_BUSY
    text = (f"load {total['median']:.2f} cores (max {total['max']:.2f}), busiest load process {busiest['cores']:.2f} of a core "
            f"({busiest['role']}); server + load {100 * ours['median']:.0f} % of the machine (max {100 * ours['max']:.0f} %), "
            f"the machine {100 * machine['median']:.0f} % busy (max {100 * machine['max']:.0f} %) with "
            f"{others['median']:.2f} cores (max {others['max']:.2f}) used by processes outside the soak")
    return {"ok": ok, "text": text, "roles": per_role, "busiest": busiest, "machine": machine, "server": server,
            "total": total, "ours": ours, "others": others}


def threshold_text():
    return [
    f"- **RSS < {RSS_PCT_PER_10MIN:g} % per 10 min** of its steady mean (load-adjusted, > 2 standard errors to count). The churn keeps the load level (a fixed number of "
    "publishers, viewers and chat clients at any time, each replaced when it leaves), so a server that frees what each "
    "session took has a flat RSS after the allocator's arenas have warmed up (the first third is excluded for that; "
    "the last column shows whether a rise slows down, as glibc's per-thread arenas settling does, or keeps its pace, "
    "as a leak does). "
    "Each publisher session in this soak moves about 0.1–0.3 MB through the server (GOP cache, recording buffers) and "
    "each RTSP viewer ~0.4 MiB (bench/results/rtsp.md): leaking one publisher's or one viewer's state per session (~35 "
    "publishers and ~280 RTSP viewers per 10 min) exceeds 2 % of a ~100 MB process, while a 40-sample line's "
    "noise (the ± in the table) stays well below it.",
    f"- **Threads < {THREADS_PER_10MIN:g} per 10 min, descriptors < {FDS_PER_10MIN:g} per 10 min** (load-adjusted). "
    "Every session costs the server threads (a room's pipeline: ~30; each WHEP session's webrtcbin: ~5–20) and "
    "descriptors (sockets, recording files); the rarest session kind, publishers, comes ~35 times per 10 min at the "
    "default churn, so one thread or descriptor left behind per publisher (and far more per viewer or chat client) "
    "exceeds these thresholds. They sit above the fit's noise: the count swings by tens between samples with the "
    "sessions that happen to be live, which the load-adjusted fit and the averaging of a reading every "
    f"{FAST:g} s into each sample take out, leaving a standard error of a few per 10 min over a 30-minute run. A slope "
    "counts only when it also exceeds twice its standard error; when twice the standard error exceeds the threshold "
    "the check says the run was too noisy to judge (run longer). The drained check below is the exact one.",
    f"- **Drained: threads <= baseline max + {THREAD_BAND}, descriptors <= baseline max + {FD_BAND}**, sessions and "
    "chat clients equal to the baseline (only the anchor publisher), no server socket in CLOSE_WAIT. After the "
    f"churn stops and a {ARGS.drain:g} s drain (longer than WebRTC's ~25 s silence timeout and RTSP's 2 s reaping) "
    "the server runs the same single room as at the baseline; GLib's and gst-rtsp-server's thread pools may keep a "
    "few idle workers (hence the small band), descriptors have nothing to keep.",
    f"- **SQLite < {SQLITE_PCT_PER_10MIN:g} % per 10 min**, judged only with retention (`--history-max-messages`): "
    "without it the history grows by the chat content by design (bytes per message shown below); with it, the "
    "database reaches its cap during the warm-up and then reuses its pages (the WAL is checkpointed and bounded).",
]


def fmt_spread(s, pattern="{:.2f}"):
    return summary.fmt(s, pattern)


def report(res):
    v, ev, load = res["verdict"], churn_summary(res), load_summary(res)
    st = res["settings"]
    samples = [s for s in res["samples"] if "rss_kib" in s]
    lines = summary.heading("Soak: `chatcast serve` under churn", False, "")
    lines += [f"**Verdict: {'PASS' if v['pass'] else 'FAIL'}**" + ("" if v["pass"] else " — " + "; ".join(v["failed"])), "",
              f"{st['minutes']:g} minutes of churn on {res['cores']} cores, started {res['started']}, the whole run "
              f"{res['duration_s'] / 60:.1f} min; a sample every {st['interval']:g} s; seed {st['seed']}. Server: `{res['serve_cmd']}` "
              f"(history retention: {'on' if res['retention'] else 'not offered by this serve, SQLite growth not judged'}).", "",
              "## Checks", "", "| check | measured | threshold | result |", "|---|---|---|---|"]
    for c in v["checks"]:
        result = {True: "ok", False: "**FAIL**", None: "not judged"}[c["ok"]]
        lines.append(f"| {c['check']} | {c['measured']} | {c['threshold']} | {result} |")
    lines += ["", "## Growth over the steady part", "",
              "Least-squares line through the steady samples (after the first third of the churn, before it stops), and "
              "the load-adjusted slope: the time coefficient of a fit that also has each sample's live rooms, RTSP and "
              "WebRTC sessions and chat clients as terms, i.e. growth the load of the moment does not explain (this is "
              "what is judged; SQLite is judged on the line). ± is the slope's standard error.", "",
              "| series | baseline | steady mean | after the drain | line / 10 min | % of mean / 10 min | load-adjusted / 10 min "
              "| line: 1st half → 2nd half / 10 min |",
              "|---|---|---|---|---|---|---|---|"]
    base = [s for s in samples if s["phase"] == "baseline"]
    drained = [s for s in samples if s["phase"] == "drain"]
    unit = {"rss_kib": (1 / 1024, "MiB", "{:.1f}"), "threads": (1, "", "{:.0f}"), "fds": (1, "", "{:.0f}"),
            "sqlite_bytes": (1 / 1024, "KiB", "{:.1f}")}
    for key, label in SERIES:
        k, u, p = unit[key]
        f = v["growth"].get(key)
        b = p.format(base[-1][key] * k) if base else "—"
        d = p.format(drained[-1][key] * k) if drained else "—"
        name = label.split(" (")[0] + (f" ({u})" if u else "")
        if f:
            pct = f"{f['pct_per_10min']:+.2f}" if f.get("pct_per_10min") is not None else "—"
            a = f.get("adjusted")
            adj = f"{a['per_10min'] * k:+.2f} ± {a['se_per_10min'] * k:.2f}" if a else "—"
            halves = " → ".join("—" if h is None else f"{h * k:+.2f}" for h in f.get("halves_per_10min", [None, None]))
            lines.append(f"| {name} | {b} | {p.format(f['mean'] * k)} | {d} | "
                         f"{f['per_10min'] * k:+.2f} ± {f['se_per_10min'] * k:.2f} | {pct} | {adj} | {halves} |")
        else:
            lines.append(f"| {name} | {b} | — | {d} | — | — | — | — |")
    costs = {key: v["growth"][key]["adjusted"]["per_unit_of_load"] for key, _ in SERIES[:3]
             if v["growth"].get(key) and v["growth"][key].get("adjusted")}
    if costs:
        lines += ["", "What the fit says one more unit of load costs: " + "; ".join(
            f"{label.split(' (')[0]}: " + ", ".join(f"{n.replace('_', ' ')} {c * unit[key][0]:+.2f}" for n, c in costs[key].items())
            for key, label in SERIES[:3] if key in costs) + " (RSS in MiB)."]
    steady = [s for s in samples if s["phase"] == "steady"]
    if len(steady) >= 2 and steady[-1].get("chat_messages_total") is not None and steady[0].get("chat_messages_total") is not None:
        msgs = steady[-1]["chat_messages_total"] - steady[0]["chat_messages_total"]
        grew = steady[-1]["sqlite_bytes"] - steady[0]["sqlite_bytes"]
        lines += ["", f"Chat over the steady part: {msgs:.0f} messages relayed, SQLite {grew / 1024:+.1f} KiB "
                  f"({grew / msgs:.0f} bytes per message)" if msgs else "", ""]
    lines += ["", "Thresholds:", ""] + threshold_text() + ["", "![RSS, threads, descriptors and SQLite over the soak](soak.png)", ""]
    p, r, w, c, pb = ev["publishers"], ev["rtsp"], ev["whep"], ev["chat"], ev["playbin"]
    kv = lambda d: ", ".join(f"{k} {n}" for k, n in sorted(d.items())) or "—"
    lines += ["## Churn", "",
              f"- Publishers ({st['rooms']} room slots + the anchor): {p['n']} sessions ({kv(p['by_kind'])}); ended by {kv(p['ends'])}; "
              f"{p['live']} went live, after {fmt_spread(p['live_after_s'])} s; their room went away "
              f"{fmt_spread(p['gone_after_s_by_end']['term'])} s after SIGTERM, {fmt_spread(p['gone_after_s_by_end']['kill'])} s after "
              f"SIGKILL (no TEARDOWN); {p['stale']} rooms still live 30 s after their publisher stopped."
              + (f" Never live: {', '.join(p['never_live'])}." if p["never_live"] else "")
              + (f" Exited on their own: {p['exited_early']}." if p["exited_early"] else ""),
              f"- RTSP viewers ({st['rtsp_viewers']} at once in {st['rtsp_processes']} processes): {r['n']} sessions, {r['with_frames']} "
              f"with frames, {r['pausers']} pausing and resuming; ended by {kv(r['ends'])} (server-closed: the room ended); "
              f"{r['processes_killed']} load processes killed with {r['vanished_with_process']} viewers playing; "
              f"{r['stopped_early']} saw their frames stop over 3 s before they left (their room ended under them). First IDR after "
              f"PLAY {fmt_spread(r['first_idr_s'])} s, after a resume {fmt_spread(r['resume_idr_s'])} s"
              f" ({r['resumes_without_idr']} resumes without one within the stretch)."
              + (" Errors: " + "; ".join(f"{n}× {t}" for t, n in r["errors"]) + "." if r["errors"] else ""),
              "", "  Resuming (PLAY after PAUSE) by the room's publisher and the tracks the viewer set up: answered / "
              "refused, resumes without an IDR within their stretch (2–8 s), time to the first IDR (s):", ""]
    for k, x in r["resume_by_publisher"].items():
        lines.append(f"  - {k}: {x['answered']} answered / {x['failed']} refused, {x['without_idr']} without an IDR, "
                     f"first IDR {fmt_spread(x['idr_s'])}")
    lines += ["",
              f"- playbin viewers of the anchor (pause/resume twice, TCP and UDP in turn): {pb['n']} ({kv(pb['ends'])}); "
              f"{pb['all_stretches_played']} of {pb['done']} completed ones played after every resume."
              + (f" Problems: {pb['problems']}." if pb["problems"] else ""),
              f"- WHEP viewers ({st['whep_viewers']} at once): {w['n']} sessions; {kv(w['ends'])} (vanished: killed without DELETE); "
              f"{w['deleted_with_frames']} of those ending with DELETE got frames ({fmt_spread(w['frames'], '{:.0f}')})."
              + (" Errors: " + "; ".join(f"{n}× {t}" for t, n in w["errors"]) + "." if w["errors"] else ""),
              f"- Chat clients ({st['irc_clients']} TCP + {st['ws_clients']} WebSocket at once): {c['n']} ({kv(c['by_transport'])}), "
              f"{c['registered']} registered; ended by {kv(c['ends'])}; {c['sent']} lines sent ({c['sent_bytes'] / 1024:.0f} KiB of text), "
              f"{c['refused']} refused by the rate limit; {c['flooders']} flooders, {c['flooders_dropped']} of them dropped by the "
              f"server; {c['dropped_not_flooding']} dropped without flooding." + (" Errors: " + "; ".join(f"{n}× {t}" for t, n in c["errors"]) + "." if c["errors"] else ""),
              ""]
    odd = unexpected_errors(res)
    if odd:
        lines += ["Failures the churn does not explain (the room was live before and after, with the same publisher):", ""]
        lines += [f"- {n}× {text}" for text, n in odd[:15]] + [""]
    lines += ["## Load generators", "",
              f"CPU from /proc of every process the soak started, by role, over the churn samples (cores: median (min–max) per "
              f"interval); the machine has {res['cores']} cores.", "",
              "| role | cores |", "|---|---|"]
    for role, s in sorted(load["roles"].items()):
        lines.append(f"| {role} | {fmt_spread(s)} |")
    if load.get("server"):
        lines.append(f"| *chatcast serve* | {fmt_spread(load['server'])} |")
        lines.append(f"| *other processes on the machine* | {fmt_spread(load['others'])} |")
    lines += ["", f"{load['text']}. " + ("The load generators were not the bottleneck: no load process came near a core and the "
              "server and its load left the machine idle time." if load["ok"] else
              f"**The load may have been the bottleneck** (a process above {LOAD_BUSY} core or server + load above "
              f"{100 * MACHINE_BUSY:.0f} % of the machine): service figures (first IDR, frames) may reflect the machine, not the server.")
              + (" Processes outside the soak (another build?) took a noticeable share of the machine: timing figures "
                 "(first IDR) are affected; counts and growth are not." if load.get("others") and load["others"]["median"] > 0.25 else ""), ""]
    lines += ["## Samples", "",
              "| min | phase | RSS MiB | threads | fds | SQLite KiB | recordings MiB (files) | rooms | RTSP viewers / sessions "
              "| WebRTC viewers / sessions | chat clients | server cores | machine busy % | server TCP by peer (est. / close-wait) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    fmt0 = lambda x: "—" if x is None else f"{x:.0f}"
    for s in samples:
        conns = collections.defaultdict(lambda: [0, 0])
        for k, n in s["conns"].items():
            if "/" in k:
                role, state = k.split("/")
                if state == "established":
                    conns[role][0] += n
                elif state == "close_wait":
                    conns[role][1] += n
        conn_text = " ".join(f"{role} {e}/{cw}" for role, (e, cw) in sorted(conns.items()))
        lines.append(f"| {s['min']:.1f} | {s['phase']} | {s['rss_kib'] / 1024:.1f} | {s['threads']} | {s['fds']} | "
                     f"{s['sqlite_bytes'] / 1024:.1f} | {s['recordings_bytes'] / 2 ** 20:.1f} ({s['recordings_files']}) | "
                     f"{fmt0(s.get('rooms_live'))} | {fmt0(s.get('viewers_rtsp'))} / {fmt0(s.get('rtsp_sessions'))} | "
                     f"{fmt0(s.get('viewers_webrtc'))} / {fmt0(s.get('webrtc_sessions'))} | {fmt0(s.get('chat_clients'))} | "
                     + (f"{s['server_cores']:.2f} | {100 * s['machine_busy']:.0f}" if "server_cores" in s else "— | —")
                     + f" | {conn_text} |")
    lines += ["", "Peers: local = 127.0.0.1 (publishers, WHEP and playbin viewers, chatinject), rtsp = 127.0.0.2 (RTSP "
              "viewers), irc = 127.0.0.3, ws = 127.0.0.4 (WebSocket chat), probe = 127.0.0.5 (this script's /metrics and "
              "/api/rooms); other addresses are WebRTC's ICE over TCP on the machine's own interfaces.", ""]
    f = res["final"]
    if f:
        lines += ["## After the churn", ""]
        for key, text in (("rtsp_anchor", "fresh RTSP viewer, anchor room"), ("whep_anchor", "fresh WHEP viewer, anchor room"),
                          ("rtsp_fresh", "fresh RTSP viewer, a room published after the churn")):
            x = f.get(key)
            if x:
                lines.append(f"- {text}: {x['frames']} frames in {FINAL_SECONDS:g} s"
                             + (f", first IDR after {x['first_idr_s']:.2f} s" if x.get("first_idr_s") is not None else "")
                             + (f" — {x['error']}" if x.get("error") else ""))
        lines.append("")
    stop = res["server_stop"]
    lines += [f"`chatcast serve` " + (f"exited with status {stop['exit']} {stop['seconds']:.1f} s after SIGTERM." if stop["seconds"] is not None
                                     else f"exited on its own during the soak (status {stop['exit']})."), ""]
    if res["problems"]:
        lines += ["## Server problems seen", ""] + [f"- {(p['t'] - res['t_churn']) / 60:.1f} min: {p['text']}" for p in res["problems"]] + [""]
    if res["server_log"]:
        lines += ["## Server output (status lines left out; digits folded when counting)", "", "| count | first such line |", "|---|---|"]
        lines += [f"| {x['count']} | `{x['line'].replace('|', '/')}` |" for x in res["server_log"][:25]] + [""]
    return "\n".join(lines) + "\n"


def plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    samples = [s for s in res["samples"] if "rss_kib" in s]
    if not samples:
        return
    panels = [("rss_kib", "RSS (MiB)", 1 / 1024), ("threads", "threads", 1), ("fds", "open fds", 1),
              ("sqlite_bytes", "SQLite db+wal (KiB)", 1 / 1024), (None, "live load", 1)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 13), sharex=True)
    t_end = res.get("churn_s", 60 * res["settings"]["minutes"]) / 60
    spans = [(min(s["min"] for s in samples), 0, "#dddddd", "baseline"), (0, res["settings"]["minutes"] / 3, "#fff2cc", "warm-up"),
             (res["settings"]["minutes"] / 3, t_end, "#d9ead3", "steady churn"), (t_end, samples[-1]["min"] + 0.1, "#cfe2f3", "churn stopped: drain, fresh viewers")]
    xs = [s["min"] for s in samples]
    for ax, (key, label, k) in zip(axes, panels):
        for a, b, color, name in spans:
            if b > a:
                ax.axvspan(a, b, color=color, zorder=0, label=name if ax is axes[0] else None)
        if key:
            ax.plot(xs, [s[key] * k for s in samples], "o", ms=2.5, color="#9fc5e8", label="sample")
            ax.plot(xs, [value(s, key) * k for s in samples], "-", lw=1.4, color="#1f4e79", label=f"mean of {FAST:g} s readings")
            g = res["verdict"]["growth"].get(key)
            if g:
                steady = [s["min"] for s in samples if s["phase"] == "steady"]
                fx = [min(steady), max(steady)]
                ax.plot(fx, [(g["intercept"] + g["slope_per_min"] * x) * k for x in fx], "--", color="#c00000", lw=1.5,
                        label=f"steady fit {g['per_10min'] * k:+.2f}/10 min")
                ax.legend(loc="upper left", fontsize=8)
        else:
            for series, name, color in (("rooms_live", "rooms", "#7f6000"), ("viewers_rtsp", "RTSP viewers", "#38761d"),
                                        ("webrtc_sessions", "WebRTC sessions", "#990000"), ("chat_clients", "chat clients", "#3d85c6")):
                ax.plot(xs, [value(s, series) for s in samples], ".-", lw=1, label=name, color=color)
            ax.legend(loc="upper left", fontsize=8, ncol=4)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8, ncol=3)
    axes[-1].set_xlabel("minutes since the churn started")
    fig.suptitle(f"chatcast serve soak: {res['settings']['minutes']:g} min churn — {'PASS' if res['verdict']['pass'] else 'FAIL'}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(res):
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "soak.json"), "w") as f:  # the measurements first, whatever happens next
        json.dump(res, f, indent=1)
    res["verdict"] = verdict(res)
    text = report(res)
    summary.save(ARGS.out, "soak", text, res)
    plot(res, os.path.join(ARGS.out, "soak.png"))
    v = res["verdict"]
    if not v["pass"]:
        print("SOAK FAILED:\n  " + "\n  ".join(v["failed"]), file=sys.stderr)
        return 1
    print("soak passed")
    return 0


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally blocks stop everything
    if not os.path.exists(ARGS.chatcast):
        sys.exit(f"no chatcast at {ARGS.chatcast}")
    with tempfile.TemporaryDirectory(prefix="chatcast-soak-") as tmp, Procs() as procs:
        res = Soak(procs, tmp).run()
    return write(res)


def rerender(path):
    with open(path) as f:
        res = json.load(f)
    for k, v in res["settings"].items():
        if k not in ("out",):
            setattr(ARGS, k, v)
    return write(res)


ARGS = parse_args()
if __name__ == "__main__":
    if ARGS.actor == "rtsp":
        rtsp_actor(json.loads(ARGS.spec))
    elif ARGS.actor == "chat":
        chat_actor(json.loads(ARGS.spec))
    elif ARGS.report_from:
        sys.exit(rerender(ARGS.report_from))
    else:
        sys.exit(main())
