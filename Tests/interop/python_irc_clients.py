#!/usr/bin/python3
"""Two python3-irc clients (Debian's `irc` library, written by people who are not us) on a
ChatCast server: `cam` registers with the publisher password, joins #lobby, sets the topic
to a stream URL and says something; `viewer` then joins, reads the topic, gets the history,
and talks back. Prints what each heard as one JSON object."""
import json
import sys

import irc.client

host, port, publisher_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
heard = {"cam": [], "viewer": [], "topic": None, "welcome": []}
reactor = irc.client.IRC()


def on_welcome(conn, event):
    heard["welcome"].append(conn.get_nickname())
    conn.join("#lobby")


def cam_join(conn, event):
    if event.source.nick != "cam":
        return
    conn.topic("#lobby", "rtsp://127.0.0.1:8554/lobby")
    conn.privmsg("#lobby", "first, before the viewer came")
    reactor.execute_delayed(0.5, lambda: viewer.connect(host, port, "viewer"))


def viewer_join(conn, event):
    if event.source.nick == "viewer":
        reactor.execute_delayed(0.5, lambda: conn.privmsg("#lobby", "hello from python3-irc"))


def pubmsg(name):
    def handler(conn, event):
        heard[name].append([event.source.nick, event.arguments[0]])
        if name == "cam" and event.arguments[0] == "hello from python3-irc":
            print(json.dumps(heard))
            sys.stdout.flush()
            raise SystemExit(0)
    return handler


def topic(conn, event):
    heard["topic"] = event.arguments[1]


cam = reactor.server()
viewer = reactor.server()
reactor.add_global_handler("welcome", on_welcome)
reactor.add_global_handler("join", lambda c, e: (cam_join if c is cam else viewer_join)(c, e))
reactor.add_global_handler("pubmsg", lambda c, e: pubmsg("cam" if c is cam else "viewer")(c, e))
reactor.add_global_handler("currenttopic", lambda c, e: topic(c, e) if c is viewer else None)
cam.connect(host, port, "cam", password=publisher_password)
reactor.execute_delayed(20, lambda: (print(json.dumps(heard)), sys.exit(1)))
reactor.process_forever()
