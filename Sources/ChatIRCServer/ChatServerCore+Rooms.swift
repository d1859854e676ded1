#if canImport(Glibc)
import Glibc
#endif
import ChatIRC

/// JOIN, PART, TOPIC, NAMES, LIST, USERHOST.
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
        var keys = (m.parameters.count > 1 ? m.parameters[1] : "").split(separator: ",", omittingEmptySubsequences: false)
            .map(String.init).makeIterator()
        for name in list.split(separator: ",").map(String.init) {
            let key = keys.next()
            guard isValidChannel(name) else {
                reply(client, "403", [name, "No such channel"])
                continue
            }
            let folded = CaseMapping.fold(name)
            if client.rooms.contains(folded) { continue }
            guard client.rooms.count < config.maxRoomsPerClient else {
                reply(client, "405", [name, "You have joined too many channels"])
                continue
            }
            let room: RoomState
            if let existing = rooms[folded] {
                guard mayJoin(existing, client, key: key) else { continue }
                room = existing
            } else {
                room = RoomState(name: name, createdAt: Int(time(nil)))
                if let (topic, by) = pendingTopics.removeValue(forKey: folded) {
                    room.topic = topic
                    room.topicSetBy = by
                    room.topicSetAt = Int(time(nil))
                }
                rooms[folded] = room
                // The first member of a new room runs it (as on every ircd).
                room.operators.insert(client.id)
            }
            room.add(client)
            if client.publisher { room.operators.insert(client.id) }
            room.invited.removeAll { $0 == client.id }
            client.rooms.insert(folded)
            broadcast(IRCMessage(source: client.source, command: "JOIN", [room.name]), to: room.orderedMembers)
            // away-notify: members learn at once that the newcomer is away.
            if let away = client.away {
                broadcast(IRCMessage(source: client.source, command: "AWAY", [away]),
                          to: room.orderedMembers.filter { $0.has("away-notify") }, except: client)
            }
            if let topic = room.topic {
                reply(client, "332", [room.name, topic])
                reply(client, "333", [room.name, room.topicSetBy, String(room.topicSetAt)])
            }
            sendNames(room, to: client)
            replayHistory(room, to: client)
        }
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
        // A stream URL (set by the server or a publisher) is the room's "Play Video" answer:
        // only publishers replace it, whatever the channel operators may otherwise do.
        let streamURL = room.topic != nil && (room.topicSetBy == config.serverName || room.topicByPublisher)
        // Nor may anyone else announce a stream: `chatcast play --room` follows the topic's URL.
        let text = m.parameters[1].lowercased()
        let announcesStream = text.contains("rtsp://") || text.contains("rtsps://")
        guard client.publisher || (!streamURL && !announcesStream
                                   && (!room.modes.topicLocked || room.operators.contains(client.id))) else {
            return reply(client, "482", [room.name, streamURL || announcesStream
                                         ? "Only the room's publisher may change its stream URL" : "You're not channel operator"])
        }
        applyTopic(room, String(ChatText.strippingControls(m.parameters[1]).prefix(config.topicLength)), by: client.source)
        room.topicByPublisher = client.publisher
    }

    /// 353 lines for the room (`@` marks a secret one), then 366 unless `end` is false
    /// (NAMES of several rooms ends with one 366).
    func sendNames(_ room: RoomState, to client: ClientState, end: Bool = true) {
        let symbol = room.modes.secret ? "@" : "="
        let names = room.orderedMembers.compactMap { member in
            member.nick.map { room.prefix(of: member, all: client.has("multi-prefix"))
                + (client.has("userhost-in-names") ? member.source : $0) }
        }
        var line: [String] = []
        var length = 0
        for name in names {
            if length + name.utf8.count > 400 {
                reply(client, "353", [symbol, room.name, line.joined(separator: " ")])
                line = []
                length = 0
            }
            line.append(name)
            length += name.utf8.count + 1
        }
        if !line.isEmpty { reply(client, "353", [symbol, room.name, line.joined(separator: " ")]) }
        if end { reply(client, "366", [room.name, "End of /NAMES list"]) }
    }

    func names(_ m: IRCMessage, _ client: ClientState) {
        guard let list = m.parameters.first, !list.isEmpty else { return reply(client, "366", ["*", "End of /NAMES list"]) }
        let names = list.split(separator: ",").prefix(10).map(String.init)
        for name in names {
            if let room = rooms[CaseMapping.fold(name)], room.isVisible(to: client) {
                sendNames(room, to: client, end: names.count == 1)
            } else if names.count == 1 {
                reply(client, "366", [name, "End of /NAMES list"])
            }
        }
        if names.count > 1 { reply(client, "366", [list, "End of /NAMES list"]) }
    }

    func list(_ m: IRCMessage, _ client: ClientState) {
        reply(client, "321", ["Channel", "Users  Name"])
        // +s rooms are listed only to their members.
        for room in rooms.values.sorted(by: { $0.name < $1.name }) where room.isVisible(to: client) {
            reply(client, "322", [room.name, String(room.members.count), room.topic ?? ""])
        }
        reply(client, "323", ["End of /LIST"])
    }

    func userhost(_ m: IRCMessage, _ client: ClientState) {
        let found = m.parameters.prefix(5).compactMap { nicks[CaseMapping.fold($0)] }
        if m.command == "ISON" {
            return reply(client, "303", [found.compactMap(\.nick).joined(separator: " ")])
        }
        // `-` marks someone away, `+` someone here.
        reply(client, "302", [found.map { "\($0.nick ?? "")=\($0.away == nil ? "+" : "-")\($0.user ?? "")@\($0.host)" }
            .joined(separator: " ")])
    }
}
