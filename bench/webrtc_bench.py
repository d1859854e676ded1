#!/usr/bin/env python3
"""`make bench`, browser part: WebRTC (WHEP) viewers of `chatcast serve` against RTSP viewers
of the same server and room, side by side in one run (results in bench/results/webrtc.md and
webrtc.json).

- Viewers: one room fed a live 720p30 H.264 clip by ffmpeg (-re -c copy, RTSP RECORD).
  For each viewer count, WebRTC viewers (GStreamer webrtcbin WHEP clients: offer, answer,
  DTLS-SRTP, jitter buffer, depayloader — no decoding, like the RTSP side) and RTSP viewers
  (rtsp_bench's TCP-interleaved clients), split over several load processes, log whole
  frames over a window; the worst viewer's loss, the server's CPU, each load process's CPU.
  Rounds alternate the protocols; medians and min–max over the rounds. CPU per viewer is
  (server CPU with n viewers − server CPU with none, same round) ÷ n.
- Glass to glass: a live publisher (x264 zerolatency, 640x360, detected) carries chat lines
  stamped when written (chatinject reads its file every 100 ms) to Debian's Chromium, headless,
  showing the room's page; each line's first display time (requestVideoFrameCallback) minus
  its stamp, p50/p95. How far a drawn box lags its frame: the share of displayed frames drawn
  with their own envelope (found by RTP timestamp), and the lag in frames of the others.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# rtsp_bench reads its own arguments when imported: give it none.
_argv, sys.argv = sys.argv, sys.argv[:1]
import rtsp_bench as rb  # noqa: E402
sys.argv = _argv

CLEAN = 0.01
WARMUP = 4.0  # s: every WHEP session answered and connected, the GOP catch-up over


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
    p.add_argument("--plugins", default=os.path.join(REPO, "build", "gst-plugins"))
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--viewers", default="4,16,32", help="viewer counts tried, in order")
    p.add_argument("--seconds", type=float, default=7, help="measuring window per count")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clients", type=int, default=4, help="load processes the viewers are split over")
    p.add_argument("--latency-rounds", type=int, default=5)
    p.add_argument("--stamps", type=int, default=14, help="stamped chat lines per latency round")
    p.add_argument("--quick", action="store_true", help="2 rounds of small counts: checks the script works")
    p.add_argument("--report-from", help="write the report again from this webrtc.json (no measuring)")
    p.add_argument("--client", help=argparse.SUPPRESS)  # internal: one WebRTC load process (JSON spec)
    a = p.parse_args()
    if a.quick:
        a.viewers, a.seconds, a.rounds, a.latency_rounds, a.stamps = "2,4", 4, 2, 2, 6
    a.counts = [int(x) for x in a.viewers.split(",")]
    return a


# ---------------------------------------------------------------- WebRTC load process

def webrtc_client_window(spec):
    """`spec["viewers"]` WHEP sessions in this process; each logs its depayloaded frames
    (arrival time, RTP time from the PTS) over the shared window; this process's CPU too."""
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstWebRTC", "1.0")
    gi.require_version("GstSdp", "1.0")
    from gi.repository import GLib, Gst, GstSdp, GstWebRTC
    Gst.init(None)
    loop = GLib.MainLoop()
    threading.Thread(target=loop.run, daemon=True).start()
    base = f"http://127.0.0.1:{spec['http']}"

    class Session:
        def __init__(self):
            self.frames, self.error, self.location = [], None, None
            self.recent = collections.deque(maxlen=64)
            self.pads = 0
            self.pipe = Gst.Pipeline.new()
            self.webrtc = Gst.ElementFactory.make("webrtcbin")
            self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
            self.pipe.add(self.webrtc)
            self.webrtc.connect("pad-added", self.pad_added)
            caps = Gst.Caps.from_string("application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
                                        "packetization-mode=(string)1,profile-level-id=(string)42e01f,"
                                        "level-asymmetry-allowed=(string)1")
            self.webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY, caps)
            self.pipe.set_state(Gst.State.PLAYING)

        def pad_added(self, _, pad):
            if pad.direction != Gst.PadDirection.SRC:
                return
            depay = Gst.ElementFactory.make("rtph264depay")
            sink = Gst.ElementFactory.make("fakesink")
            sink.set_property("sync", False)
            sink.set_property("async", False)
            for e in (depay, sink):
                self.pipe.add(e)
                e.sync_state_with_parent()
            depay.link(sink)
            pad.link(depay.get_static_pad("sink"))
            depay.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.frame)
            self.pads += 1

        def frame(self, _, info):
            pts = info.get_buffer().pts
            if pts != Gst.CLOCK_TIME_NONE:
                ts = (pts * 9 // 100000) & 0xFFFFFFFF
                # webrtcbin may give one stream two pads (an SSRC seen before and after the
                # answer): a frame counts once.
                if ts not in self.recent:
                    self.recent.append(ts)
                    self.frames.append((time.monotonic(), ts))
            return Gst.PadProbeReturn.OK

        def negotiate(self):
            offered = Gst.Promise.new()
            self.webrtc.emit("create-offer", None, offered)
            offered.wait()
            reply = offered.get_reply()
            offer = reply.get_value("offer")  # borrowed from the reply: both kept until it is set
            promise = Gst.Promise.new()
            self.webrtc.emit("set-local-description", offer, promise)
            promise.wait()
            del offer, reply, offered
            end = time.time() + 5
            while self.webrtc.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE and time.time() < end:
                time.sleep(0.01)
            sdp = self.webrtc.get_property("local-description").sdp.as_text()
            request = urllib.request.Request(f"{base}/{spec['room']}/whep", data=sdp.encode(), method="POST",
                                             headers={"Content-Type": "application/sdp"})
            with urllib.request.urlopen(request, timeout=20) as response:
                self.location = response.headers["Location"]
                answer_text = response.read().decode()
            _, message = GstSdp.SDPMessage.new_from_text(answer_text)
            answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
            promise = Gst.Promise.new()
            self.webrtc.emit("set-remote-description", answer, promise)
            promise.wait()

        def close(self):
            if self.location:
                try:
                    urllib.request.urlopen(urllib.request.Request(base + self.location, method="DELETE"), timeout=5).read()
                except OSError:
                    pass
            self.pipe.set_state(Gst.State.NULL)

    def run(end):
        sessions = []
        for _ in range(spec["viewers"]):
            s = Session()
            try:
                s.negotiate()
            except Exception as e:  # noqa: BLE001 — a refused or broken session is counted, not fatal
                s.error = repr(e)[:160]
            sessions.append(s)
        rb.sleep_until(end)
        for s in sessions:
            s.close()
        return sessions

    return rb.measured_window(spec, run)


# ---------------------------------------------------------------- the server and its feed

class Server:
    def __init__(self, procs, env, tmp):
        self.rtsp, self.irc, self.http = rb.free_port(), rb.free_port(), rb.free_port()
        self.proc = procs.start([ARGS.chatcast, "serve", "--rtsp-port", str(self.rtsp), "--irc-port", str(self.irc),
                                 "--http-port", str(self.http), "--max-viewers", "1000", "--data-dir", tempfile.mkdtemp(dir=tmp)],
                                env=env)
        if not all(rb.wait_port(p) for p in (self.rtsp, self.irc, self.http)):
            raise RuntimeError("chatcast serve did not start")
        # rtsp_bench's helpers take a `side`.
        self.name, self.port, self.path, self.feed = "chatcast", self.rtsp, "/lobby", None


def spawn(procs, server, protocol, n, start_at, seconds):
    if protocol == "rtsp":
        return rb.spawn_clients(procs, server, n, start_at, seconds)
    k = min(ARGS.clients, n)
    specs = [{"http": server.http, "room": "lobby", "viewers": n // k + (1 if i < n % k else 0),
              "start_at": start_at, "seconds": seconds} for i in range(k)]
    return [procs.start([sys.executable, os.path.abspath(__file__), "--client", json.dumps(s)],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in specs]


def measure(server, protocol, n):
    """n viewers of one protocol (n = 0: the server with its feed alone)."""
    start_at = time.time() + WARMUP + (n / 4 if protocol == "webrtc" else 0)  # WHEP exchanges take a moment each
    with rb.Processes() as clients:
        running = spawn(clients, server, protocol, n, start_at, ARGS.seconds) if n else []
        rb.sleep_until(start_at)
        cpu0, t0 = rb.cpu_seconds(server.proc.pid), time.monotonic()
        rb.sleep_until(start_at + ARGS.seconds)
        cpu1, t1 = rb.cpu_seconds(server.proc.pid), time.monotonic()
        outs = rb.collect(running)
    row = {"protocol": protocol, "viewers": n, "server_cores": (cpu1 - cpu0) / (t1 - t0)}
    if n:
        viewers = [v for o in outs for v in o["viewers"]]
        client_cores = [o["cpu_s"] / o["window_s"] for o in outs]
        row.update({"worst_loss": max(v["loss"] for v in viewers), "mean_fps": statistics.mean(v["frames"] / ARGS.seconds for v in viewers),
                    "client_cores": client_cores, "client_bound": max(client_cores) > rb.CLIENT_BOUND,
                    "playing_at_start": sum(o["playing_at_start"] for o in outs), "failed": sum(o["failed"] for o in outs),
                    "errors": sorted({e for o in outs for e in o["errors"]})[:3]})
    return row


def capacity_phase(procs, env, tmp, clip):
    server = Server(procs, env, tmp)
    rb.start_feed(procs, server, clip, tmp)
    rounds = []
    for r in range(ARGS.rounds):
        order = ["webrtc", "rtsp"] if r % 2 == 0 else ["rtsp", "webrtc"]
        rows = [measure(server, "none", 0)]
        print(f"  round {r + 1}: idle server {rows[0]['server_cores']:.3f} cores", flush=True)
        for n in ARGS.counts:
            for protocol in order:
                row = measure(server, protocol, n)
                row["per_viewer_cores"] = (row["server_cores"] - rows[0]["server_cores"]) / n
                rows.append(row)
                print(f"  round {r + 1} {protocol:6} {n:3} viewers: worst loss {100 * row['worst_loss']:6.2f} %, "
                      f"{row['mean_fps']:5.1f} fps, server {row['server_cores']:.3f} cores ({1000 * row['per_viewer_cores']:.1f} "
                      f"m-cores a viewer), load {'/'.join(f'{c:.2f}' for c in row['client_cores'])}, "
                      f"{row['playing_at_start']}/{n} playing at start"
                      f"{' LOAD-BOUND' if row['client_bound'] else ''}"
                      f"{'; ' + str(row['failed']) + ' failed ' + str(row['errors']) if row['failed'] else ''}", flush=True)
                rb.settle([server.proc.pid])
        rounds.append({"round": r + 1, "order": order, "rows": rows})
    return rounds


# ---------------------------------------------------------------- glass to glass in Chromium

def latency_round(procs, env, tmp, server, r):
    stamps = os.path.join(tmp, f"stamps-{r}.txt")
    open(stamps, "w").close()
    room = f"glass{r}"
    cmd = rb.publisher_cmd("zerolatency", f"rtsp://127.0.0.1:{server.rtsp}/{room}", server.irc, room, f"pub{r}", stamps)
    detect_at = cmd.index("x264enc")  # the boxes come from the stream: detect before encoding
    cmd[detect_at:detect_at] = ["swiftyolo", "!"]
    publisher = procs.start(cmd, env=env)
    try:
        rb.wait_live(server.rtsp, "/" + room)
        seconds = 6 + ARGS.stamps * 0.5
        page = procs.start([sys.executable, os.path.join(REPO, "Tests", "fixtures", "browser.py"), "--timeout", "60", "watch",
                            "--url", f"http://127.0.0.1:{server.http}/{room}", "--seconds", str(seconds + 3), "--min-seconds", str(seconds + 3)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(5)  # the page connects and plays
        sent = {}
        for i in range(ARGS.stamps):
            key = f"g{r}s{i}"
            with open(stamps, "a") as f:
                sent[key] = time.time()
                f.write(f"stamp: {key}\n")
            time.sleep(0.5 + 0.1 * (i % 3))
        out, err = page.communicate(timeout=90)
    finally:
        procs.stop(publisher)
    seen = json.loads(out) if out.strip().startswith("{") else {}
    first = {}
    for frame in seen.get("frame_log", []):
        for text in frame.get("chatTexts", []):
            if text in sent and frame.get("shownAt"):
                first.setdefault(text, frame["shownAt"] / 1000)
    glass = [1000 * (first[k] - t) for k, t in sent.items() if k in first]
    state = seen.get("state") or {}
    frames = seen.get("frame_log", [])
    with_boxes = [f for f in frames if f.get("objects")]
    return {"round": r + 1, "glass_ms": glass, "sent": len(sent), "seen": len(glass),
            "synced": state.get("syncedFrames", 0), "unsynced": state.get("unsyncedFrames", 0),
            "frames_with_boxes": len(with_boxes), "frames_logged": len(frames), "errors": seen.get("errors", [])[:3],
            "driver_error": err.strip()[-300:] if not seen else None}


def latency_phase(procs, env, tmp):
    server = Server(procs, env, tmp)
    rounds = []
    for r in range(ARGS.latency_rounds):
        row = latency_round(procs, env, tmp, server, r)
        g = sorted(row["glass_ms"])
        print(f"  round {r + 1}: {row['seen']}/{row['sent']} stamps seen, glass p50 "
              f"{rb.nearest_rank(g, 0.5) if g else float('nan'):.0f} ms; frames drawn with their own envelope "
              f"{row['synced']}/{row['synced'] + row['unsynced']}", flush=True)
        rounds.append(row)
    return rounds


# ---------------------------------------------------------------- report

def spread(values):
    values = [v for v in values if v is not None]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)} if values else None


def fmt(s, pattern="{:.3f}"):
    return "—" if not s else f"{pattern.format(s['median'])} ({pattern.format(s['min'])}–{pattern.format(s['max'])})"


def summarize(res):
    rows = [row for rnd in res["capacity"] for row in rnd["rows"] if row["viewers"]]
    table = []
    for n in ARGS.counts:
        for protocol in ("webrtc", "rtsp"):
            mine = [row for row in rows if row["viewers"] == n and row["protocol"] == protocol]
            table.append({"protocol": protocol, "viewers": n,
                          "worst_loss_pct": spread([100 * row["worst_loss"] for row in mine]),
                          "server_cores": spread([row["server_cores"] for row in mine]),
                          "per_viewer_mcores": spread([1000 * row["per_viewer_cores"] for row in mine]),
                          "load_cores_max": spread([max(row["client_cores"]) for row in mine]),
                          "clean_rounds": sum(1 for row in mine if row["worst_loss"] < CLEAN and not row["failed"]),
                          "late_rounds": sum(1 for row in mine if row["playing_at_start"] < n),
                          "load_bound_rounds": sum(1 for row in mine if row["client_bound"]), "rounds": len(mine)})
    ratios = {}
    for n in ARGS.counts:
        per_round = []
        for rnd in res["capacity"]:
            w = next(row for row in rnd["rows"] if row["protocol"] == "webrtc" and row["viewers"] == n)
            t = next(row for row in rnd["rows"] if row["protocol"] == "rtsp" and row["viewers"] == n)
            if t["per_viewer_cores"] > 0:
                per_round.append(w["per_viewer_cores"] / t["per_viewer_cores"])
        ratios[n] = {"spread": spread(per_round), "per_round": per_round}
    glass = [ms for row in res["latency"] for ms in row["glass_ms"]]
    synced = sum(row["synced"] for row in res["latency"])
    shown = synced + sum(row["unsynced"] for row in res["latency"])
    return {"table": table, "cpu_ratio": ratios,
            "glass": {"p50": rb.nearest_rank(glass, 0.5) if glass else None, "p95": rb.nearest_rank(glass, 0.95) if glass else None,
                      "samples": len(glass), "round_p50": spread([statistics.median(r["glass_ms"]) for r in res["latency"] if r["glass_ms"]])},
            "boxes": {"synced": synced, "shown": shown, "share": synced / shown if shown else None}}


def report(res):
    s = res["summary"]
    lines = ["# WebRTC viewers of `chatcast serve`", "",
             f"One room, a live 720p30 H.264 clip (2 Mbit/s, GOP 20) from ffmpeg `-re -c copy`. WebRTC viewers are "
             f"GStreamer webrtcbin WHEP clients (offer → `POST /lobby/whep` → answer, ICE on loopback, DTLS-SRTP, "
             f"jitter buffer, rtph264depay; no decoding); RTSP viewers are rtsp_bench's TCP-interleaved clients (no "
             f"decoding either). Both split over {ARGS.clients} load processes, each process's CPU read over the window. "
             f"{ARGS.rounds} rounds alternating which protocol goes first; a {ARGS.seconds:.0f} s window per count; "
             f"figures are median (min–max) over the rounds. Per-viewer CPU = (server CPU with n viewers − server CPU "
             f"with none, same round) ÷ n. Machine: {os.cpu_count()} cores.", "",
             "| protocol | viewers | worst viewer's loss % | server cores | server m-cores per viewer | busiest load process (cores) | rounds < 1 % loss | rounds with a viewer not yet playing at the window's start |",
             "|---|---|---|---|---|---|---|---|"]
    for row in s["table"]:
        lines.append(f"| {row['protocol']} | {row['viewers']} | {fmt(row['worst_loss_pct'], '{:.2f}')} | {fmt(row['server_cores'])} | "
                     f"{fmt(row['per_viewer_mcores'], '{:.1f}')} | {fmt(row['load_cores_max'], '{:.2f}')} | "
                     f"{row['clean_rounds']} of {row['rounds']}{' (load-bound in ' + str(row['load_bound_rounds']) + ')' if row['load_bound_rounds'] else ''} | "
                     f"{row['late_rounds']} |")
    lines += ["", "A viewer not yet playing when the window opens (its WHEP exchange, made one after another in "
              "each load process, took longer than the warm-up) counts as losing the frames it missed: such "
              "rounds show a large loss that is the load generator's start-up, not the stream's.", "",
              "Server CPU per WebRTC viewer ÷ per RTSP viewer, computed in each round:", ""]
    for n, ratio in s["cpu_ratio"].items():
        lines.append(f"- {n} viewers: **{fmt(ratio['spread'], '{:.2f}')}** (rounds: {', '.join(f'{x:.2f}' for x in ratio['per_round'])})")
    g, b = s["glass"], s["boxes"]
    lines += ["", "## Glass to glass, publisher → Chromium", "",
              f"A live publisher (videotestsrc 640x360 30 fps → swiftyolo → x264enc zerolatency → chatinject → RTSP RECORD) "
              f"carries chat lines stamped with the wall clock when written to chatinject's messages file (read every "
              f"100 ms: up to 100 ms of the figure is that poll); Debian's Chromium, headless, shows the room's page; a "
              f"line's time is the display time (requestVideoFrameCallback) of the first frame whose SEI carries it. "
              f"{ARGS.latency_rounds} rounds of {ARGS.stamps} lines.", "",
              f"- p50 **{g['p50']:.0f} ms**, p95 **{g['p95']:.0f} ms** over {g['samples']} lines; per-round medians {fmt(g['round_p50'], '{:.0f}')} ms"
              if g["p50"] is not None else "- no stamped line reached the page",
              f"- Boxes: {b['synced']} of {b['shown']} displayed frames were drawn with their own envelope (found by "
              f"the frame's RTP timestamp): a lag of 0 frames for {100 * b['share']:.1f} %; the others kept no boxes or, "
              f"at most, the previous frame's (1 frame)." if b["share"] is not None else "- no frames displayed",
              "", "## What differs between the sides", "",
              "- Same server process, room and feed; only the viewers' protocol differs. WebRTC adds SRTP encryption, "
              "RTCP feedback and a pipeline (webrtcbin) per viewer; RTSP viewers share the room's bridge the same way.",
              "- The WebRTC load clients run webrtcbin (DTLS, SRTP decryption, jitter buffer) in Python's GLib loop: "
              "heavier per viewer than the RTSP clients; their CPU is in the table (LOAD-BOUND marks a process above "
              f"{rb.CLIENT_BOUND} of a core).",
              "- Chromium decodes and renders; the server and the page's SEI reading are what is timed in the glass figure, "
              "and the publisher's encoder (x264 zerolatency) and RTSP hop are included."]
    return "\n".join(lines) + "\n"


def main():
    res = {"settings": {k: v for k, v in vars(ARGS).items() if k != "client"}}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp, rb.Processes() as procs:
        env = dict(os.environ, GST_PLUGIN_PATH=ARGS.plugins, GST_REGISTRY=os.path.join(tmp, "registry.bin"))
        rb.ARGS.quick = ARGS.quick
        clip = rb.make_clip(tmp, env)
        print(f"[{(time.time() - started) / 60:.1f} min] viewers:", flush=True)
        res["capacity"] = capacity_phase(procs, env, tmp, clip)
        print(f"[{(time.time() - started) / 60:.1f} min] glass to glass:", flush=True)
        res["latency"] = latency_phase(procs, env, tmp)
    res["summary"] = summarize(res)
    res["duration_s"] = time.time() - started
    text = report(res)
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "webrtc.md"), "w") as f:
        f.write(text)
    with open(os.path.join(ARGS.out, "webrtc.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(text)


def rerender(path):
    with open(path) as f:
        res = json.load(f)
    for key in ("counts", "rounds", "seconds", "clients", "latency_rounds", "stamps"):
        setattr(ARGS, key, res["settings"][key])
    res["summary"] = summarize(res)
    res["summary"]["cpu_ratio"] = {int(k): v for k, v in res["summary"]["cpu_ratio"].items()}
    text = report(res)
    with open(os.path.join(os.path.dirname(path), "webrtc.md"), "w") as f:
        f.write(text)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(text)


ARGS = parse_args()
rb.ARGS.clients = ARGS.clients
if __name__ == "__main__":
    if ARGS.client:
        print(json.dumps(webrtc_client_window(json.loads(ARGS.client))))
    elif ARGS.report_from:
        rerender(ARGS.report_from)
    else:
        main()
