#!/usr/bin/env python3
"""A chat server that misbehaves, for the elements' IRC client (chatinject, chatsink).

    hostile_irc_server.py --host 127.0.0.9 --plan odd|silent|stalled

Prints `listening PORT` first, then one line per event (`connection N`, `registered N`,
`sent good line`, `got PRIVMSG #lobby :…`), flushed, so a test can follow along.

Plans (each later connection of a plan behaves well, so a client that gives a bad
connection up and comes back is served):
- odd: the first connection gets every odd thing a server can send before registering —
  capability lists with bare `=` and empty tokens, numerics without parameters, a 100 KB
  line, invalid UTF-8, NULs, 8 KB of tags, a PING flood, batches nobody opened or closed —
  and then refuses every nick, so the client must give that connection up. The second is
  registered and joined, gets another round of odd lines, then one well-formed PRIVMSG.
- silent: the first connection is registered and joined, then answers nothing (a half-open
  connection); the second delivers the well-formed PRIVMSG.
- stalled: registered and joined, then never reads again (a tiny receive buffer).
"""
import argparse
import asyncio
import socket
import sys

GOOD = "@msgid=good-1;time=2026-12-07T12:00:00.000Z :alice!a@example PRIVMSG #lobby :the well-formed line"


def say(text):
    print(text, flush=True)


def odd_before_registration(nick):
    lines = [
        ":srv CAP * LS :=",
        ":srv CAP * LS :message-tags = batch",
        ":srv CAP * LS :",
        ":srv CAP * LS : = == ===x sasl=PLAIN,EXTERNAL server-time=",
        ":srv CAP",
        ":srv CAP *",
        ":srv CAP * ACK",
        ":srv CAP * ACK :",
        ":srv CAP * NAK",
        "CAP * LS",
        ":srv 001",
        ":srv 332",
        ":srv 331",
        ":srv 433",
        ":srv 999",
        ":srv 0",
        ":srv 4000000000000000000000 x :y",
        ":srv 005 " + nick + " " + " ".join("TOKEN%d=%s" % (i, "v" * 40) for i in range(60)) + " :are supported",
        ":",
        "@",
        "@;;; :x",
        "@=;=== PRIVMSG",
        "   ",
        "\r",
        ":!@ PRIVMSG #lobby :from nobody",
        "PRIVMSG",
        "PRIVMSG #lobby",
        ":x PRIVMSG #lobby :" + "\u00e9" * 10,
        ":srv NOTICE",
        ":srv NOTICE * :" + "n" * 600,
        "ERROR",
        "TOPIC",
        "JOIN",
        ":" + nick + " JOIN",
        ":" + nick + " JOIN :",
        "BATCH",
        "BATCH -",
        "BATCH +",
        "BATCH -nobodyopenedthis",
        "TAGMSG",
        "@+chatcast/keyframe TAGMSG",
        "@+chatcast/keyframe TAGMSG lobby",
    ]
    lines += ["BATCH +open%d chathistory #lobby" % i for i in range(200)]
    lines += ["PING :flood%d" % i for i in range(5000)]
    return lines


def odd_raw():
    return [
        b":srv NOTICE * :" + b"x" * 100_000 + b"\r\n",
        b":srv NOTICE * :\xff\xfe\xfd not utf-8\r\n",
        b":srv NOTICE * :nul\x00inside\x00\r\n",
        b"\x00\x00\x00\r\n",
        b"@" + b";".join(b"k%d=%s" % (i, b"v" * 100) for i in range(80)) + b" :srv NOTICE * :8 KB of tags\r\n",
        b"no line ending at all, then a newline",
        b"\n",
    ]


def odd_after_registration(nick):
    lines = [
        ":srv 001",
        ":srv 001 " + nick,
        ":srv 332 " + nick,
        ":srv 332 " + nick + " #lobby",
        ":srv TOPIC",
        ":srv TOPIC #lobby",
        "@batch=open3 :bob!b@h PRIVMSG #lobby :in a batch that never closes",
        "@batch= :bob!b@h PRIVMSG #lobby :empty batch tag",
        "@msgid= :bob!b@h PRIVMSG #lobby",
        ":bob!b@h PRIVMSG #other :not our room",
        ":bob!b@h PRIVMSG lobby :no hash",
        ":bob!b@h PRIVMSG #lobby :\u0001ACTION waves\u0001",
        "@time=not-a-time;msgid=m1 :bob!b@h PRIVMSG #lobby :odd time",
        "BATCH -open7",
        "BATCH -open7",
        "@+chatcast/keyframe :srv TAGMSG #lobby",
    ] + ["PING :flood-after-%d" % i for i in range(2000)]
    return lines


