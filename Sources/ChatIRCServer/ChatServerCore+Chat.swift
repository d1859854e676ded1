import ChatIRC

/// PRIVMSG and NOTICE: limits, history, echo and delivery.
extension ChatServerCore {
    func chat(_ m: IRCMessage, _ client: ClientState) {
        let isNotice = m.command == "NOTICE"
        // NOTICE never provokes an error reply (RFC 2812 3.3.2).
        func refuse(_ numeric: String, _ parameters: [String]) { if !isNotice { reply(client, numeric, parameters) } }
        guard let targets = m.parameters.first, !targets.isEmpty else { return refuse("411", ["No recipient given (\(m.command))"]) }
        guard m.parameters.count > 1, !m.parameters[1].isEmpty else { return refuse("412", ["No text to send"]) }
        let text = ChatText.strippingControls(m.parameters[1])
        guard text.count <= config.maxTextCharacters else {
            return refuse("417", ["Message text over \(config.maxTextCharacters) characters"])
        }
        guard client.bucket.take(now: now()) else {
            client.refusedInARow += 1
            if client.refusedInARow >= config.floodDisconnectAfter { return drop(client, reason: "Excess Flood") }
            send(IRCMessage(source: config.serverName, command: "NOTICE",
                            [client.target, "Slow down: at most \(config.rateBurst) messages per "
                                + "\(config.ratePeriod.nanoseconds / 1_000_000_000) s. Your message was not delivered."]),
                 to: client)
            return
        }
        client.refusedInARow = 0
        for target in targets.split(separator: ",").prefix(4).map(String.init) {
            if target.hasPrefix("#") {
                toRoom(target, text, m.command, client, refuse: refuse)
            } else if let recipient = nicks[CaseMapping.fold(target)] {
                let message = IRCMessage(tags: [.init("time", wallClock()), .init("msgid", nextMsgid())],
                                         source: client.source, command: m.command, [recipient.nick ?? target, text])
                send(message, to: recipient)
                if client.has("echo-message") && recipient !== client { send(message, to: client) }
            } else {
                refuse("401", [target, "No such nick/channel"])
            }
        }
    }

    private func toRoom(_ name: String, _ text: String, _ command: String, _ client: ClientState,
                        refuse: (String, [String]) -> Void) {
        let key = CaseMapping.fold(name)
        guard let room = rooms[key] else { return refuse("403", [name, "No such channel"]) }
        guard client.rooms.contains(key) else { return refuse("404", [room.name, "Cannot send to channel (join it first)"]) }
        let time = wallClock(), msgid = nextMsgid()
        let stored = command == "PRIVMSG"
            ? StoredMessage(msgid: msgid, channel: room.name, time: time, source: client.source, text: text) : nil
        let message = IRCMessage(tags: [.init("time", time), .init("msgid", msgid)], source: client.source, command: command,
                                 [room.name, text])
        // Everyone else gets it now; the sender's echo waits until it is stored, so an echoed
        // message survives even `kill -9` of the server right after.
        broadcast(message, to: room.orderedMembers, except: client)
        // Replays on JOIN include it from now on (the room's members loaded its history).
        if let stored { remember(stored, inRoom: key) }
        deferredStores.append {
            self.store.append(stored) { error in
                self.onLoop {
                    if let error {
                        return self.send(IRCMessage(source: self.config.serverName, command: "FAIL",
                                                    [command, "HISTORY_UNAVAILABLE", "Message not kept in history: \(error)"]),
                                         to: client)
                    }
                    if client.has("echo-message") { self.send(message, to: client) }
                }
            }
        }
    }
}
