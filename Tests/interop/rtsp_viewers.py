#!/usr/bin/env python3
"""Several RTSP viewers of one stream over TCP, some pausing and resuming again and again.

  rtsp_viewers.py HOST PORT PATH VIEWERS PAUSERS SECONDS

Prints JSON: for every resume, seconds until the first IDR arrived (a clean frame can be
decoded from there); for every pauser, how much its delay (wall clock minus RTP time, the
least in each playing spell: a viewer starts from the room's cached GOP and catches up)
grew between its first and last spell; for every steady viewer, the longest gap between
packets.
"""
import json
import socket
import sys
import threading
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from rtsp_probe import Conn  # noqa: E402


def idr_in(payload):
    """True when an RTP H.264 payload carries (the start of) an IDR slice."""
    nal = payload[0] & 0x1F
    if nal == 5:
        return True
    if nal == 28 and len(payload) > 1:  # FU-A: start bit and inner type
        return bool(payload[1] & 0x80) and (payload[1] & 0x1F) == 5
    if nal == 24:  # STAP-A
        i = 1
        while i + 2 < len(payload):
            size = int.from_bytes(payload[i:i + 2], "big")
            if payload[i + 2] & 0x1F == 5:
                return True
            i += 2 + size
    return False


def packets(c, until):
    """(arrival time, RTP timestamp, payload) of interleaved RTP on channel 0 until `until`."""
    c.sock.settimeout(0.5)
    while time.time() < until:
        try:
            while len(c.buf) < 4:
                c.fill()
            if not c.buf.startswith(b"$"):
                c.response()  # an RTSP answer in the stream
                continue
            channel, size = c.buf[1], int.from_bytes(c.buf[2:4], "big")
            while len(c.buf) < 4 + size:
                c.fill()
            frame, c.buf = c.buf[4:4 + size], c.buf[4 + size:]
            if channel == 0 and len(frame) > 12:
                cc = frame[0] & 0x0F
                yield time.time(), int.from_bytes(frame[4:8], "big"), frame[12 + 4 * cc:]
        except socket.timeout:
            yield time.time(), None, None


def open_session(host, port, path):
    url = f"rtsp://{host}:{port}{path}"
    c = Conn(host, port)
    status, headers, body = c.send("DESCRIBE", url, {"Accept": "application/sdp"})
    assert status == 200, status
    control = next((l.split(":", 1)[1] for l in body.decode().split("\r\n") if l.startswith("a=control:") and l != "a=control:*"), "stream=0")
    base = headers.get("content-base", url + "/")
    setup = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control
    status, headers, _ = c.send("SETUP", setup, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
    assert status == 200, status
    return c, url, headers["session"].split(";")[0]


def steady(host, port, path, seconds, out):
    c, url, session = open_session(host, port, path)
    assert c.send("PLAY", url, {"Session": session})[0] == 200
    last, gap = time.time(), 0.0
    for now, ts, _ in packets(c, time.time() + seconds):
        if ts is not None:
            gap, last = max(gap, now - last), now
    out.append(max(gap, time.time() - last))


def pauser(host, port, path, seconds, resumes, growth):
    c, url, session = open_session(host, port, path)
    end = time.time() + seconds
    offsets = []
    while time.time() < end - 2:
        start = time.time()
        assert c.send("PLAY", url, {"Session": session})[0] == 200
        first, least = None, None
        for now, ts, payload in packets(c, start + 1.5):
            if ts is not None and first is None and idr_in(payload):
                first = now - start
            if ts is not None and first is not None:
                least = min(least, now - ts / 90000.0) if least is not None else now - ts / 90000.0
        resumes.append(first if first is not None else 99.0)
        if least is not None:
            offsets.append(least)
        c.sock.settimeout(10)
        c.sock.sendall(f"PAUSE {url} RTSP/1.0\r\nCSeq: {c.cseq + 1}\r\nSession: {session}\r\n\r\n".encode())
        c.cseq += 1
        for _ in packets(c, time.time() + 0.6):  # drain what was in flight and the answer
            pass
    # RTP timestamps wrap; offsets compare within one run of a few seconds.
    growth.append(offsets[-1] - offsets[0] if len(offsets) > 1 else 0.0)


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    viewers, pausers, seconds = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    gaps, resumes, growth, errors = [], [], [], []

    def guarded(target, *args):
        def run():
            try:
                target(*args)
            except Exception as error:  # a viewer that broke fails the run, with its reason
                errors.append(f"{target.__name__}: {error!r}")
        return threading.Thread(target=run)

    threads = [guarded(steady, host, port, path, seconds, gaps) for _ in range(viewers - pausers)]
    threads += [guarded(pauser, host, port, path, seconds, resumes, growth) for _ in range(pausers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"resume_first_idr_s": resumes, "delay_growth_s": growth, "steady_max_gap_s": gaps}))
    if errors:
        sys.exit("viewers failed: " + "; ".join(errors))


if __name__ == "__main__":
    main()
