import ChatIRC
import NIOCore

/// What channel operators do to people: who may join (bans, +i, +k, +l), who may speak
/// (+n, +m, bans, +W slow mode), KICK, INVITE, TBAN (InspIRCd's timed ban) and REDACT
/// (IRCv3 `draft/message-redaction`: the message leaves the history too).
extension ChatServerCore {
    /// Publishers (they run the room's stream) and invited clients pass +i, +k and +l;
    /// only publishers pass bans.
    func mayJoin(_ room: RoomState, _ client: ClientState, key: String?) -> Bool {
        if client.publisher { return true }
        if room.isBanned(client) {
            reply(client, "474", [room.name, "Cannot join channel (+b)"])
            return false
        }
        if room.invited.contains(client.id) { return true }
        if room.modes.inviteOnly {
            reply(client, "473", [room.name, "Cannot join channel (+i)"])
            return false
        }
        if let roomKey = room.modes.key, key != roomKey {
            reply(client, "475", [room.name, "Cannot join channel (+k)"])
            return false
        }
        if let limit = room.modes.limit, room.members.count >= limit {
            reply(client, "471", [room.name, "Cannot join channel (+l)"])
            return false
        }
        return true
    }

    /// Nil when the client may send to the room now, else why not (for 404). Operators,
    /// voiced members and publishers are exempt from +m, bans and slow mode.
    func whyNotSpeak(_ room: RoomState, _ client: ClientState) -> String? {
        let member = room.members[client.id] === client
        if !member && room.modes.noExternal { return "Cannot send to channel (+n: join it first)" }
        if client.publisher || room.operators.contains(client.id) || room.voiced.contains(client.id) { return nil }
        if room.modes.moderated { return "Cannot send to channel (+m)" }
        if room.isBanned(client) { return "Cannot send to channel (you are banned)" }
        if let slow = room.modes.slowSeconds, member, let last = room.lastSpoke[client.id] {
            let wait = last + .seconds(Int64(slow)) - now()
            if wait > .zero {
                return "Cannot send to channel (+W: slow mode, wait \((wait.nanoseconds + 999_999_999) / 1_000_000_000) s)"
            }
        }
        return nil
    }

    /// `KICK #room nick[,nick]` or `KICK #a,#b nick1,nick2` (pairs), at most 4 kicks.
    func kick(_ m: IRCMessage, _ client: ClientState) {
        guard m.parameters.count >= 2, !m.parameters[0].isEmpty, !m.parameters[1].isEmpty else { return needMore(client, "KICK") }
        let channels = m.parameters[0].split(separator: ",").map(String.init)
        let targets = m.parameters[1].split(separator: ",").map(String.init)
        guard channels.count == 1 || channels.count == targets.count else { return needMore(client, "KICK") }
        let reason = m.parameters.count > 2 && !m.parameters[2].isEmpty
            ? String(ChatText.strippingControls(m.parameters[2]).prefix(config.topicLength)) : client.target
        for (i, nick) in targets.prefix(4).enumerated() {
            kick(nick, from: channels.count == 1 ? channels[0] : channels[i], reason: reason, by: client)
        }
    }

    private func kick(_ nick: String, from name: String, reason: String, by client: ClientState) {
        guard let room = rooms[CaseMapping.fold(name)] else { return reply(client, "403", [name, "No such channel"]) }
        guard room.members[client.id] === client || client.isOper else {
            return reply(client, "442", [room.name, "You're not on that channel"])
        }
        guard room.operators.contains(client.id) || client.publisher || client.isOper else {
            return reply(client, "482", [room.name, "You're not channel operator"])
        }
        guard let member = nicks[CaseMapping.fold(nick)] else { return reply(client, "401", [nick, "No such nick/channel"]) }
        guard room.members[member.id] === member else {
            return reply(client, "441", [member.target, room.name, "They aren't on that channel"])
        }
        broadcast(IRCMessage(source: client.source, command: "KICK", [room.name, member.target, reason]), to: room.orderedMembers)
        room.remove(member)
        let key = CaseMapping.fold(room.name)
        member.rooms.remove(key)
        forgetIfEmpty(room, key: key)
    }