class Plan:
    def __init__(self, kind):
        self.kind = kind
        self.connections = 0


async def read_line(reader):
    line = await reader.readline()
    if not line:
        raise ConnectionError("closed")
    return line.decode("utf-8", "replace").rstrip("\r\n")


async def registration(reader, writer, conn):
    """Reads until NICK and USER came; returns the nick."""
    nick, user = None, False
    while nick is None or not user:
        line = await read_line(reader)
        words = line.split(" ")
        if words[0] == "NICK" and len(words) > 1:
            nick = words[1].lstrip(":")
        elif words[0] == "USER":
            user = True
        elif words[0] == "CAP" and len(words) > 1 and words[1] == "END":
            pass
    return nick


def send(writer, lines):
    for line in lines:
        writer.write(line.encode("utf-8", "surrogateescape") + b"\r\n")


async def serve_well(reader, writer, conn, nick, deliver, plan):
    """Registers the client, joins it where it asks, answers PING, logs PRIVMSGs."""
    send(writer, [":srv 001 %s :Welcome" % nick, ":srv 376 %s :End of MOTD" % nick])
    say("registered %d" % conn)
    if plan.kind == "odd":
        send(writer, odd_after_registration(nick))
        for raw in odd_raw():
            writer.write(raw)
    await writer.drain()
    joined = False
    while True:
        line = await read_line(reader)
        words = line.split(" ")
        if words[0] == "JOIN" and len(words) > 1:
            channel = words[1]
            send(writer, [":%s!u@h JOIN %s" % (nick, channel), ":srv 366 %s %s :End of /NAMES list." % (nick, channel)])
            await writer.drain()
            if not joined and deliver:
                joined = True
                say("joined %d" % conn)
                if plan.kind == "stalled":
                    writer.transport.pause_reading()
                    say("stalling %d" % conn)
                    await asyncio.sleep(3600)
                    return
                await asyncio.sleep(0.5)
                send(writer, [GOOD])
                await writer.drain()
                say("sent good line")
            elif not joined and plan.kind == "silent":
                joined = True
                say("silent %d" % conn)
                # Reads on but answers nothing, PINGs included.
                while True:
                    line = await read_line(reader)
                    if line.startswith("PRIVMSG"):
                        say("got " + line)
        elif words[0] == "PING":
            send(writer, [":srv PONG srv " + " ".join(words[1:])])
            await writer.drain()
        elif words[0] == "PRIVMSG":
            say("got " + line)
        elif words[0] == "QUIT":
            say("quit %d" % conn)


async def handle(reader, writer, plan):
    plan.connections += 1
    conn = plan.connections
    say("connection %d" % conn)
    sock = writer.get_extra_info("socket")
    try:
        nick = await registration(reader, writer, conn)
        if plan.kind == "odd" and conn == 1:
            send(writer, odd_before_registration(nick))
            for raw in odd_raw():
                writer.write(raw)
            # Then no nick is good enough.
            for _ in range(40):
                send(writer, [":srv 433 * %s :Nickname is already in use" % nick])
                await writer.drain()
                try:
                    line = await asyncio.wait_for(read_line(reader), 2)
                except asyncio.TimeoutError:
                    break
                words = line.split(" ")
                if words[0] == "NICK" and len(words) > 1:
                    nick = words[1].lstrip(":")
            # The client should have given up by now; if not, it keeps being refused.
            while True:
                await read_line(reader)
        if plan.kind == "stalled" and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        deliver = not (plan.kind == "silent" and conn == 1)
        await serve_well(reader, writer, conn, nick, deliver, plan)
    except (ConnectionError, asyncio.IncompleteReadError, BrokenPipeError, ConnectionResetError):
        pass
    finally:
        say("closed %d" % conn)
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--plan", choices=["odd", "silent", "stalled"], required=True)
    args = parser.parse_args()
    plan = Plan(args.plan)
    server = await asyncio.start_server(lambda r, w: handle(r, w, plan), args.host, args.port, limit=1 << 20)
    say("listening %d" % server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
