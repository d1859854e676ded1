#!/usr/bin/env python3
"""Waves of RTSP viewers, each arriving as the one before it leaves.

  rtsp_waves.py HOST PORT PATH SIZE[,SIZE…] SECONDS

Every viewer of a wave plays over TCP for SECONDS and closes; the next wave connects at
once (the moment a shared media is being let go). Prints JSON: per wave, how many viewers
played and the longest gap between packets any of them saw, and every error.
"""
import json
import sys
import threading

sys.path.insert(0, __import__("os").path.dirname(__file__))
from rtsp_viewers import steady  # noqa: E402


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sizes, seconds = [int(n) for n in sys.argv[4].split(",")], float(sys.argv[5])
    waves, errors = [], []
    for size in sizes:
        gaps = []

        def viewer():
            try:
                steady(host, port, path, seconds, gaps)
            except Exception as error:  # the status a refused viewer got, for the report
                errors.append(f"wave of {size}: {error!r}")

        threads = [threading.Thread(target=viewer) for _ in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        waves.append({"viewers": size, "played": len(gaps), "max_gap_s": max(gaps, default=99.0)})
    print(json.dumps({"waves": waves, "errors": errors}))


if __name__ == "__main__":
    main()