    func invite(_ m: IRCMessage, _ client: ClientState) {
        guard m.parameters.count >= 2, !m.parameters[0].isEmpty, !m.parameters[1].isEmpty else { return needMore(client, "INVITE") }
        let (nick, name) = (m.parameters[0], m.parameters[1])
        guard let invitee = nicks[CaseMapping.fold(nick)] else { return reply(client, "401", [nick, "No such nick/channel"]) }
        guard let room = rooms[CaseMapping.fold(name)] else { return reply(client, "403", [name, "No such channel"]) }
        guard room.members[client.id] === client else { return reply(client, "442", [room.name, "You're not on that channel"]) }
        guard room.operators.contains(client.id) || client.publisher || !room.modes.inviteOnly else {
            return reply(client, "482", [room.name, "You're not channel operator"])
        }
        guard room.members[invitee.id] == nil else {
            return reply(client, "443", [invitee.target, room.name, "is already on channel"])
        }
        if !room.invited.contains(invitee.id) {
            room.invited.append(invitee.id)
            if room.invited.count > config.maxListEntries { room.invited.removeFirst() }
        }
        reply(client, "341", [invitee.target, room.name])
        send(IRCMessage(source: client.source, command: "INVITE", [invitee.target, room.name]), to: invitee)
        if let away = invitee.away { reply(client, "301", [invitee.target, away]) }
    }

    /// `TBAN #room DURATION MASK` (InspIRCd's m_timedbans): a `+b` that the server lifts
    /// (`-b`, from the server) after DURATION (`600`, `10m`, `1h30m`, `2d`).
    func timedBan(_ m: IRCMessage, _ client: ClientState) {
        guard m.parameters.count >= 3 else { return needMore(client, "TBAN") }
        let name = m.parameters[0]
        guard let room = rooms[CaseMapping.fold(name)] else { return reply(client, "403", [name, "No such channel"]) }
        guard room.operators.contains(client.id) || client.publisher || client.isOper else {
            return reply(client, "482", [room.name, "You're not channel operator"])
        }
        guard let seconds = IRCDuration.seconds(m.parameters[1]) else {
            return send(IRCMessage(source: config.serverName, command: "NOTICE",
                                   [client.target, "Invalid ban time \(String(m.parameters[1].prefix(20))) (seconds, or like 10m, 1h30m, 2d)"]),
                        to: client)
        }
        let expires = now() + .seconds(Int64(seconds))
        if let mask = changeBan(room, true, m.parameters[2], client, expires: expires) {
            announce([(true, "b", mask)], in: room, by: client.source)
        }
        if let mask = BanMask(m.parameters[2]) {
            send(IRCMessage(source: config.serverName, command: "NOTICE",
                            [client.target, "Timed ban \(mask.mask) on \(room.name) for \(seconds) s"]), to: client)
        }
    }

    /// `REDACT #room MSGID [:reason]`: a channel operator (or the message's own sender) takes
    /// a message back. It leaves the replay cache and the SQLite history, so it is never
    /// replayed; clients with `draft/message-redaction` are told to hide it.
    func redact(_ m: IRCMessage, _ client: ClientState) {
        guard m.parameters.count >= 2, !m.parameters[0].isEmpty, !m.parameters[1].isEmpty else { return needMore(client, "REDACT") }
        let (name, msgid) = (m.parameters[0], m.parameters[1])
        func fail(_ code: String, _ text: String, _ extra: [String]) {
            send(IRCMessage(source: config.serverName, command: "FAIL", ["REDACT", code] + extra + [text]), to: client)
        }
        let key = CaseMapping.fold(name)
        guard let room = rooms[key], room.members[client.id] === client else {
            return fail("INVALID_TARGET", "You cannot redact messages of \(name)", [name])
        }
        let own = room.recent?.first { $0.msgid == msgid }.map { $0.source == client.source } ?? false
        guard own || room.operators.contains(client.id) || client.publisher || client.isOper else {
            return fail("REDACT_FORBIDDEN", "You're not channel operator", [room.name, msgid])
        }
        let reason = m.parameters.count > 2 ? String(ChatText.strippingControls(m.parameters[2]).prefix(config.topicLength)) : nil
        // Gone from memory now; the store deletes it behind any write still queued.
        let cached = room.recent?.contains { $0.msgid == msgid } ?? false
        room.recent?.removeAll { $0.msgid == msgid }
        if let load = room.loading {
            load.redacted.insert(msgid)
            load.arrivals.removeAll { $0.stored?.msgid == msgid }
        }
        // Like an echo, the answer waits for the store: the client's next lines wait for it.
        client.echoesPending += 1
        let redactor = bound(client), roomName = room.name
        store.redact(channelKey: key, msgid: msgid) { result in
            self.onLoop {
                let client = redactor.value
                defer { self.echoSent(to: client) }
                let found = (try? result.get()) ?? false
                guard found || cached else {
                    return self.send(IRCMessage(source: self.config.serverName, command: "FAIL",
                                                ["REDACT", "UNKNOWN_MSGID", roomName, msgid, "This message does not exist or is too old"]),
                                     to: client)
                }
                guard let room = self.rooms[key] else { return }
                let notice = IRCMessage(source: client.source, command: "REDACT", [room.name, msgid] + (reason.map { [$0] } ?? []))
                self.broadcast(notice, to: room.orderedMembers.filter { $0.has("draft/message-redaction") })
            }
        }
    }
}
