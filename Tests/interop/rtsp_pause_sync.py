#!/usr/bin/env python3
"""Plays an RTSP URL with playbin (rtspsrc, its defaults), pauses it (RTSP PAUSE) and resumes
it (PLAY) a few times, and prints a JSON report of each stretch of playing: how many video and
audio buffers the clock-synced sinks rendered, how late each stream was when rendered (median
ms), and whether a stream's times stepped back. Sound in sync after a resume means both
streams rendered on time, like before the first pause.

  rtsp_pause_sync.py URL [TRANSPORT] [PAUSES] [SECONDS_PLAYING]
"""
import json
import statistics
import sys

import gi
gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst

URL = sys.argv[1]
TRANSPORT = sys.argv[2] if len(sys.argv) > 2 else "tcp"
PAUSES = int(sys.argv[3]) if len(sys.argv) > 3 else 2
PLAY_S = float(sys.argv[4]) if len(sys.argv) > 4 else 4
PAUSE_S = 2

Gst.init(None)
pipeline = Gst.ElementFactory.make("playbin")
pipeline.set_property("uri", URL)
stretches = []  # one per stretch of playing
current = None
warnings = []


def new_stretch():
    return {"video": 0, "audio": 0, "video_late_ms": [], "audio_late_ms": [], "backwards": 0}


last_pts = {}


def handoff(kind):
    def on_handoff(sink, buffer, pad):
        if current is None or buffer.pts == Gst.CLOCK_TIME_NONE:
            return
        current[kind] += 1
        if kind in last_pts and buffer.pts < last_pts[kind]:
            current["backwards"] += 1
        last_pts[kind] = buffer.pts
        segment = pad.get_sticky_event(Gst.EventType.SEGMENT, 0)
        clock = sink.get_clock()
        if segment is None or clock is None:
            return
        running = segment.parse_segment().to_running_time(Gst.Format.TIME, buffer.pts)
        now = clock.get_time() - sink.get_base_time()
        current[kind + "_late_ms"].append((now - running) / 1e6)
    return on_handoff


for kind in ("video", "audio"):
    sink = Gst.ElementFactory.make("fakesink", kind)
    sink.set_property("sync", True)
    sink.set_property("signal-handoffs", True)
    sink.connect("handoff", handoff(kind))
    pipeline.set_property(kind + "-sink", sink)
pipeline.connect("source-setup", lambda _p, source: source.get_factory().get_name() == "rtspsrc"
                 and source.set_property("protocols", TRANSPORT))

loop = GLib.MainLoop()
bus = pipeline.get_bus()
bus.add_signal_watch()


def on_message(_bus, message):
    if message.type in (Gst.MessageType.WARNING, Gst.MessageType.ERROR):
        error, _ = message.parse_warning() if message.type == Gst.MessageType.WARNING else message.parse_error()
        warnings.append("%s %s: %s" % (message.type.first_value_nick.upper(), message.src.get_name(), error.message))
        if message.type == Gst.MessageType.ERROR:
            loop.quit()
bus.connect("message", on_message)

steps = []  # (seconds from now, action)
for i in range(PAUSES + 1):
    steps.append((PLAY_S, "pause" if i < PAUSES else "stop"))
    if i < PAUSES:
        steps.append((PAUSE_S, "play"))


def start_playing():
    global current
    current = new_stretch()
    stretches.append(current)
    last_pts.clear()  # a resume may start a new timeline
    pipeline.set_state(Gst.State.PLAYING)


def next_step():
    global current
    if not steps:
        return False
    seconds, action = steps.pop(0)

    def act():
        global current
        if action == "pause":
            current = None
            pipeline.set_state(Gst.State.PAUSED)
        elif action == "play":
            start_playing()
        else:
            loop.quit()
            return False
        next_step()
        return False
    GLib.timeout_add(int(seconds * 1000), act)
    return False


def wait_first_frame():
    if stretches and stretches[0]["video"] > 0:
        next_step()
        return False
    return True


start_playing()
GLib.timeout_add(50, wait_first_frame)
GLib.timeout_add(60 * 1000, lambda: loop.quit() or False)
loop.run()
pipeline.set_state(Gst.State.NULL)


def median(values):
    # The first half second of a stretch is the resume itself (waiting for a key frame).
    values = values[len(values) // 4:]
    return statistics.median(values) if values else None


print(json.dumps({"stretches": [{"video": s["video"], "audio": s["audio"], "backwards": s["backwards"],
                                 "video_late_ms": median(s["video_late_ms"]), "audio_late_ms": median(s["audio_late_ms"])}
                                for s in stretches], "warnings": warnings}))
