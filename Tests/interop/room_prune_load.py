#!/usr/bin/env python3
"""Rooms pruned while viewers DESCRIBE and SETUP them, for a server built with a sanitizer.

  room_prune_load.py HOST PORT SECONDS

For SECONDS, at once: a publisher (gst-launch, rtspclientsink) streams short clips into
rooms room0…room3 in turn, so each goes live and ends; four viewers DESCRIBE, SETUP and
sometimes PLAY those rooms in a loop and hang up without TEARDOWN; a pruner ANNOUNCEs
made-up rooms and hangs up, each ANNOUNCE making the server forget rooms nobody feeds.
The viewers' requests keep reaching the rooms' factories while their rooms are forgotten.
Prints JSON counts; exits 0 unless the server stopped answering.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from rtsp_probe import SDP, Conn  # noqa: E402

ROOMS = ["room%d" % i for i in range(4)]


def main():
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    deadline = time.time() + seconds
    counts = {"published": 0, "describe_ok": 0, "describe_other": 0, "setup_ok": 0, "played": 0, "announces": 0,
              "refused_connections": 0, "publisher_hung": 0}
    lock = threading.Lock()

    def count(key):
        with lock:
            counts[key] += 1

    def publisher():
        k = 0
        while time.time() < deadline:
            room = ROOMS[k % len(ROOMS)]
            k += 1
            try:
                publish(room)
                count("published")
            except subprocess.TimeoutExpired:
                count("publisher_hung")  # 1.22's rtspclientsink sometimes never finishes its EOS

    def publish(room):
        subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=20", "is-live=true", "!",
                            "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc", "tune=zerolatency",
                            "speed-preset=ultrafast", "key-int-max=10", "!", "rtspclientsink",
                        "location=rtsp://%s:%d/%s" % (host, port, room), "protocols=tcp"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=8)

    def viewer(n):
        k = n
        while time.time() < deadline:
            room = ROOMS[k % len(ROOMS)]
            k += 1
            url = "rtsp://%s:%d/%s" % (host, port, room)
            try:
                c = Conn(host, port)
                status, _, _ = c.send("DESCRIBE", url, {"Accept": "application/sdp"})
                if status != 200:
                    count("describe_other")
                    c.sock.close()
                    time.sleep(0.02)
                    continue
                count("describe_ok")
                status, headers, _ = c.send("SETUP", url + "/stream=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
                if status == 200:
                    count("setup_ok")
                    if k % 2 == 0:
                        session = headers.get("session", "").split(";")[0]
                        status, _, _ = c.send("PLAY", url, {"Session": session})
                        if status == 200:
                            count("played")
                c.sock.close()  # no TEARDOWN
            except (OSError, ValueError, IndexError):
                count("refused_connections")
                time.sleep(0.05)

    def pruner():
        n = 0
        while time.time() < deadline:
            n += 1
            try:
                c = Conn(host, port)
                c.send("ANNOUNCE", "rtsp://%s:%d/junk%d" % (host, port, n % 8), {"Content-Type": "application/sdp"}, SDP)
                count("announces")
                c.sock.close()
            except (OSError, ValueError, IndexError):
                count("refused_connections")
            time.sleep(0.05)

    threads = [threading.Thread(target=publisher), threading.Thread(target=pruner)]
    threads += [threading.Thread(target=viewer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The server still answers.
    alive = False
    try:
        c = Conn(host, port)
        status, _, _ = c.send("OPTIONS", "rtsp://%s:%d/room0" % (host, port))
        alive = status == 200
    except OSError:
        pass
    counts["alive"] = alive
    print(json.dumps(counts))
    sys.exit(0 if alive else 1)


if __name__ == "__main__":
    main()
