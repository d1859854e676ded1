#!/usr/bin/env python3
"""Receiving side of the chat server benchmark's load generator (bench/irc_bench.py starts
several of these, each with its share of the room's clients).

One process, one epoll loop, no coroutine per client: each read takes whatever the kernel
has (up to 256 KiB) and counts the room's PRIVMSG lines in it with bytes.count, so that a
burst costs C-speed work per read rather than Python work per line; in a burst the loop
sleeps BURST_POLL between rounds of reads so that each read takes many lines. Only in the paced
(latency) phase is each line's send time parsed.

Protocol on stdin/stdout, one line each way:
  -> (start)                     <- {"ready": n}          every client registered and in #bench
  -> "burst N" / "paced N"       <- {"armed": true}       counters reset, expecting N each
                                 <- {"done_at": t, "latencies": [...], "short": [...]}
                                    when every client has N (or on "stop")
  -> "stop"                      <- the same done line with what arrived so far
  -> "quit"                      (exit)
Times are time.monotonic(), one clock for every process on the machine."""
import json
import os
import re
import selectors
import socket
import sys
import time

MARK = b"PRIVMSG #bench :"
BURST_POLL = 0.002  # s
STAMP = re.compile(rb"PRIVMSG #bench :t (\d+\.\d+)")
PING = re.compile(rb"(?m)^PING([^\r\n]*)")


class Registration:
    """One client's registration (NICK, USER, then JOIN #bench) on a blocking socket."""

    def __init__(self, port, nick, join, timeout):
        self.nick, self.join, self.buf = nick, join, b""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(f"NICK {nick}\r\nUSER {nick[:10]} 0 * :{nick}\r\n".encode())

    def until(self, test):
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                data = self.sock.recv(65536)
                if not data:
                    raise RuntimeError(f"{self.nick}: connection closed during registration")
                self.buf += data
                continue
            line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG" + line[4:])
            elif line.startswith(b"ERROR"):
                raise RuntimeError(f"{self.nick}: {line.decode(errors='replace').strip()}")
            if test(line):
                return line


def register_many(port, nicks, join=lambda k: True, batch=100, timeout=60):
    """Registers clients a batch at a time: every connection of a batch is opened and sends
    NICK and USER before any answer is awaited, as InspIRCd completes a registration only on
    its once-a-second timer (one at a time, 1,000 clients would take 1,000 s). Returns
    (socket, bytes read past the registration) for each."""
    out = []
    for start in range(0, len(nicks), batch):
        regs = [Registration(port, nick, join(start + k), timeout) for k, nick in enumerate(nicks[start:start + batch])]
        for r in regs:
            r.until(lambda line: len(line.split(b" ")) > 1 and line.split(b" ")[1] in (b"376", b"422"))
        for r in regs:
            if r.join:
                r.sock.sendall(b"JOIN #bench\r\n")
        for r in regs:
            if r.join:
                r.until(lambda line: b" 366 " in line)
        out += [(r.sock, r.buf) for r in regs]
    return out


def register(port, nick, join=True, timeout=60):
    return register_many(port, [nick], lambda k: join, timeout=timeout)[0]


class Client:
    __slots__ = ("sock", "tail", "count")

    def __init__(self, sock, tail):
        self.sock, self.tail, self.count = sock, tail, 0


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(spec):
    port, prefix, n = spec["port"], spec["prefix"], spec["clients"]
    clients = [Client(*x) for x in register_many(port, [f"{prefix}{k}" for k in range(n)], batch=spec.get("batch", 100))]
    sel = selectors.DefaultSelector()
    for c in clients:
        c.sock.setblocking(False)
        c.tail = b""  # JOIN lines of the others; no PRIVMSG yet
        sel.register(c.sock, selectors.EVENT_READ, c)
    stdin = sys.stdin.fileno()
    sel.register(stdin, selectors.EVENT_READ, None)
    say({"ready": n})
    mode, expect, done, latencies, done_at, pending = None, 0, 0, [], None, b""

    def finish():
        nonlocal mode
        say({"done_at": done_at, "latencies": latencies,
             "short": sorted(c.count for c in clients if c.count < expect)[:10]})
        mode = None

    while True:
        if mode == "burst":
            # Lets a burst pile up in the kernel between reads: a server that writes each
            # message on its own (ngIRCd) would otherwise cost a recv() per message here.
            # Adds at most BURST_POLL to the burst's measured end.
            time.sleep(BURST_POLL)
        for key, _ in sel.select():
            c = key.data
            if c is None:
                data = os.read(stdin, 4096)
                if not data:
                    return
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    cmd = line.decode().split()
                    if not cmd:
                        continue
                    if cmd[0] == "quit":
                        return
                    if cmd[0] == "stop":
                        if mode is not None:
                            finish()
                        continue
                    mode, expect, done, latencies, done_at = cmd[0], int(cmd[1]), 0, [], None
                    for x in clients:
                        x.count = 0
                    say({"armed": True})
                continue
            try:
                data = c.sock.recv(262144)
            except BlockingIOError:
                continue
            if not data:
                raise RuntimeError("a client's connection closed")
            now = time.monotonic()
            buf = c.tail + data
            end = buf.rfind(b"\n") + 1
            whole, c.tail = buf[:end], buf[end:]
            if not whole:
                continue
            if b"PING" in whole:
                for m in PING.finditer(whole):
                    c.sock.sendall(b"PONG" + m.group(1) + b"\r\n")
            got = whole.count(MARK)
            if not got:
                continue
            before = c.count
            c.count += got
            if mode == "paced":
                latencies.extend(round(now - float(t), 7) for t in STAMP.findall(whole))
            if mode is not None and before < expect <= c.count:
                done += 1
                if done == len(clients):
                    done_at = now
                    finish()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
