#!/usr/bin/env python3
"""What a broken or hostile RTSP client sends, by hand over a socket; prints the answers as JSON.

  scale HOST PORT PATH             DESCRIBE, SETUP over TCP, PLAY with bad Scale/Speed values, then a plain PLAY
  announce HOST PORT PATH [U P]    ANNOUNCE an H.264 stream (Basic credentials when given)
  sdp HOST PORT PATH               ANNOUNCEs whose SDP is broken or hostile, each on its own connection
  flood HOST PORT PATH COUNT       COUNT ANNOUNCEs to PATH-0 … PATH-COUNT, each left without RECORD and hung up
  junk HOST PORT                   garbage, a huge Content-Length, a bad version, a request line without a URL
  hangup HOST PORT PATH ROUNDS     ROUNDS viewers over TCP, then over UDP, one after another, each hanging up
                                   without TEARDOWN: the SETUP answers, and a PLAY of the last session from a new
                                   connection
"""
import base64
import json
import socket
import sys
import time

SDP = (b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=probe\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\n")


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""
        self.cseq = 0

    def send(self, method, url, headers=None, body=b""):
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return self.response()

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def response(self):
        """The next RTSP response (interleaved RTP frames, `$`, are skipped)."""
        while True:
            while self.buf.startswith(b"$"):
                while len(self.buf) < 4:
                    self.fill()
                size = int.from_bytes(self.buf[2:4], "big")
                while len(self.buf) < 4 + size:
                    self.fill()
                self.buf = self.buf[4 + size:]
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0 and not self.buf.startswith(b"$"):
                head, self.buf = self.buf[:end].decode(errors="replace"), self.buf[end + 4:]
                lines = head.split("\r\n")
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                while len(self.buf) < length:
                    self.fill()
                body, self.buf = self.buf[:length], self.buf[length:]
                return int(lines[0].split(" ")[1]), headers, body
            self.fill()

    def interleaved_bytes(self, at_least):
        """Reads RTP over the RTSP connection until `at_least` bytes came."""
        got = 0
        while got < at_least:
            while len(self.buf) < 4:
                self.fill()
            if not self.buf.startswith(b"$"):
                raise ValueError("expected interleaved data")
            size = int.from_bytes(self.buf[2:4], "big")
            while len(self.buf) < 4 + size:
                self.fill()
            self.buf = self.buf[4 + size:]
            got += size
        return got


def setup(host, port, path, transport="RTP/AVP/TCP;unicast;interleaved=0-1"):
    """A connection with a session set up for the stream at `path`: (conn, url, session)."""
    url = f"rtsp://{host}:{port}{path}"
    c = Conn(host, port)
    status, headers, body = c.send("DESCRIBE", url, {"Accept": "application/sdp"})
    assert status == 200, status
    control = next((l.split(":", 1)[1] for l in body.decode().split("\r\n") if l.startswith("a=control:") and l != "a=control:*"), "stream=0")
    base = headers.get("content-base", url + "/")
    setup_url = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control
    status, headers, _ = c.send("SETUP", setup_url, {"Transport": transport})
    assert status == 200, status
    return c, url, headers["session"].split(";")[0]


def scale(host, port, path):
    c, url, session = setup(host, port, path)
    answers = {}
    for header, value in [("Scale", "nan"), ("Scale", "-1"), ("Scale", "0"), ("Scale", "1e308"), ("Scale", "inf"),
                          ("Speed", "nan"), ("Speed", "-1"), ("Speed", "0"), ("Speed", "1e308"), ("Scale", "abc")]:
        status, _, _ = c.send("PLAY", url, {"Session": session, header: value})
        answers[f"{header}: {value}"] = status
    status, _, _ = c.send("PLAY", url, {"Session": session})
    answers["plain"] = status
    answers["bytes_after_plain"] = c.interleaved_bytes(20000) if status == 200 else 0
    print(json.dumps(answers))


def announce(host, port, path, user=None, password=None):
    c = Conn(host, port)
    headers = {"Content-Type": "application/sdp"}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    status, _, _ = c.send("ANNOUNCE", f"rtsp://{host}:{port}{path}", headers, SDP)
    print(json.dumps({"status": status}))


HEAD = b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=probe\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
BAD_SDP = {
    "empty": b"",
    "not sdp": b"\xff\xfe\x00 this is not a session description",
    "no media": HEAD,
    "broken m= line": HEAD + b"m=video abc RTP/AVP\r\n",
    "dynamic type without rtpmap": HEAD + b"m=video 0 RTP/AVP 96\r\n",
    "huge payload type": HEAD + b"m=video 0 RTP/AVP 99999999999999999999\r\na=rtpmap:99999999999999999999 H264/90000\r\n",
    "two video tracks": SDP + b"m=video 0 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\na=control:stream=1\r\n",
    "200 sound tracks": HEAD + b"".join(b"m=audio 0 RTP/AVP 0\r\na=control:stream=%d\r\n" % i for i in range(200)),
    "long codec name": HEAD + b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 " + b"H" * 20000 + b"/90000\r\n",
    "invalid UTF-8 codec": HEAD + b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H\xc3\x28\xff264/90000\r\n",
    "control characters": HEAD + b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264\x01\x07/90000\r\n",
    "zero clock rate": HEAD + b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n",
}


def sdp(host, port, path):
    answers = {}
    for name, body in BAD_SDP.items():
        c = Conn(host, port)
        try:
            lines = [f"ANNOUNCE rtsp://{host}:{port}{path} RTSP/1.0", "CSeq: 1", "Content-Type: application/sdp",
                     f"Content-Length: {len(body)}"]
            c.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            status, headers, _ = c.response()
            answers[name] = status
        except (ConnectionError, OSError):
            answers[name] = "closed"
        c.sock.close()
    print(json.dumps(answers))


def flood(host, port, path, count):
    statuses = {}
    for i in range(int(count)):
        c = Conn(host, port)
        try:
            status = c.send("ANNOUNCE", f"rtsp://{host}:{port}{path}-{i}", {"Content-Type": "application/sdp"}, SDP)[0]
        except (ConnectionError, OSError):
            status = "closed"
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        c.sock.close()
    print(json.dumps(statuses))


def junk(host, port):
    answers = {}
    for name, raw in [("garbage", b"\x00\xff\x13 hello there\r\n\r\n"),
                      ("huge body", b"ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 70000),
                      ("bad version", b"OPTIONS rtsp://h/ RTSP/9.9\r\nCSeq: 1\r\n\r\n"),
                      ("no url", b"DESCRIBE\r\nCSeq: 1\r\n\r\n"),
                      ("play without session", b"PLAY rtsp://h/lobby RTSP/1.0\r\nCSeq: 1\r\nScale: nan\r\n\r\n")]:
        c = Conn(host, port)
        try:
            c.sock.sendall(raw)
            answers[name] = c.response()[0]
        except (ConnectionError, OSError):
            answers[name] = "closed"
    print(json.dumps(answers))


def hangup(host, port, path, rounds):
    answers = {}
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp.bind(("127.0.0.1", 0))
    ports = f"{rtp.getsockname()[1]}-{rtcp.getsockname()[1]}"
    for name, transport in [("tcp", "RTP/AVP/TCP;unicast;interleaved=0-1"), ("udp", f"RTP/AVP;unicast;client_port={ports}")]:
        statuses = []
        for _ in range(int(rounds)):
            try:
                c, url, session = setup(host, port, path, transport)
            except AssertionError as refused:
                statuses.append(refused.args[0])
                continue
            statuses.append(c.send("PLAY", url, {"Session": session})[0])
            c.sock.close()  # no TEARDOWN
            time.sleep(0.3)
        answers[name] = statuses
        again = Conn(host, port)
        answers[f"{name}_session_after_hangup"] = again.send("PLAY", url, {"Session": session})[0]
        again.sock.close()
    print(json.dumps(answers))


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"scale": scale, "announce": announce, "sdp": sdp, "flood": flood, "junk": junk, "hangup": hangup}[mode](host, port, *sys.argv[4:])
