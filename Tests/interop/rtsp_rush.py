#!/usr/bin/env python3
"""A rush of viewers connecting at once, while the server cannot accept them yet.

  rtsp_rush.py PORT PID COUNT

Stops the server process (SIGSTOP), opens COUNT TCP connections to 127.0.0.1:PORT at once,
and counts those the kernel completed within 0.5 s: connections wait in the listening
socket's queue until the server accepts them, and those beyond the queue are dropped and
retried by TCP only after 1 s (then 3, then 7). Then lets the server go on (SIGCONT), sends
OPTIONS on every connection and counts the answers within 10 s. Prints JSON.
"""
import json
import os
import select
import signal
import socket
import sys
import time


def main():
    port, pid, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    os.kill(pid, signal.SIGSTOP)
    try:
        sockets = []
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sockets.append(s)
        pending = set(sockets)
        deadline = time.monotonic() + 0.5
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], list(pending), [], 0.05)
            for s in writable:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    pending.discard(s)
        queued = count - len(pending)
    finally:
        os.kill(pid, signal.SIGCONT)
    for s in sockets:
        s.setblocking(True)
        s.settimeout(10)
    answered = 0
    for s in sockets:
        try:
            s.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        except OSError:
            pass
    deadline = time.monotonic() + 10
    for s in sockets:
        try:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            if s.recv(64).startswith(b"RTSP/1.0 200"):
                answered += 1
        except OSError:
            pass
        s.close()
    print(json.dumps({"connections": count, "queued_while_stopped": queued, "answered": answered}))


if __name__ == "__main__":
    main()
