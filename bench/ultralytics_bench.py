#!/usr/bin/env python3
"""`make bench`: swiftyolo against Ultralytics, side by side, and its tracker against theirs.

Throughput and latency: the same TorchScript YOLOv8n (../shared/models, 640) on the same
150-frame 1280x720 H.264 file, decoded by each side (Ultralytics through OpenCV's FFmpeg,
swiftyolo through avdec_h264), the same torch thread count, each run in a fresh process,
sides alternating over the rounds:
  - Ultralytics `YOLO(model).predict(source=clip, stream=True)` / `.track(tracker="bytetrack.yaml")`
  - `filesrc ! qtdemux ! h264parse ! avdec_h264 ! swiftyolo threads=N [tracker=bytetrack] ! fakesink`
  - the bare libtorch forward loop (bench/TorchForwardLoop) as the ceiling.
Frames/s counts from the first frame out to the last (model load excluded on both sides);
latency per frame is Ultralytics' own preprocess+inference+postprocess, and for swiftyolo
the time from a buffer entering the element to it leaving.

Tracking quality: synthetic clips (Tests/fixtures/crossing_balls.py) with known truth, the
bundled ball model; swiftyolo `tracker=bytetrack interval=N` against Ultralytics'
`BYTETracker` fed the very same detections (swiftyolo with no tracker, conf 0.1, every
frame) on the same inferred frames; Ultralytics shows its last boxes between inferences,
as `vid_stride` does. MOTA (IoU >= 0.5 matching), ID switches, and the centre error on
frames without inference.

Writes bench/results/ultralytics.md and .json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MODELS = os.path.join(os.path.dirname(REPO), "shared", "models")
VENV_PYTHON = os.path.join(REPO, "build", "ultralytics-venv", "bin", "python")
CLIPS = ["crossing", "parallel", "weave"]
INTERVALS = [1, 3, 5]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plugins", default=os.path.join(REPO, "build", "gst-plugins"))
    p.add_argument("--build", default=os.path.join(REPO, ".build", "release"))
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--quick", action="store_true", help="2 rounds of 30 frames: checks the script works")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.quick:
        a.rounds, a.frames = 2, 30
    return a


ARGS = parse_args()
os.environ["GST_PLUGIN_PATH"] = ARGS.plugins
os.environ.setdefault("GST_REGISTRY", os.path.join(REPO, "build", "bench-registry.bin"))


# ---------------------------------------------------------------- children (fresh processes)

def child_swiftyolo(mode, clip, model, threads):
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    tracker = "tracker=bytetrack" if mode == "track" else ""
    pipeline = Gst.parse_launch(
        f"filesrc location={clip} ! qtdemux ! h264parse ! avdec_h264 ! swiftyolo name=y model={model} "
        f"threads={threads} {tracker} ! fakesink name=sink sync=false")
    y = pipeline.get_by_name("y")
    entered, latencies, out = {}, [], []

    def on_enter(pad, info):
        entered[info.get_buffer().pts] = time.perf_counter()
        return Gst.PadProbeReturn.OK

    def on_leave(pad, info):
        now = time.perf_counter()
        start = entered.pop(info.get_buffer().pts, None)
        if start is not None:
            latencies.append((now - start) * 1000)
        out.append(now)
        return Gst.PadProbeReturn.OK

    y.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_enter)
    y.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_leave)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        raise SystemExit(f"swiftyolo run failed: {msg.parse_error() if msg else 'timeout'}")
    return report(out, latencies[1:])


def child_ultralytics(mode, clip, model, threads):
    import torch
    torch.set_num_threads(threads)
    from ultralytics import YOLO
    yolo = YOLO(model, task="detect")
    kwargs = dict(source=clip, stream=True, device="cpu", imgsz=640, verbose=False)
    results = yolo.track(tracker="bytetrack.yaml", **kwargs) if mode == "track" else yolo.predict(**kwargs)
    out, latencies = [], []
    for r in results:
        out.append(time.perf_counter())
        latencies.append(sum(v for v in r.speed.values() if v is not None))
    return report(out, latencies[1:])


def report(out, latencies):
    return {"frames": len(out), "fps": (len(out) - 1) / (out[-1] - out[0]) if len(out) > 1 else 0,
            "latency_ms": statistics.median(latencies) if latencies else None}


def child_detections(clip_rgb, width, height, frames, interval, tracker):
    """JSON lines of swiftyolo over a raw clip: per frame pts and objects."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    options = f"tracker={tracker} interval={interval}" if tracker != "none" else "conf-threshold=0.1"
    pipeline = Gst.parse_launch(
        f"filesrc location={clip_rgb} blocksize={width * height * 3} ! rawvideoparse width={width} height={height} "
        f"format=rgb framerate=30/1 ! videoconvert ! video/x-raw,format=NV12 ! swiftyolo {options} post-messages=true "
        f"! fakesink sync=false")
    lines = []
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    while True:
        msg = bus.timed_pop_filtered(120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR | Gst.MessageType.ELEMENT)
        if msg is None or msg.type != Gst.MessageType.ELEMENT:
            break
        s = msg.get_structure()
        if s.get_name() == "swiftyolo":
            lines.append(json.loads(s.get_string("json")))
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        raise SystemExit("detection run failed")
    return lines


