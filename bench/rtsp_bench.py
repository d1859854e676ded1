#!/usr/bin/env python3
"""`make bench`, video server part (`chatcast serve` on loopback; results in bench/results/rtsp.md).

- Viewers: one 720p30 stream published to `chatcast serve` (ffmpeg -re -c copy, so the
  publisher costs almost nothing), N viewers over TCP; the largest N with under 1 % of
  frames lost, and the server's CPU meanwhile. Baseline, same run: stock gst-rtsp-server
  (Python GI, a shared mount of the same clip), the server our RTSP half is built on.
- Glass to glass: a publisher (chatcast publish, 640x360) whose stream carries chat lines
  stamped with the wall clock; a headless viewer's output time minus that stamp.
- Chat latency: an IRC PRIVMSG to its JSON line in a headless viewer's output.
- Memory: `chatcast serve`'s resident memory per added viewer, and after 1,000 RTSP
  connect/describe/disconnect cycles.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
p.add_argument("--viewers", default="4,8,16,32,64,96,128,192,256,384,512", help="viewer counts tried, in order")
p.add_argument("--seconds", type=float, default=10, help="measuring window per viewer count")
p.add_argument("--quick", action="store_true")
ARGS = p.parse_args()
if ARGS.quick:
    ARGS.viewers, ARGS.seconds = "2,4", 4
ENV = dict(os.environ, GST_PLUGIN_PATH=os.path.join(REPO, "build", "gst-plugins"),
           GST_REGISTRY=os.path.join(REPO, "build", "registry.bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15):
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
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])


async def viewer(port, path, counts, index, stop):
    """A TCP-interleaved RTSP viewer counting whole frames (RTP marker bits)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    url = f"rtsp://127.0.0.1:{port}{path}"
    cseq = 0

    async def request(method, target, headers=""):
        nonlocal cseq
        cseq += 1
        writer.write(f"{method} {target} RTSP/1.0\r\nCSeq: {cseq}\r\n{headers}\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in head.split("\r\n")[1:] if ":" in l}
        body = await reader.readexactly(int(fields.get("content-length", "0")))
        return int(head.split(" ")[1]), fields, body

    status, fields, body = await request("DESCRIBE", url, "Accept: application/sdp\r\n")
    assert status == 200, status
    control = next((l.split(":", 1)[1] for l in body.decode().split("\r\n")
                    if l.startswith("a=control:") and l != "a=control:*"), "stream=0")
    base = fields.get("content-base", url + "/")
    setup = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control
    status, fields, _ = await request("SETUP", setup, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
    session = fields["session"].split(";")[0]
    # The server may start sending before its PLAY answer: the loop below reads both. It
    # parses whole reads, not one packet per await, so that one Python process can keep up
    # with a few hundred viewers and the figure is the server's, not the client's.
    cseq += 1
    writer.write(f"PLAY {url} RTSP/1.0\r\nCSeq: {cseq}\r\nSession: {session}\r\n\r\n".encode())
    buffer = bytearray()
    try:
        while not stop.is_set():
            chunk = await reader.read(262144)
            if not chunk:
                break
            buffer += chunk
            at, frames = 0, 0
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
                if buffer[at + 1] == 0 and size > 1 and buffer[at + 5] & 0x80:
                    frames += 1
                at += 4 + size
            del buffer[:at]
            counts[index] += frames
    finally:
        writer.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure_viewers(port, path, n, seconds, pid):
    """Worst viewer's share of frames lost, mean fps, and the server's CPU (cores) meanwhile."""
    counts = [0] * n
    stop = asyncio.Event()
    tasks = [asyncio.create_task(viewer(port, path, counts, i, stop)) for i in range(n)]
    await asyncio.sleep(2)  # everyone connected and past the first frames
    start, cpu_start, t_start = list(counts), cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    got = [c - s for c, s in zip(counts, start)]
    cores = (cpu_seconds(pid) - cpu_start) / (time.monotonic() - t_start)
    stop.set()
    for t in tasks:
        t.cancel()
    failures = [r for r in await asyncio.gather(*tasks, return_exceptions=True)
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
    for failure in failures[:3]:
        print(f"  a viewer failed: {failure!r}", flush=True)
    expected = 30 * seconds
    return max(0.0, 1 - min(got) / expected), statistics.mean(got) / seconds, cores


def make_clip(tmp):
    clip = os.path.join(tmp, "clip-720p30.mkv")
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "pattern=ball", "num-buffers=900", "!",
                    "video/x-raw,format=I420,width=1280,height=720,framerate=30/1", "!", "x264enc", "tune=zerolatency",
                    "speed-preset=ultrafast", "key-int-max=20", "bitrate=2000", "!", "h264parse", "!", "matroskamux", "!",
                    "filesink", f"location={clip}"], check=True, env=ENV)
    return clip


def viewer_capacity(port, path, pid):
    rows = []
    for n in [int(x) for x in ARGS.viewers.split(",")]:
        loss, fps, cores = asyncio.run(measure_viewers(port, path, n, ARGS.seconds, pid))
        rows.append((n, loss, fps, cores))
        print(f"  {n} viewers: worst loss {100 * loss:.2f} %, mean {fps:.1f} fps, server {cores:.3f} cores", flush=True)
        if loss >= 0.01:
            break
    best = max((n for n, loss, _, _ in rows if loss < 0.01), default=0)
    return best, rows


BASELINE_SERVER = r"""
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
server = GstRtspServer.RTSPServer(); server.set_service(sys.argv[1])
f = GstRtspServer.RTSPMediaFactory()
f.set_launch("( filesrc location=%s ! matroskademux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )" % sys.argv[2])
f.set_shared(True)
server.get_mount_points().add_factory("/clip", f)
server.attach(None)
GLib.MainLoop().run()
"""


def main():
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(tmp)
        # Ours: ffmpeg RECORDs the clip in real time, viewers PLAY the room.
        rtsp, irc = free_port(), free_port()
        serve = subprocess.Popen([ARGS.chatcast, "serve", "--rtsp-port", str(rtsp), "--irc-port", str(irc), "--data-dir",
                                  os.path.join(tmp, "data"), "--max-viewers", "600"], env=ENV,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_port(rtsp) and wait_port(irc)
            idle = rss_kib(serve.pid)
            ffmpeg = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip, "-c", "copy",
                                       "-f", "rtsp", "-rtsp_transport", "tcp", f"rtsp://127.0.0.1:{rtsp}/lobby"])
            time.sleep(3)
            print("chatcast serve:", flush=True)
            ours, ours_rows = viewer_capacity(rtsp, "/lobby", serve.pid)
            one = asyncio.run(memory_with_viewers(rtsp, "/lobby", serve.pid, 20))
            asyncio.run(connect_cycles(rtsp, "/lobby", 100))  # warm-up: client threads and their allocators
            time.sleep(1)
            cycles_before = rss_kib(serve.pid)
            asyncio.run(connect_cycles(rtsp, "/lobby", 1000))
            time.sleep(2)
            cycles_after = rss_kib(serve.pid)
            ffmpeg.terminate()
            ffmpeg.wait()
            glass, chat = latencies(rtsp, irc, tmp)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait()
        # Baseline: stock gst-rtsp-server serving the same clip.
        port = free_port()
        base = subprocess.Popen(["/usr/bin/python3", "-c", BASELINE_SERVER, str(port), clip],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_port(port)
            print("stock gst-rtsp-server:", flush=True)
            theirs, their_rows = viewer_capacity(port, "/clip", base.pid)
        finally:
            base.terminate()
            base.wait()
    results = {"viewers": {"chatcast": ours, "stock": theirs, "chatcast_rows": ours_rows, "stock_rows": their_rows},
               "memory": {"idle_kib": idle, **one, "cycles_before_kib": cycles_before, "cycles_after_kib": cycles_after},
               "glass_to_glass_ms": glass, "chat_ms": chat}
    write(results)


async def memory_with_viewers(port, path, pid, n):
    before = rss_kib(pid)
    counts = [0] * n
    stop = asyncio.Event()
    tasks = [asyncio.create_task(viewer(port, path, counts, i, stop)) for i in range(n)]
    await asyncio.sleep(4)
    during = rss_kib(pid)
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"before_viewers_kib": before, "with_viewers_kib": during, "viewers": n, "per_viewer_kib": (during - before) / n}


