#!/usr/bin/env python3
"""A viewer that SETs UP only the first track of a room (the video of a room with sound),
then plays, pauses and resumes it ROUNDS times, over TCP.

  rtsp_partial_setup.py HOST PORT PATH ROUNDS

Prints JSON: the tracks the room offers, the SETUP status, each PLAY's status and the
frames (distinct RTP timestamps) received after it.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from rtsp_probe import Conn  # noqa: E402
from rtsp_viewers import packets  # noqa: E402


def main():
    host, port, path, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    url = "rtsp://%s:%d%s" % (host, port, path)
    c = Conn(host, port)
    status, headers, body = c.send("DESCRIBE", url, {"Accept": "application/sdp"})
    controls = [line.split(":", 1)[1] for line in body.decode().split("\r\n")
                if line.startswith("a=control:") and line != "a=control:*"]
    base = headers.get("content-base", url + "/").rstrip("/")
    status, headers, _ = c.send("SETUP", base + "/" + controls[0], {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
    session = headers.get("session", "").split(";")[0]
    report = {"tracks": len(controls), "setup": status, "plays": [], "frames": []}
    for _ in range(rounds):
        c.sock.settimeout(10)
        status = c.send("PLAY", url, {"Session": session})[0]
        report["plays"].append(status)
        if status != 200:
            break
        frames, last = 0, None
        for _, ts, _ in packets(c, time.time() + 2):
            if ts is not None and ts != last:
                frames, last = frames + 1, ts
        report["frames"].append(frames)
        c.cseq += 1
        c.sock.sendall(("PAUSE %s RTSP/1.0\r\nCSeq: %d\r\nSession: %s\r\n\r\n" % (url, c.cseq, session)).encode())
        for _ in packets(c, time.time() + 1):
            pass
    print(json.dumps(report))


if __name__ == "__main__":
    main()