if ARGS.child:
    kind = ARGS.child[0]
    if kind == "swiftyolo":
        print(json.dumps(child_swiftyolo(ARGS.child[1], ARGS.child[2], ARGS.child[3], int(ARGS.child[4]))))
    elif kind == "ultralytics":
        print(json.dumps(child_ultralytics(ARGS.child[1], ARGS.child[2], ARGS.child[3], int(ARGS.child[4]))))
    elif kind == "detections":
        c = ARGS.child
        print(json.dumps(child_detections(c[1], int(c[2]), int(c[3]), int(c[4]), int(c[5]), c[6])))
    sys.exit(0)


# ---------------------------------------------------------------- throughput and latency

def run_child(python, *args, timeout=900):
    out = subprocess.run([python, os.path.abspath(__file__), "--plugins", ARGS.plugins, "--child", *map(str, args)],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_clip(tmp, frames):
    clip = os.path.join(tmp, "clip-720p.mp4")
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "pattern=smpte", f"num-buffers={frames}", "!",
                    "video/x-raw,format=I420,width=1280,height=720,framerate=30/1", "!", "timeoverlay", "!",
                    "x264enc", "!", "mp4mux", "!", "filesink", f"location={clip}"], check=True)
    return clip


def bare_forward(model, frames, threads):
    out = subprocess.run([os.path.join(ARGS.build, "torch-forward-loop"), model, "640", "640", str(frames), str(threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["fps"]


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "all": values}


def speed(tmp):
    model = os.path.join(SHARED_MODELS, "yolov8n-random-640.torchscript")
    if not os.path.exists(model):
        return {"skipped": f"{model} absent"}
    if not os.path.exists(VENV_PYTHON):
        return {"skipped": "build/ultralytics-venv absent: run scripts/install-deps.sh"}
    clip = make_clip(tmp, ARGS.frames)
    results = {}
    for mode in ["predict", "track"]:
        rounds = []
        for r in range(ARGS.rounds):
            order = ["ultralytics", "swiftyolo"] if r % 2 == 0 else ["swiftyolo", "ultralytics"]
            row = {}
            for side in order:
                python = VENV_PYTHON if side == "ultralytics" else "/usr/bin/python3"
                row[side] = run_child(python, side, mode, clip, model, ARGS.threads)
            row["bare_fps"] = bare_forward(model, ARGS.frames // 2, ARGS.threads)
            row["ratio"] = row["swiftyolo"]["fps"] / row["ultralytics"]["fps"]
            rounds.append(row)
            print(f"{mode} round {r + 1}: ultralytics {row['ultralytics']['fps']:.2f} fps "
                  f"{row['ultralytics']['latency_ms']:.1f} ms, swiftyolo {row['swiftyolo']['fps']:.2f} fps "
                  f"{row['swiftyolo']['latency_ms']:.1f} ms, bare {row['bare_fps']:.2f} fps", file=sys.stderr)
        results[mode] = {
            "rounds": rounds,
            "ultralytics_fps": spread([r["ultralytics"]["fps"] for r in rounds]),
            "swiftyolo_fps": spread([r["swiftyolo"]["fps"] for r in rounds]),
            "bare_fps": spread([r["bare_fps"] for r in rounds]),
            "ratio": spread([r["ratio"] for r in rounds]),
            "ultralytics_latency_ms": spread([r["ultralytics"]["latency_ms"] for r in rounds]),
            "swiftyolo_latency_ms": spread([r["swiftyolo"]["latency_ms"] for r in rounds]),
        }
    return results


# ---------------------------------------------------------------- tracking quality

def load_truth(path):
    with open(path) as f:
        return json.load(f)


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def score(truth, outputs, interval):
    """outputs[f] = [(x1, y1, x2, y2, track_id)]. MOTA with IoU >= 0.5 matches, ID switches,
    and the mean/max centre error on frames without inference."""
    from scipy.optimize import linear_sum_assignment
    r = truth["radius"]
    fn = fp = switches = gt = 0
    last_id = {}
    errors = []
    for f, balls in enumerate(truth["frames"]):
        boxes = outputs.get(f, [])
        gt += len(balls)
        gts = [(x - r, y - r, x + r, y + r) for x, y in balls]
        # CLEAR-MOT: a ball keeps last frame's track while its box still overlaps (IoU >= 0.5);
        # the rest are matched by the Hungarian method.
        matched = []
        for i, g in enumerate(gts):
            j = next((j for j, b in enumerate(boxes) if i in last_id and b[4] == last_id[i] and iou(g, b[:4]) >= 0.5
                      and j not in [m[1] for m in matched]), None)
            if j is not None:
                matched.append((i, j))
        free_g = [i for i in range(len(gts)) if i not in [m[0] for m in matched]]
        free_b = [j for j in range(len(boxes)) if j not in [m[1] for m in matched]]
        if free_g and free_b:
            cost = [[1 - iou(gts[i], boxes[j][:4]) for j in free_b] for i in free_g]
            rows, cols = linear_sum_assignment(cost)
            matched += [(free_g[r], free_b[c]) for r, c in zip(rows, cols) if cost[r][c] <= 0.5]
        fn += len(gts) - len(matched)
        fp += len(boxes) - len(matched)
        for i, j in matched:
            tid = boxes[j][4]
            if i in last_id and last_id[i] != tid:
                switches += 1
            last_id[i] = tid
            if f % interval != 0:
                b = boxes[j]
                errors.append(((b[0] + b[2]) / 2 - balls[i][0]) ** 2 + ((b[1] + b[3]) / 2 - balls[i][1]) ** 2)
    errors = [e ** 0.5 for e in errors]
    return {"mota": 1 - (fn + fp + switches) / gt, "id_switches": switches, "misses": fn, "false_positives": fp,
            "skipped_frame_error_px": statistics.mean(errors) if errors else None,
            "skipped_frame_error_max_px": max(errors) if errors else None}


def frame_of(line):
    return round(line["pts"] / 33_333_333.3)


def ultralytics_tracks(detections, interval, truth):
    """Ultralytics' BYTETracker fed our detections on the inferred frames; in between it
    shows its last output."""
    code = r"""
import json, sys, numpy as np
from types import SimpleNamespace
from ultralytics.trackers.byte_tracker import BYTETracker
data = json.load(sys.stdin)
args = SimpleNamespace(track_high_thresh=0.5, track_low_thresh=0.1, new_track_thresh=0.6, track_buffer=30, match_thresh=0.8)
tracker = BYTETracker(args, frame_rate=30)
out, last = {}, []
for f in range(data["frames"]):
    if f % data["interval"] == 0:
        objs = data["detections"].get(str(f), [])
        res = SimpleNamespace(conf=np.array([o[4] for o in objs], dtype=np.float32).reshape(-1),
                              xyxy=np.array([o[:4] for o in objs], dtype=np.float32).reshape(-1, 4),
                              cls=np.zeros(len(objs), dtype=np.float32))
        tracks = tracker.update(res)
        last = [[float(t[0]), float(t[1]), float(t[2]), float(t[3]), int(t[4])] for t in tracks]
    out[f] = last
print(json.dumps(out))
"""
    payload = {"frames": len(truth["frames"]), "interval": interval,
               "detections": {str(frame_of(l)): [[o["x"], o["y"], o["x"] + o["w"], o["y"] + o["h"], o["confidence"]]
                                                 for o in l["objects"]] for l in detections}}
    out = subprocess.run([VENV_PYTHON, "-c", code], input=json.dumps(payload), capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"ultralytics tracker failed: {out.stderr[-2000:]}")
    return {int(k): v for k, v in json.loads(out.stdout).items()}


def quality(tmp):
    if not os.path.exists(VENV_PYTHON):
        return {"skipped": "build/ultralytics-venv absent: run scripts/install-deps.sh"}
    sys.path.insert(0, os.path.join(REPO, "Tests", "fixtures"))
    import crossing_balls
    results = {}
    frames = 30 if ARGS.quick else 90
    for clip in CLIPS:
        rgb, truth_path = os.path.join(tmp, f"{clip}.rgb"), os.path.join(tmp, f"{clip}.json")
        crossing_balls.write(clip, rgb, truth_path, frames=frames)
        truth = load_truth(truth_path)
        dims = (rgb, truth["width"], truth["height"], frames)
        detections = run_child("/usr/bin/python3", "detections", *dims, 1, "none")
        for interval in INTERVALS:
            ours = run_child("/usr/bin/python3", "detections", *dims, interval, "bytetrack")
            ours_boxes = {frame_of(l): [(o["x"], o["y"], o["x"] + o["w"], o["y"] + o["h"], o.get("track_id"))
                                        for o in l["objects"]] for l in ours}
            theirs = ultralytics_tracks(detections, interval, truth)
            row = {"swiftyolo": score(truth, ours_boxes, interval), "ultralytics": score(truth, theirs, interval)}
            results[f"{clip} interval={interval}"] = row
            print(f"{clip} interval={interval}: ours {row['swiftyolo']}, ultralytics {row['ultralytics']}", file=sys.stderr)
    return results


# ---------------------------------------------------------------- report

def fmt(s, digits=2):
    if s is None:
        return "n/a"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    return f"{cpu}, {os.cpu_count()} cores; {ARGS.threads} torch threads each side; {time.strftime('%Y-%m-%d %H:%M:%S')}"


def write(results):
    os.makedirs(ARGS.out, exist_ok=True)
    with open(os.path.join(ARGS.out, "ultralytics.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = ["# swiftyolo against Ultralytics", "", f"Machine: {machine()}.", ""]
    sp = results.get("speed", {})
    if "skipped" in sp:
        lines += [f"Speed: skipped ({sp['skipped']}).", ""]
    elif sp:
        lines += ["## Throughput and latency (YOLOv8n 640, 150-frame 720p H.264, decode included on both sides)", "",
                  f"{ARGS.rounds} alternating rounds, each side a fresh process; median (min–max).", "",
                  "| mode | Ultralytics 8.0.200 fps | swiftyolo fps | ratio (goal ≥ 1.0) | bare forward fps | "
                  "Ultralytics ms/frame | swiftyolo ms/frame |", "|---|---|---|---|---|---|---|"]
        for mode, r in sp.items():
            lines.append(f"| {mode} | {fmt(r['ultralytics_fps'])} | {fmt(r['swiftyolo_fps'])} | **{fmt(r['ratio'])}** | "
                         f"{fmt(r['bare_fps'])} | {fmt(r['ultralytics_latency_ms'], 1)} | {fmt(r['swiftyolo_latency_ms'], 1)} |")
        lines += ["", "Ratios are per round (both sides in the same round), then the median and range over rounds. "
                  "Same model file, same clip, same torch thread count. What still differs: Ultralytics decodes with "
                  "OpenCV's FFmpeg on its own loop between forwards, swiftyolo with avdec_h264 on GStreamer's threads "
                  "beside the forwards; its latency is Ultralytics' own preprocess+inference+postprocess, ours the "
                  "time a frame spends inside the element.", ""]
    q = results.get("quality", {})
    if "skipped" in q:
        lines += [f"Tracking quality: skipped ({q['skipped']}).", ""]
    elif q:
        lines += ["## Tracking quality on synthetic clips (same detections for both trackers)", "",
                  "| clip | swiftyolo MOTA | Ultralytics MOTA | ID switches (ours / theirs) | "
                  "centre error on skipped frames, mean/max px (ours / theirs) |", "|---|---|---|---|---|"]
        for name, row in q.items():
            o, t = row["swiftyolo"], row["ultralytics"]
            def err(s):
                return "n/a" if s["skipped_frame_error_px"] is None else \
                    f"{s['skipped_frame_error_px']:.1f}/{s['skipped_frame_error_max_px']:.1f}"
            lines.append(f"| {name} | {o['mota']:.3f} | {t['mota']:.3f} | {o['id_switches']} / {t['id_switches']} | "
                         f"{err(o)} / {err(t)} |")
        lines.append("")
    with open(os.path.join(ARGS.out, "ultralytics.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def main():
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not ARGS.skip_quality:
            results["quality"] = quality(tmp)
        if not ARGS.skip_speed:
            results["speed"] = speed(tmp)
    write(results)


if __name__ == "__main__":
    main()
