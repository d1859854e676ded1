#!/usr/bin/python3
"""A python3-irc client (Debian's `irc` library) beside a browser viewer: joins ROOM, says
SAY once, and waits until someone else says a line containing EXPECT (the page's line).
Prints what it heard as one JSON object; exit 1 when EXPECT never came within SECONDS."""
import json
import sys

import irc.client

host, port, room, nick, say, expect, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], float(sys.argv[7])
heard = {"lines": [], "joined": False}
reactor = irc.client.IRC()


def finish(code):
    print(json.dumps(heard))
    sys.stdout.flush()
    raise SystemExit(code)


def on_join(conn, event):
    if event.source.nick == nick:
        heard["joined"] = True
        conn.privmsg(room, say)


def on_pubmsg(conn, event):
    heard["lines"].append([event.source.nick, event.arguments[0]])
    if expect in event.arguments[0]:
        finish(0)


client = reactor.server()
reactor.add_global_handler("welcome", lambda c, e: c.join(room))
reactor.add_global_handler("join", on_join)
reactor.add_global_handler("pubmsg", on_pubmsg)
client.connect(host, port, nick)
reactor.execute_delayed(seconds, lambda: finish(1))
reactor.process_forever()
