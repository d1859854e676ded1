#!/usr/bin/env python3
"""`make bench`: does a detecting relay keep the publisher's frame rate, and what delay does
it add?

A live 1280x720 30 fps publisher (x264enc, chat marks stamped in by chatinject once a
second) RECORDs into `chatcast serve` as #lobby; `chatcast relay` (the relay-detect preset)
pulls it, detects with YOLOv8n (../shared/models, else the bundled ball model) and
publishes #lobby-detected. One process plays both rooms (rtspsrc ! depay ! h264parse !
chatparse ! fakesink) and counts frames over the same window: output fps / input fps. The
delay the relay adds is the arrival time of each chat mark in #lobby-detected minus its
arrival in #lobby (the same SEI, carried through). Rounds alternate the preset's default
(mode=async tracker=bytetrack) with mode=sync tracker=none, the element's old behaviour.

Writes bench/results/relay.md and .json.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time

_argv, sys.argv = sys.argv, sys.argv[:1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtsp_bench as rb  # noqa: E402
sys.argv = _argv

REPO = rb.REPO
SHARED_MODELS = os.path.join(os.path.dirname(REPO), "shared", "models")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chatcast", default=os.path.join(REPO, ".build", "release", "chatcast"))
    p.add_argument("--plugins", default=os.path.join(REPO, "build", "gst-plugins"))
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--rounds", type=int, default=3, help="rounds of each mode, alternating")
    p.add_argument("--seconds", type=float, default=15, help="measured window per round")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if a.quick:
        a.rounds, a.seconds = 1, 6
    return a


ARGS = parse_args()
os.environ["GST_PLUGIN_PATH"] = ARGS.plugins

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)


class Watcher:
    """Plays one room: frame arrival times and chat-mark arrival times."""

    def __init__(self, url):
        self.frames, self.marks = [], {}
        self.pipeline = Gst.parse_launch(
            f"rtspsrc location={url} latency=0 protocols=tcp ! application/x-rtp,media=video ! rtph264depay "
            f"! h264parse ! video/x-h264,alignment=au ! chatparse name=p post-messages=false ! fakesink name=sink sync=false")
        self.pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._frame)
        self.pipeline.get_by_name("p").connect("message", self._chat)
        self.pipeline.set_state(Gst.State.PLAYING)

    def _frame(self, pad, info):
        self.frames.append(time.monotonic())
        return Gst.PadProbeReturn.OK

    def _chat(self, element, line):
        m = json.loads(line)
        if m.get("text", "").startswith("mark "):
            self.marks.setdefault(m["text"], time.monotonic())

    def fps(self, t0, t1):
        return sum(1 for t in self.frames if t0 <= t < t1) / (t1 - t0)

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


def round_(procs, tmp, model, mode):
    side = rb.start_ours(procs, dict(os.environ), tmp)
    marks = os.path.join(tmp, f"marks-{time.monotonic_ns()}.txt")
    open(marks, "w").close()
    procs.start(["gst-launch-1.0", "videotestsrc", "is-live=true", "pattern=ball", "!",
                 "video/x-raw,format=I420,width=1280,height=720,framerate=30/1", "!", "x264enc", "tune=zerolatency",
                 "speed-preset=ultrafast", "key-int-max=30", "bitrate=2000", "!", "h264parse", "config-interval=-1", "!",
                 "chatinject", f"messages-file={marks}", "!", "rtspclientsink",
                 f"location=rtsp://127.0.0.1:{side.port}/lobby"])
    rb.wait_live(side.port, "/lobby")
    settings = ["--set", "mode=sync", "--set", "tracker=none"] if mode == "sync" else []
    relay = procs.start([ARGS.chatcast, "relay", "--dir", os.path.join(REPO, "pipelines"), "--from",
                         f"rtsp://127.0.0.1:{side.port}/lobby", "--to", f"rtsp://127.0.0.1:{side.port}/lobby-detected"]
                        + (["--model", model] if model else []) + settings)
    rb.wait_live(side.port, "/lobby-detected", timeout=60)
    source, detected = Watcher(f"rtsp://127.0.0.1:{side.port}/lobby"), Watcher(f"rtsp://127.0.0.1:{side.port}/lobby-detected")
    time.sleep(4)  # warm-up: model load is behind us, the viewers are in
    t0 = time.monotonic()
    n = 0
    while time.monotonic() < t0 + ARGS.seconds:
        with open(marks, "a") as f:
            f.write(f"bench: mark {n}\n")
        n += 1
        time.sleep(1)
    t1 = time.monotonic()
    time.sleep(3)  # marks still on their way through the relay
    delays = [(detected.marks[k] - source.marks[k]) * 1000 for k in source.marks if k in detected.marks]
    result = {"mode": mode, "input_fps": source.fps(t0, t1), "output_fps": detected.fps(t0, t1),
              "added_delay_ms": statistics.median(delays) if delays else None, "marks": len(delays), "sent": n}
    result["ratio"] = result["output_fps"] / result["input_fps"] if result["input_fps"] else None
    source.stop()
    detected.stop()
    for p in list(procs.running):
        procs.stop(p)
    return result


def spread(values):
    values = [v for v in values if v is not None]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)} if values else None


def fmt(s, d=2):
    return "n/a" if s is None else f"{s['median']:.{d}f} ({s['min']:.{d}f}–{s['max']:.{d}f})"


def main():
    model = os.path.join(SHARED_MODELS, "yolov8n-random-640.torchscript")
    name = "YOLOv8n 640"
    if not os.path.exists(model):
        model, name = None, "the bundled ball model (../shared/models absent)"
    rounds = []
    with tempfile.TemporaryDirectory() as tmp, rb.Processes() as procs:
        for r in range(ARGS.rounds):
            for mode in (["async", "sync"] if r % 2 == 0 else ["sync", "async"]):
                row = round_(procs, tmp, model, mode)
                rounds.append(row)
                print(f"round {r + 1} {mode}: {row}", file=sys.stderr)
    summary = {}
    for mode in ["async", "sync"]:
        rows = [r for r in rounds if r["mode"] == mode]
        summary[mode] = {k: spread([r[k] for r in rows]) for k in ["input_fps", "output_fps", "ratio", "added_delay_ms"]}
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "relay.json"), "w") as f:
        json.dump({"model": name, "rounds": rounds, "summary": summary}, f, indent=1)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["# A detecting relay against its publisher", "",
             f"Machine: {cpu}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M:%S')}. Model: {name}. "
             f"Publisher: live 1280x720 30 fps; {ARGS.rounds} rounds per mode, alternating, "
             f"{ARGS.seconds:.0f} s measured each; median (min–max).", "",
             "| relay-detect | input fps | output fps | output / input (goal ≥ 0.98) | delay the relay adds, ms |",
             "|---|---|---|---|---|"]
    labels = {"async": "default (mode=async tracker=bytetrack)", "sync": "mode=sync tracker=none"}
    for mode in ["async", "sync"]:
        s = summary[mode]
        lines.append(f"| {labels[mode]} | {fmt(s['input_fps'])} | {fmt(s['output_fps'])} | **{fmt(s['ratio'])}** | "
                     f"{fmt(s['added_delay_ms'], 0)} |")
    lines += ["", "The delay is per chat mark: its arrival in the relayed room minus its arrival in the source "
              "room, both played by one process over RTSP/TCP (the relay's own rtspsrc latency of 200 ms, decode, "
              "inference wait, re-encode, RECORD, serve). n/a: no mark reached the relayed room within 3 s of "
              "the window's end, the relay falling further behind every second.", ""]
    with open(os.path.join(ARGS.out, "relay.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
