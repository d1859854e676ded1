#if canImport(Glibc)
import Glibc
#endif
import ChatIRC

/// JOIN, PART, TOPIC, NAMES, WHO, WHOIS, MODE, LIST, USERHOST.
extension ChatServerCore {
    func isValidChannel(_ name: String) -> Bool {
        name.hasPrefix("#") && name.utf8.count > 1 && name.utf8.count <= config.roomLength
            && !name.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: ",") || $0 == 0x7F || $0 == UInt8(ascii: ":") }
    }

    func join(_ m: IRCMessage, _ client: ClientState) {
        guard let list = m.parameters.first, !list.isEmpty else { return needMore(client, "JOIN") }
        if list == "0" {
            for key in client.rooms { if let room = rooms[key] { leave(room, client, command: "PART", reason: "Left all channels") } }
            return
        }
        for name in list.split(separator: ",").map(String.init) {
            guard isValidChannel(name) else {
                reply(client, "403", [name, "No such channel"])
                continue
            }
            let key = CaseMapping.fold(name)
            if client.rooms.contains(key) { continue }
            guard client.rooms.count < config.maxRoomsPerClient else {
                reply(client, "405", [name, "You have joined too many channels"])
                continue
            }
            let room: RoomState
            if let existing = rooms[key] {
                room = existing
            } else {
                room = RoomState(name: name, createdAt: Int(time(nil)))
                if let (topic, by) = pendingTopics.removeValue(forKey: key) {
                    room.topic = topic
                    room.topicSetBy = by
                    room.topicSetAt = Int(time(nil))
                }
                rooms[key] = room
            }
            room.add(client)
            if client.publisher { room.operators.insert(client.id) }
            client.rooms.insert(key)
            broadcast(IRCMessage(source: client.source, command: "JOIN", [room.name]), to: room.orderedMembers)
            if let topic = room.topic {
                reply(client, "332", [room.name, topic])
                reply(client, "333", [room.name, room.topicSetBy, String(room.topicSetAt)])
            }
            sendNames(room, to: client)
            replayHistory(room, to: client)
        }
    }

    /// The last messages of the room: a `chathistory` batch for clients that took `batch`,
    /// plain PRIVMSGs (with `server-time` tags where taken) otherwise.
    func replayHistory(_ room: RoomState, to client: ClientState) {
        let history: [StoredMessage]
        do { history = try self.history(ofRoom: CaseMapping.fold(room.name)) } catch {
            send(IRCMessage(source: config.serverName, command: "NOTICE", [client.target, "History is unavailable: \(error)"]),
                 to: client)
            return
        }
        guard !history.isEmpty else { return }
        let batch = client.has("batch") ? "h\(nextMsgid())" : nil
        if let batch {
            send(IRCMessage(source: config.serverName, command: "BATCH", ["+\(batch)", "chathistory", room.name]), to: client)
        }
        for h in history {
            var tags = [IRCMessage.Tag("time", h.time), IRCMessage.Tag("msgid", h.msgid)]
            if let batch { tags.append(IRCMessage.Tag("batch", batch)) }
            send(IRCMessage(tags: tags, source: h.source, command: "PRIVMSG", [room.name, h.text]), to: client)
        }
        if let batch { send(IRCMessage(source: config.serverName, command: "BATCH", ["-\(batch)"]), to: client) }
    }

    func leave(_ room: RoomState, _ client: ClientState, command: String, reason: String?) {
        broadcast(IRCMessage(source: client.source, command: command, [room.name] + (reason.map { [$0] } ?? [])),
                  to: room.orderedMembers)
        room.remove(client)
        let key = CaseMapping.fold(room.name)
        client.rooms.remove(key)
        forgetIfEmpty(room, key: key)
    }

    /// An empty room is dropped; a stream URL the server set as its topic is kept for the
    /// next one to join (a viewer that asked for it and left must not erase it).
    func forgetIfEmpty(_ room: RoomState, key: String) {
        guard room.members.isEmpty else { return }
        if let topic = room.topic, room.topicSetBy == config.serverName { pendingTopics[key] = (topic, room.topicSetBy) }
        rooms.removeValue(forKey: key)
        historyCache.removeValue(forKey: key)
        keyFrameRequests.removeValue(forKey: key)
    }

    func part(_ m: IRCMessage, _ client: ClientState) {
        guard let list = m.parameters.first else { return needMore(client, "PART") }
        let reason = m.parameters.count > 1 ? ChatText.strippingControls(m.parameters[1]) : nil
        for name in list.split(separator: ",").map(String.init) {
            let key = CaseMapping.fold(name)
            guard let room = rooms[key] else {
                reply(client, "403", [name, "No such channel"])
                continue
            }
            guard client.rooms.contains(key) else {
                reply(client, "442", [name, "You're not on that channel"])
                continue
            }
            leave(room, client, command: "PART", reason: reason)
        }
    }

    func topic(_ m: IRCMessage, _ client: ClientState) {
        guard let name = m.parameters.first else { return needMore(client, "TOPIC") }
        let key = CaseMapping.fold(name)
        guard let room = rooms[key] else {
            // A stream announced for a room nobody has joined yet can still be read.
            if m.parameters.count == 1, let (topic, _) = pendingTopics[key] { return reply(client, "332", [name, topic]) }
            return reply(client, "403", [name, "No such channel"])
        }
        guard m.parameters.count > 1 else {
            if let topic = room.topic {
                reply(client, "332", [room.name, topic])
                reply(client, "333", [room.name, room.topicSetBy, String(room.topicSetAt)])
            } else {
                reply(client, "331", [room.name, "No topic is set"])
            }
            return
        }
        guard client.rooms.contains(key) else { return reply(client, "442", [room.name, "You're not on that channel"]) }
        // The topic is the room's RTSP URL: only publishers and operators may change it.
        guard client.publisher || room.operators.contains(client.id) else {
            return reply(client, "482", [room.name, "Only the room's publisher may set its topic (the stream URL)"])
        }
        applyTopic(room, String(ChatText.strippingControls(m.parameters[1]).prefix(config.topicLength)), by: client.source)
    }

    func sendNames(_ room: RoomState, to client: ClientState) {
        let names = room.orderedMembers.compactMap { member in
            member.nick.map { (room.operators.contains(member.id) ? "@" : "") + $0 }
        }
        var line: [String] = []
        var length = 0
        for name in names {
            if length + name.utf8.count > 400 {
                reply(client, "353", ["=", room.name, line.joined(separator: " ")])
                line = []
                length = 0
            }
            line.append(name)
            length += name.utf8.count + 1
        }
        if !line.isEmpty { reply(client, "353", ["=", room.name, line.joined(separator: " ")]) }
        reply(client, "366", [room.name, "End of /NAMES list"])
    }

    func names(_ m: IRCMessage, _ client: ClientState) {
        guard let list = m.parameters.first else { return reply(client, "366", ["*", "End of /NAMES list"]) }
        for name in list.split(separator: ",").map(String.init) {
            if let room = rooms[CaseMapping.fold(name)] { sendNames(room, to: client) } else {
                reply(client, "366", [name, "End of /NAMES list"])
            }
        }
    }

    func whoLine(_ member: ClientState, channel: String, room: RoomState?, to client: ClientState) {
        let op = room.map { $0.operators.contains(member.id) } ?? false
        reply(client, "352", [channel, member.user ?? "unknown", member.host, config.serverName, member.nick ?? "*",
                              "H" + (op ? "@" : ""), "0 \(member.realName)"])
    }

    func who(_ m: IRCMessage, _ client: ClientState) {
        let mask = m.parameters.first ?? "*"
        if let room = rooms[CaseMapping.fold(mask)] {
            for member in room.orderedMembers { whoLine(member, channel: room.name, room: room, to: client) }
        } else if let member = nicks[CaseMapping.fold(mask)] {
            whoLine(member, channel: "*", room: nil, to: client)
        }
        reply(client, "315", [mask, "End of /WHO list"])
    }

    func whois(_ m: IRCMessage, _ client: ClientState) {
        guard let nick = m.parameters.last else { return reply(client, "431", ["No nickname given"]) }
        guard let member = nicks[CaseMapping.fold(nick)] else {
            reply(client, "401", [nick, "No such nick/channel"])
            return reply(client, "318", [nick, "End of /WHOIS list"])
        }
        reply(client, "311", [member.nick ?? nick, member.user ?? "unknown", member.host, "*", member.realName])
        let channels = member.rooms.compactMap { rooms[$0]?.name }.sorted()
        if !channels.isEmpty { reply(client, "319", [member.nick ?? nick, channels.joined(separator: " ")]) }
        reply(client, "312", [member.nick ?? nick, config.serverName, "ChatCast"])
        reply(client, "318", [member.nick ?? nick, "End of /WHOIS list"])
    }

    func mode(_ m: IRCMessage, _ client: ClientState) {
        guard let target = m.parameters.first else { return needMore(client, "MODE") }
        guard target.hasPrefix("#") else {
            guard CaseMapping.fold(target) == CaseMapping.fold(client.target) else {
                return reply(client, "502", ["Can't change mode for other users"])
            }
            return reply(client, "221", ["+i"])
        }
        guard let room = rooms[CaseMapping.fold(target)] else { return reply(client, "403", [target, "No such channel"]) }
        guard m.parameters.count > 1 else {
            reply(client, "324", [room.name, "+nt"])
            return reply(client, "329", [room.name, String(room.createdAt)])
        }
        let change = m.parameters[1]
        if change == "b" || change == "+b" { return reply(client, "368", [room.name, "End of channel ban list"]) }
        guard client.publisher || room.operators.contains(client.id) else {
            return reply(client, "482", [room.name, "You're not channel operator"])
        }
        // Operators may hand +o to others (the only mode that changes anything here).
        if (change == "+o" || change == "-o"), m.parameters.count > 2, let member = nicks[CaseMapping.fold(m.parameters[2])],
           room.members[member.id] != nil {
            if change == "+o" { room.operators.insert(member.id) } else { room.operators.remove(member.id) }
            broadcast(IRCMessage(source: client.source, command: "MODE", [room.name, change, member.nick ?? ""]), to: room.orderedMembers)
        } else {
            reply(client, "472", [change, "is unknown mode char to me"])
        }
    }

    func list(_ m: IRCMessage, _ client: ClientState) {
        reply(client, "321", ["Channel", "Users  Name"])
        for room in rooms.values.sorted(by: { $0.name < $1.name }) {
            reply(client, "322", [room.name, String(room.members.count), room.topic ?? ""])
        }
        reply(client, "323", ["End of /LIST"])
    }

    func userhost(_ m: IRCMessage, _ client: ClientState) {
        let found = m.parameters.prefix(5).compactMap { nicks[CaseMapping.fold($0)] }
        if m.command == "ISON" {
            return reply(client, "303", [found.compactMap(\.nick).joined(separator: " ")])
        }
        reply(client, "302", [found.map { "\($0.nick ?? "")=+\($0.user ?? "")@\($0.host)" }.joined(separator: " ")])
    }
}
