#!/usr/bin/env python3
"""`make bench`: swiftyolo against its baselines, measured in one run on this machine.

Every figure is a ratio against a baseline taken in the same run (a bare libtorch forward
loop through the same C shim, bench/TorchForwardLoop,
OpenCV preprocessing, the source's own frame rate), written with the machine's
description to bench/results/swiftyolo.md (and .json).
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MODELS = os.path.join(os.path.dirname(REPO), "shared", "models")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--plugins", default=os.path.join(REPO, "build", "gst-plugins"))
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seconds", type=float, default=3.0, help="rough length of each throughput run")
    p.add_argument("--quick", action="store_true", help="short runs, for checking the script")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds per figure; the best of each side counts")
    p.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    return p.parse_args()


ARGS = parse_args()
os.environ["GST_PLUGIN_PATH"] = ARGS.plugins
os.environ.setdefault("GST_REGISTRY", os.path.join(REPO, "build", "bench-registry.bin"))

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

Gst.init(None)


def machine():
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) // 1024
    import cv2
    import torch

    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(),
        "gstreamer": Gst.version_string(), "torch": torch.__version__, "opencv": cv2.__version__,
        "threads": ARGS.threads, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def models():
    found = [("default (ball)", None)]
    for name, label in [("fastestdet-coco-352.torchscript", "FastestDet"), ("yolov8n-random-640.torchscript", "YOLOv8n")]:
        path = os.path.join(SHARED_MODELS, name)
        if os.path.exists(path):
            found.append((label, path))
        else:
            print(f"bench: {path} absent, {label} skipped", file=sys.stderr)
    return found


SIZES = {"fastestdet-coco-352.torchscript": (352, 352), "yolov8n-random-640.torchscript": (640, 640)}


def default_model_path():
    return os.path.join(ARGS.plugins, "swiftyolo-default.torchscript")


def structure_fields(text):
    s = Gst.Structure.from_string(text)[0]
    return {s.nth_field_name(i): s.get_value(s.nth_field_name(i)) for i in range(s.n_fields())}


def run_pipeline(description, on_buffer=None, until_buffers=None, timeout=600):
    """Runs to EOS; on_buffer(count) is called from the sink's streaming thread."""
    pipeline = Gst.parse_launch(description)
    sink = pipeline.get_by_name("sink")
    count = [0]
    if on_buffer:
        def probe(pad, info):
            count[0] += 1
            on_buffer(count[0])
            return Gst.PadProbeReturn.OK
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    msg = bus.timed_pop_filtered(timeout * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg and msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        pipeline.set_state(Gst.State.NULL)
        raise RuntimeError(f"{description}: {err.message}")
    return pipeline


def element_throughput(model, fmt, frames):
    """Frames per second through swiftyolo (sync) on 1280x720 frames, timed at the sink
    after a warm-up, with the element's own per-stage statistics."""
    warm = 5
    times = {}
    model_arg = f'model="{model}"' if model else ""
    desc = (f"videotestsrc pattern=ball num-buffers=1 ! video/x-raw,format={fmt},width=1280,height=720,framerate=30/1 "
            f"! imagefreeze num-buffers={frames + warm} ! swiftyolo name=det {model_arg} threads={ARGS.threads} "
            f"! fakesink name=sink sync=false")

    def on_buffer(n):
        if n == warm:
            times["start"] = time.perf_counter()
        times["end"] = time.perf_counter()

    pipeline = run_pipeline(desc, on_buffer)
    det = pipeline.get_by_name("det")
    stats = structure_fields(det.get_property("stats").to_string())
    info = structure_fields(det.get_property("model-info").to_string())
    pipeline.set_state(Gst.State.NULL)
    fps = frames / (times["end"] - times["start"])
    return fps, stats, info


def opencv_preprocess_ms(fmt, width, height, letterbox, repeats):
    """The usual OpenCV route to a tensor: colour conversion of the whole frame,
    resize (+ letterbox border), blobFromImage."""
    import cv2

    cv2.setNumThreads(ARGS.threads)
    rng = np.random.default_rng(0)
    if fmt == "NV12":
        frame = rng.integers(0, 255, (720 * 3 // 2, 1280), dtype=np.uint8)
        code = cv2.COLOR_YUV2RGB_NV12
    else:
        frame = rng.integers(0, 255, (720 * 3 // 2, 1280), dtype=np.uint8)
        code = cv2.COLOR_YUV2RGB_I420
    r = min(width / 1280, height / 720) if letterbox else None

    def once():
        rgb = cv2.cvtColor(frame, code)
        if letterbox:
            nw, nh = round(1280 * r), round(720 * r)
            resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR)
            top, left = (height - nh) // 2, (width - nw) // 2
            resized = cv2.copyMakeBorder(resized, top, height - nh - top, left, width - nw - left,
                                         cv2.BORDER_CONSTANT, value=(114, 114, 114))
        else:
            resized = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
        return cv2.dnn.blobFromImage(resized, scalefactor=1 / 255.0)

    for _ in range(5):
        once()
    t0 = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - t0) * 1000 / repeats


def async_live_fps(model, seconds):
    """A live 30 fps source through swiftyolo mode=async: frames per second leaving it."""
    stamps = []
    model_arg = f'model="{model}"' if model else ""
    desc = (f"videotestsrc is-live=true pattern=ball num-buffers={int(30 * seconds)} "
            f"! video/x-raw,format=NV12,width=1280,height=720,framerate=30/1 "
            f"! swiftyolo name=det mode=async {model_arg} threads={ARGS.threads} ! fakesink name=sink sync=true")
    pipeline = run_pipeline(desc, lambda n: stamps.append(time.perf_counter()))
    stats = structure_fields(pipeline.get_by_name("det").get_property("stats").to_string())
    pipeline.set_state(Gst.State.NULL)
    stamps = stamps[30:]  # the first second includes start-up
    fps = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    return fps, stats


def peak_rss_mib(model, frames):
    model_arg = f"model={model}" if model else ""
    cmd = ["/usr/bin/time", "-f", "%M", "gst-launch-1.0", "-q", "videotestsrc", f"num-buffers={frames}", "!",
           "video/x-raw,format=NV12,width=1280,height=720", "!", "swiftyolo", model_arg, f"threads={ARGS.threads}", "!",
           "fakesink"]
    out = subprocess.run([c for c in cmd if c], capture_output=True, text=True, check=True)
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def rss_mib():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024


def rss_over_frames(total, checkpoints):
    """Resident memory of this process at frame checkpoints of one long pipeline."""
    samples = {}
    desc = ("videotestsrc pattern=ball num-buffers=%d ! video/x-raw,format=NV12,width=1280,height=720 "
            "! swiftyolo ! fakesink name=sink sync=false" % total)
    run_pipeline(desc, lambda n: samples.setdefault(n, rss_mib()) if n in checkpoints else None).set_state(Gst.State.NULL)
    return samples


def rss_over_state_cycles(cycles, checkpoints):
    pipeline = Gst.parse_launch("videotestsrc pattern=ball ! video/x-raw,format=NV12,width=640,height=480 "
                                "! swiftyolo ! fakesink name=sink sync=false")
    samples = {}
    for i in range(1, cycles + 1):
        pipeline.set_state(Gst.State.PLAYING)
        pipeline.get_state(30 * Gst.SECOND)
        time.sleep(0.02)
        pipeline.set_state(Gst.State.NULL)
        if i in checkpoints:
            samples[i] = rss_mib()
    return samples


def child(kind, model, *rest):
    """One measurement in a fresh process, so no libtorch thread pool of another
    measurement is alive beside it. Prints JSON."""
    model = None if model == "-" else model
    if kind == "element":
        fmt, frames = rest[0], int(rest[1])
        fps, stats, info = element_throughput(model, fmt, frames)
        print(json.dumps({"fps": fps, "stats": stats, "info": info}))
    elif kind == "bare":
        width, height, frames = rest[0], rest[1], rest[2]
        loop = os.path.join(REPO, ".build", "release", "torch-forward-loop")
        out = subprocess.run([loop, model or default_model_path(), width, height, frames, str(ARGS.threads)],
                             capture_output=True, text=True, check=True)
        print(out.stdout.strip())


def in_child(*args):
    cmd = [sys.executable, os.path.abspath(__file__), "--plugins", ARGS.plugins, "--threads", str(ARGS.threads),
           "--child", *[str(a) for a in args]]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of_rounds(model, fmt, frames):
    """Alternates element and bare-forward runs; a shared VM's noise only ever slows a
    run down, so the fastest of each side is the fairest pair."""
    element, bare = None, None
    for _ in range(1 if ARGS.quick else ARGS.rounds):
        e = in_child("element", model or "-", fmt, frames)
        element = e if element is None or e["fps"] > element["fps"] else element
        w, h = int(e["info"]["input-width"]), int(e["info"]["input-height"])
        b = in_child("bare", model or "-", w, h, frames)
        bare = b if bare is None or b["fps"] > bare["fps"] else bare
    return element, bare


def main():
    quick = ARGS.quick
    # Frames per run from the model's speed on this machine (bare forward, short probe).
    def frames_for(path):
        probe = in_child("bare", path or "-", *SIZES.get(os.path.basename(path or ""), (320, 320)), 5)
        return max(10, int(probe["fps"] * (1 if quick else ARGS.seconds)))
    result = {"machine": machine(), "throughput": [], "preprocess": [], "async": None, "memory": {}}
    for label, path in models():
        frames = frames_for(path)
        for fmt in ["NV12", "I420"]:
            element, bare_run = best_of_rounds(path, fmt, frames)
            fps, stats, info = element["fps"], element["stats"], element["info"]
            w, h = int(info["input-width"]), int(info["input-height"])
            bare = bare_run["fps"]
            row = {"model": label, "format": fmt, "input": f"{w}x{h}", "element_fps": fps, "bare_fps": bare,
                   "ratio": fps / bare, "pre_ms": stats["preprocess-mean-ms"], "post_ms": stats["postprocess-mean-ms"],
                   "infer_ms": stats["inference-mean-ms"]}
            result["throughput"].append(row)
            print(f"{label} {fmt}: element {fps:.1f} fps, bare forward {bare:.1f} fps, ratio {row['ratio']:.3f}")
            cv_ms = min(opencv_preprocess_ms(fmt, w, h, info["head"] != "fastestdet", 20 if quick else 100)
                        for _ in range(1 if quick else ARGS.rounds))
            result["preprocess"].append({"model": label, "format": fmt, "input": f"{w}x{h}", "ours_ms": stats["preprocess-mean-ms"],
                                         "opencv_ms": cv_ms, "speedup": cv_ms / stats["preprocess-mean-ms"]})
            print(f"  preprocess: ours {stats['preprocess-mean-ms']:.3f} ms, OpenCV {cv_ms:.3f} ms")

    yolov8n = os.path.join(SHARED_MODELS, "yolov8n-random-640.torchscript")
    async_model = yolov8n if os.path.exists(yolov8n) else None
    fps, stats = async_live_fps(async_model, 3 if quick else 10)
    result["async"] = {"model": "YOLOv8n" if async_model else "default", "source_fps": 30.0, "output_fps": fps,
                       "ratio": fps / 30.0, "inferences": stats["inferences"], "frames": stats["frames"]}
    print(f"async: {fps:.2f} fps out of a 30 fps live source, {stats['inferences']} inferences")

    mem = result["memory"]
    mem["peak_rss_mib"] = peak_rss_mib(async_model, 30 if quick else 200)
    mem["peak_rss_model"] = "YOLOv8n" if async_model else "default"
    total = 1000 if quick else 10_000
    frames_rss = rss_over_frames(total, {total // 10, total})
    mem["rss_frames"] = {str(k): v for k, v in frames_rss.items()}
    cycles = rss_over_state_cycles(20 if quick else 100, {10, 20 if quick else 100})
    mem["rss_cycles"] = {str(k): v for k, v in cycles.items()}
    print(f"memory: peak {mem['peak_rss_mib']:.0f} MiB; frames {frames_rss}; cycles {cycles}")
    write(result)


def write(result):
    os.makedirs(ARGS.out, exist_ok=True)
    m = result["machine"]
    lines = ["# swiftyolo benchmark", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']} MiB, Linux {m['kernel']}; "
             f"{m['gstreamer']}, torch {m['torch']}, OpenCV {m['opencv']}; {m['threads']} threads; {m['date']}.",
             "", "## Sync throughput on 1280×720 against a bare libtorch forward loop (same model, threads, run)", "",
             f"Each side ran {ARGS.rounds} times, alternating, each in a fresh process; the fastest run of each side counts.", "",
             "| model | format | input | swiftyolo fps | bare forward fps | ratio (goal ≥ 0.95) | pre ms | infer ms | post ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["throughput"]:
        lines.append(f"| {r['model']} | {r['format']} | {r['input']} | {r['element_fps']:.1f} | {r['bare_fps']:.1f} | "
                     f"**{r['ratio']:.3f}** | {r['pre_ms']:.3f} | {r['infer_ms']:.2f} | {r['post_ms']:.3f} |")
    lines += ["", "## Preprocessing alone: swiftyolo against OpenCV (cvtColor + resize + border + blobFromImage)", "",
              "| model input | format | swiftyolo ms | OpenCV ms | OpenCV / swiftyolo (goal > 1) |", "|---|---|---|---|---|"]
    for r in result["preprocess"]:
        lines.append(f"| {r['model']} {r['input']} | {r['format']} | {r['ours_ms']:.3f} | {r['opencv_ms']:.3f} | **{r['speedup']:.2f}** |")
    a = result["async"]
    lines += ["", "## Async mode on a live 30 fps 1280×720 source", "",
              f"{a['model']}: {a['output_fps']:.2f} fps out (ratio to the source **{a['ratio']:.3f}**, goal ≥ 29 fps), "
              f"{a['inferences']} inferences for {a['frames']} frames.", "", "## Memory", ""]
    mem = result["memory"]
    fr = sorted(mem["rss_frames"].items(), key=lambda kv: int(kv[0]))
    cy = sorted(mem["rss_cycles"].items(), key=lambda kv: int(kv[0]))
    lines += [f"- Peak RSS of gst-launch-1.0 running {mem['peak_rss_model']} on 720p NV12: **{mem['peak_rss_mib']:.0f} MiB** (goal ≤ 450).",
              f"- RSS over one pipeline's frames (default model, 720p): " + ", ".join(f"frame {k}: {v:.1f} MiB" for k, v in fr)
              + f" → growth ratio **{fr[-1][1] / fr[0][1]:.3f}**.",
              f"- RSS over NULL→PLAYING→NULL cycles: " + ", ".join(f"cycle {k}: {v:.1f} MiB" for k, v in cy)
              + f" → growth ratio **{cy[-1][1] / cy[0][1]:.3f}**.", ""]
    with open(os.path.join(ARGS.out, "swiftyolo.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(ARGS.out, "swiftyolo.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    print("\n".join(lines))


if __name__ == "__main__":
    if ARGS.child:
        child(*ARGS.child)
    else:
        main()
