#!/usr/bin/env python3
"""Plays one RTSP URL with the players people use, at their default settings, and prints a
JSON report: what each saw and every warning it printed.

  rtsp_players.py URL SECONDS [PLAYER ...]

PLAYER: ffprobe, ffmpeg-tcp, ffmpeg-udp, rtspsrc-tcp, rtspsrc-udp, mpv-tcp, mpv-udp (default: all).
"""
import json
import subprocess
import sys
import threading

URL = sys.argv[1]
SECONDS = float(sys.argv[2])
PLAYERS = sys.argv[3:] or ["ffprobe", "ffmpeg-tcp", "ffmpeg-udp", "rtspsrc-tcp", "rtspsrc-udp", "mpv-tcp", "mpv-udp"]
LIMIT = SECONDS + 25  # connecting, waiting for a key frame


def run(args):
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=LIMIT, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace")


def ffprobe():
    status, out, err = run(["ffprobe", "-v", "warning", "-rtsp_transport", "tcp", "-show_streams", "-of", "json", URL])
    streams = json.loads(out).get("streams", []) if status == 0 and out.strip() else []
    return {"status": status, "streams": [s.get("codec_name") for s in streams],
            "warnings": [line for line in err.splitlines() if line.strip()]}


def ffmpeg(transport):
    status, out, err = run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "warning", "-rtsp_transport", transport, "-i", URL,
                            "-t", str(SECONDS), "-map", "0", "-f", "null", "-", "-progress", "pipe:1"])
    frames = [int(line.split("=")[1]) for line in out.splitlines() if line.startswith("frame=")]
    return {"status": status, "frames": frames[-1] if frames else 0,
            "warnings": [line for line in err.splitlines() if line.strip()]}


def mpv(transport):
    frames = int(SECONDS * 25)
    status, out, err = run(["mpv", "--no-config", "--vo=null", "--ao=null", "--untimed", "--frames=%d" % frames,
                            "--rtsp-transport=" + transport, "--msg-level=all=warn", URL])
    return {"status": status, "frames": frames if status == 0 else 0,
            "warnings": [line for line in (out + err).splitlines() if line.strip()]}


def rtspsrc(transport):
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst, GLib
    Gst.init(None)
    pipeline = Gst.ElementFactory.make("playbin")
    pipeline.set_property("uri", URL)
    sinks = {}
    for kind in ("video", "audio"):
        sinks[kind] = Gst.ElementFactory.make("fakesink", kind)
        sinks[kind].set_property("sync", True)
        pipeline.set_property(kind + "-sink", sinks[kind])
    report = {"video": 0, "audio": 0, "backwards": 0, "repeated": 0, "untimed": 0, "warnings": []}
    last = {}

    def source_setup(_playbin, source):
        if source.get_factory().get_name() == "rtspsrc":
            source.set_property("protocols", "tcp" if transport == "tcp" else "udp")
    pipeline.connect("source-setup", source_setup)

    def counter(kind):
        def probe(_pad, info):
            buffer = info.get_buffer()
            report[kind] += 1
            if buffer.pts == Gst.CLOCK_TIME_NONE:
                report["untimed"] += 1
            elif kind in last and buffer.pts < last[kind]:
                report["backwards"] += 1
            elif kind in last and buffer.pts == last[kind]:
                report["repeated"] += 1
            last[kind] = buffer.pts
            return Gst.PadProbeReturn.OK
        return probe

    loop = GLib.MainLoop()
    for kind, sink in sinks.items():
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, counter(kind))
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    bus.add_signal_watch()

    def on_message(_bus, message):
        if message.type == Gst.MessageType.WARNING:
            error, debug = message.parse_warning()
            report["warnings"].append("WARNING %s: %s" % (message.src.get_name(), error.message))
        elif message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            report["warnings"].append("ERROR %s: %s" % (message.src.get_name(), error.message))
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            loop.quit()
    bus.connect("message", on_message)
    # Time starts at the first decoded frame.
    started = threading.Event()

    def tick():
        if report["video"] > 0 and not started.is_set():
            started.set()
            GLib.timeout_add(int(SECONDS * 1000), lambda: loop.quit() or False)
        return not started.is_set()
    GLib.timeout_add(50, tick)
    GLib.timeout_add(int(LIMIT * 1000), lambda: loop.quit() or False)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return report


def main():
    results = {}
    for player in PLAYERS:
        name, _, transport = player.partition("-")
        if name == "ffprobe":
            results[player] = ffprobe()
        elif name == "ffmpeg":
            results[player] = ffmpeg(transport)
        elif name == "mpv":
            results[player] = mpv(transport)
        elif name == "rtspsrc":
            # Each in its own process: GStreamer state stays apart.
            child = subprocess.run([sys.executable, __file__, URL, str(SECONDS), "_rtspsrc-" + transport],
                                   capture_output=True, text=True, timeout=LIMIT + 15)
            try:
                results[player] = json.loads(child.stdout)["_rtspsrc-" + transport]
            except (ValueError, KeyError):
                results[player] = {"video": 0, "warnings": ["player crashed: " + child.stderr[-2000:]]}
        elif name == "_rtspsrc":
            results[player] = rtspsrc(transport)
    print(json.dumps(results))


main()
