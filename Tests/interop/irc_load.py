#!/usr/bin/python3
"""Raw-socket load for the chat server's limit tests.

cycles HOST PORT N    N connect / register / junk / quit cycles, one after another.
slowreader HOST PORT  a client that joins and never reads, while 10 others fill the room
                      (the server's rate limit lifted);
                      prints JSON: what a reading client got and whether the slow one is
                      still in the room.
"""
import json
import socket
import threading
import sys
import time


def connect(host, port, nick, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    s.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
    return s


def read_until(s, marker, timeout=10):
    s.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def drain(s):
    """What the socket has now, without waiting."""
    data = b""
    s.setblocking(False)
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except BlockingIOError:
        pass
    s.setblocking(True)
    return data


def cycles(host, port, n):
    junk = [b"\xff\xfe\x00\x01binary\r\n", b"PRIVMSG #x :" + b"y" * 10000 + b"\r\n", b"NUL\x00BYTES\r\n", b"JOIN\r\n",
            b"\xc3\x28 invalid utf8\r\n"]
    for i in range(n):
        s = connect(host, port, f"cyc{i % 97}x{i}")
        if i % 10 == 0:
            read_until(s, b" 422 ")
            s.sendall(junk[(i // 10) % len(junk)])
        s.sendall(b"QUIT :bye\r\n")
        s.close()


class Listener(threading.Thread):
    """Reads a socket until it closes, as a live client does, keeping what came."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.data, self.lock = sock, b"", threading.Lock()
        self.start()

    def run(self):
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def text(self):
        with self.lock:
            return self.data


# 3,000 messages of ~480 bytes: 1.4 MB, beyond the server's 1 MiB send queue.
ROUNDS = 300


def slowreader(host, port):
    reader = connect(host, port, "reader")
    read_until(reader, b" 422 ")
    reader.sendall(b"JOIN #lobby\r\n")
    read_until(reader, b" 366 ")
    listening = Listener(reader)
    slow = connect(host, port, "slow", rcvbuf=2048)
    slow.sendall(b"JOIN #lobby\r\n")
    senders = []
    for k in range(10):
        s = connect(host, port, f"sender{k}")
        read_until(s, b" 422 ")
        s.sendall(b"JOIN #lobby\r\n")
        read_until(s, b" 366 ")
        senders.append((s, Listener(s)))
    text = "z" * 440
    expected = 0
    for round_ in range(ROUNDS):
        for k, (s, _) in enumerate(senders):
            s.sendall(f"PRIVMSG #lobby :{k} {round_} {text}\r\n".encode())
            expected += 1
    deadline = time.time() + 20
    while listening.text().count(b"PRIVMSG #lobby") < expected and time.time() < deadline:
        time.sleep(0.1)
    # The client that stopped reading goes once it has been over its send queue for the
    # server's grace period (1 s).
    while b"SendQ exceeded" not in listening.text() and time.time() < deadline:
        time.sleep(0.1)
    got = listening.text()
    before = len(got)
    reader.sendall(b"NAMES #lobby\r\n")
    while b" 366 " not in listening.text()[before:] and time.time() < deadline + 5:
        time.sleep(0.05)
    names = listening.text()[before:]
    others = [l for _, l in senders]
    print(json.dumps({"expected": expected, "received": got.count(b"PRIVMSG #lobby"),
                      "senders_complete": sum(1 for l in others if l.text().count(b"PRIVMSG #lobby") >= expected - ROUNDS),
                      "slow_in_room": b" slow" in names.split(b" 353 ")[-1].split(b"\r\n")[0],
                      "quit_seen": b"SendQ exceeded" in got,
                      # why a reading client fell short, for the failure message
                      "reader_dropped": b"Closing Link" in got, "reader_tail": got[-300:].decode(errors="replace")}))


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "cycles":
        cycles(host, port, int(sys.argv[4]))
    else:
        slowreader(host, port)
