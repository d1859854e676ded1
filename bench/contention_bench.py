#!/usr/bin/env python3
"""`make bench`: what two detectors on one machine cost each other, and what sharing the
cores out (as `chatcast serve` now does for its detected rooms and mounts) gives back.

Each detector is a fresh `torch-forward-loop` process (YOLOv8n from ../shared/models at 640,
else FastestDet), the bare libtorch forward swiftyolo runs. Per round, in alternating order:
one detector with all cores; two at once with all cores each (serve's old default: every
relay's torch took every core); two at once with the cores shared out (cores / 2 each, at
least one). Reported: frames/s of all detectors together, and of the slower one.

Writes bench/results/contention.md and .json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summary import fmt, heading, save, spread  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MODELS = os.path.join(os.path.dirname(REPO), "shared", "models")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(REPO, ".build", "release"))
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--frames", type=int, default=16, help="forwards per detector per run")
    p.add_argument("--quick", action="store_true", help="1 round of 4 frames: checks the script works")
    a = p.parse_args()
    if a.quick:
        a.rounds, a.frames = 1, 4
    return a


ARGS = parse_args()
CORES = os.cpu_count() or 1
SHARED = max(1, CORES // 2)


def model():
    yolo = os.path.join(SHARED_MODELS, "yolov8n-random-640.torchscript")
    if os.path.exists(yolo):
        return yolo, 640
    return os.path.join(SHARED_MODELS, "fastestdet-coco-352.torchscript"), 352


def detectors(count, threads):
    """`count` forward loops started together with `threads` each: their frames/s."""
    path, size = model()
    loop = os.path.join(ARGS.build, "torch-forward-loop")
    procs = [subprocess.Popen([loop, path, str(size), str(size), str(ARGS.frames), str(threads)], stdout=subprocess.PIPE,
                              text=True) for _ in range(count)]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode != 0 for p in procs):
        raise SystemExit("torch-forward-loop failed")
    return [json.loads(o)["fps"] for o in outs]


CASES = {
    "one detector, all cores": (1, CORES),
    "two detectors, all cores each (before)": (2, CORES),
    f"two detectors, cores shared out ({SHARED} each, serve now)": (2, SHARED),
}


def main():
    runs = {name: [] for name in CASES}
    names = list(CASES)
    for r in range(ARGS.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            fps = detectors(*CASES[name])
            runs[name].append(fps)
            print(f"round {r + 1} {name}: {', '.join(f'{v:.2f}' for v in fps)} fps", file=sys.stderr)
    res = {"machine": f"{CORES} cores", "model": os.path.basename(model()[0]), "frames": ARGS.frames,
           "cases": {name: {"total_fps": spread([sum(v) for v in runs[name]]),
                            "slowest_fps": spread([min(v) for v in runs[name]]), "runs": runs[name]} for name in names}}
    lines = heading("Two detectors on one machine", ARGS.quick, "1 round of 4 frames") + [
        f"{CORES} cores; {res['model']}; {ARGS.frames} forwards per detector; {ARGS.rounds} rounds, order alternating; "
        f"each detector a fresh `torch-forward-loop` process; {time.strftime('%Y-%m-%d %H:%M:%S')}. Median (min–max).", "",
        "| case | frames/s, all detectors | frames/s, slowest detector |", "|---|---|---|"]
    for name in names:
        c = res["cases"][name]
        lines.append(f"| {name} | {fmt(c['total_fps'])} | {fmt(c['slowest_fps'])} |")
    lines += ["", "Each detector's torch has its own OpenMP team; libgomp's threads spin at barriers, so teams that "
              "outnumber the cores burn the time the other team needs. `chatcast serve` gives each of its detectors "
              "(relays of detected rooms, detecting mounts) cores ÷ detectors threads unless the room sets `threads`.", ""]
    save(ARGS.out, "contention", "\n".join(lines), res)


if __name__ == "__main__":
    main()
