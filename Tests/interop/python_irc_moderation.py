#!/usr/bin/python3
"""Channel moderation between real clients (Debian's python3-irc, written by people who are
not us). `mod` joins #mod first (so it is the channel operator); then either

  python3 python_irc_moderation.py HOST PORT          a python3-irc `member` joins, or
  python3 python_irc_moderation.py HOST PORT wee      an outside client (weechat) `wee` joins,

and mod voices it, sets +m, unvoices it, bans and kicks it. Prints one JSON object: what
each python client saw (`member` also records the numerics it got for speaking while
silenced and for rejoining while banned)."""
import json
import sys

import irc.client

host, port = sys.argv[1], int(sys.argv[2])
outsider = sys.argv[3] if len(sys.argv) > 3 else None
target = outsider or "member"
seen = {"mod": [], "member": []}
reactor = irc.client.IRC()
mod = reactor.server()
member = reactor.server()


def done(code=0):
    print(json.dumps(seen))
    sys.stdout.flush()
    raise SystemExit(code)


def who(conn):
    return "mod" if conn is mod else "member"


def on_welcome(conn, event):
    conn.join("#mod")


def on_join(conn, event):
    seen[who(conn)].append(["join", event.source.nick])
    if conn is mod and event.source.nick == "mod":
        if outsider is None:
            reactor.execute_delayed(0.3, lambda: member.connect(host, port, "member"))
    elif conn is mod and event.source.nick == target:
        conn.mode("#mod", "+v " + target)
        conn.mode("#mod", "+m")
        if outsider:
            reactor.execute_delayed(1.0, lambda: conn.mode("#mod", "-v " + target))
            reactor.execute_delayed(2.0, lambda: conn.mode("#mod", "+b " + target + "!*@*"))
            reactor.execute_delayed(3.0, lambda: conn.kick("#mod", target, "bye"))
            reactor.execute_delayed(4.0, done)


def on_mode(conn, event):
    seen[who(conn)].append(["mode", event.source.nick, " ".join(event.arguments)])
    if conn is member and event.arguments[0] == "+m":
        conn.privmsg("#mod", "voiced, I speak")
    if conn is member and event.arguments[:1] == ["-v"]:
        conn.privmsg("#mod", "silenced?")
    if conn is member and event.arguments[:1] == ["+b"]:
        mod.kick("#mod", "member", "bye")


def on_pubmsg(conn, event):
    seen[who(conn)].append(["privmsg", event.source.nick, event.arguments[0]])
    if conn is mod and event.arguments[0] == "voiced, I speak":
        conn.mode("#mod", "-v member")


def on_cannotsend(conn, event):
    seen[who(conn)].append(["404", event.arguments[0]])
    mod.mode("#mod", "+b member")


def on_kick(conn, event):
    seen[who(conn)].append(["kick", event.source.nick, event.arguments[0], event.arguments[1]])
    if conn is member:
        conn.join("#mod")


def on_banned(conn, event):
    seen[who(conn)].append(["474", event.arguments[0]])
    done()


reactor.add_global_handler("welcome", on_welcome)
reactor.add_global_handler("join", on_join)
reactor.add_global_handler("mode", on_mode)
reactor.add_global_handler("pubmsg", on_pubmsg)
reactor.add_global_handler("cannotsendtochan", on_cannotsend)
reactor.add_global_handler("kick", on_kick)
reactor.add_global_handler("bannedfromchan", on_banned)
mod.connect(host, port, "mod")
reactor.execute_delayed(25, lambda: done(1))
reactor.process_forever()