async def connect_cycles(port, path, n):
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"DESCRIBE rtsp://127.0.0.1:{port}{path} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0)
        await reader.readexactly(length)
        writer.close()


def latencies(rtsp, irc, tmp):
    """Publisher → server → viewer, for a stamped frame and for an IRC message."""
    stamps = os.path.join(tmp, "stamps.txt")
    open(stamps, "w").close()
    url = f"rtsp://127.0.0.1:{rtsp}/g2g"
    publisher = subprocess.Popen(["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "pattern=ball", "!",
                                  "video/x-raw,format=I420,width=640,height=360,framerate=30/1", "!", "x264enc",
                                  "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=20", "!", "h264parse",
                                  "config-interval=-1", "!", "chatinject", f"messages-file={stamps}",
                                  f"server=irc://127.0.0.1:{irc}", "room=g2g", "nick=pub", "!", "rtspclientsink",
                                  f"location={url}"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    viewer = subprocess.Popen([ARGS.chatcast, "play", url, "--headless", "--latency", "50"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = {}

    def read():
        for line in viewer.stdout:
            if '"type":"chat"' in line:
                text = json.loads(line)["text"]
                seen.setdefault(text, time.time())

    threading.Thread(target=read, daemon=True).start()
    time.sleep(3)
    irc_sock = socket.create_connection(("127.0.0.1", irc))
    irc_sock.sendall(b"NICK bench\r\nUSER bench 0 * :bench\r\nJOIN #g2g\r\n")
    time.sleep(1)
    sent_file, sent_irc = {}, {}
    for i in range(20):
        key = f"f{i}"
        with open(stamps, "a") as f:
            sent_file[key] = time.time()
            f.write(f"stamp: {key}\n")
        time.sleep(0.25)
        key = f"c{i}"
        sent_irc[key] = time.time()
        irc_sock.sendall(f"PRIVMSG #g2g :{key}\r\n".encode())
        time.sleep(0.25)
    time.sleep(2)
    viewer.terminate()
    publisher.terminate()
    viewer.wait()
    publisher.wait()
    irc_sock.close()

    def summary(sent):
        d = sorted(1000 * (seen[k] - t) for k, t in sent.items() if k in seen)
        if not d:
            return None
        return {"p50": d[len(d) // 2], "p95": d[min(len(d) - 1, int(len(d) * 0.95))], "n": len(d), "of": len(sent)}

    return summary(sent_file), summary(sent_irc)


def write(r):
    v, m = r["viewers"], r["memory"]
    ratio = v["chatcast"] / v["stock"] if v["stock"] else float("nan")
    g, c = r["glass_to_glass_ms"], r["chat_ms"]
    fmt = lambda s: f"p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms ({s['n']}/{s['of']} seen)" if s else "not measured (no line seen)"
    lines = ["# Video server benchmark", "",
             "`chatcast serve` on loopback on this 2-core machine; the stream is a 720p30 H.264 clip (2 Mbit/s, GOP 20) that "
             "ffmpeg RECORDs in real time; viewers are TCP-interleaved RTSP clients in one Python process counting whole "
             f"frames over {ARGS.seconds:.0f} s. Baseline in the same run: stock gst-rtsp-server 1.22 (Python GI) serving the "
             "same clip as a shared mount.", "",
             "| viewers | chatcast serve: worst loss | its CPU (cores) | stock gst-rtsp-server: worst loss | its CPU (cores) |",
             "|---|---|---|---|---|"]
    ours = {n: (loss, cores) for n, loss, _, cores in v["chatcast_rows"]}
    theirs = {n: (loss, cores) for n, loss, _, cores in v["stock_rows"]}
    for n in sorted(set(ours) | set(theirs)):
        cell = lambda d: f"{100 * d[n][0]:.2f} % | {d[n][1]:.3f}" if n in d else "— | —"
        lines.append(f"| {n} | {cell(ours)} | {cell(theirs)} |")
    lines += ["", f"Largest viewer count with under 1 % frames lost: chatcast serve **{v['chatcast']}**, stock "
              f"{v['stock']} (ratio **{ratio:.2f}**; the counts tried stop at {ARGS.viewers.split(',')[-1]}; the viewers "
              "share the 2 cores with the server, and ours also takes in the publisher's RECORD). A worst loss of "
              "100 % means a viewer got no frame in the window: it was not connected yet — 1.22's default listen queue "
              "of 5 drops a rush of connections for TCP to retry after 1, 3 and 7 s; ours queues 1024.", ""]
    both = [n for n in ours if n in theirs and ours[n][0] < 0.01 and theirs[n][0] < 0.01]
    if both:
        n = max(both)
        cpu_ratio = ours[n][1] / theirs[n][1] if theirs[n][1] else float("nan")
        lines += [f"Server CPU at {n} viewers (the most both served cleanly): chatcast serve {ours[n][1]:.3f} cores, "
                  f"stock {theirs[n][1]:.3f} (ratio **{cpu_ratio:.2f}**, lower is better; ours includes the RECORD "
                  "ingest and the bridge).", ""]
    lines += [
              f"Publisher frame → viewer output (chat line stamped into a 640x360 stream, viewer latency 50 ms): {fmt(g)}.",
              f"IRC PRIVMSG → its line in a headless viewer (through the publisher's chatinject): {fmt(c)}.", "",
              f"Resident memory of `chatcast serve`: idle {m['idle_kib'] / 1024:.1f} MiB; with a publisher "
              f"{m['before_viewers_kib'] / 1024:.1f} MiB; with {m['viewers']} more viewers {m['with_viewers_kib'] / 1024:.1f} MiB "
              f"→ **{m['per_viewer_kib'] / 1024:.2f} MiB per viewer** (goal ≤ 2). 1,000 connect/DESCRIBE/disconnect "
              f"cycles after 100 warm-up ones: {m['cycles_before_kib'] / 1024:.1f} → {m['cycles_after_kib'] / 1024:.1f} MiB "
              f"(ratio {m['cycles_after_kib'] / m['cycles_before_kib']:.2f}).", ""]
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "rtsp.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(ARGS.out, "rtsp.json"), "w") as f:
        json.dump(r, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
