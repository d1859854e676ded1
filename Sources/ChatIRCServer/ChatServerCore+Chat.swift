import ChatIRC

/// PRIVMSG, NOTICE and TAGMSG: limits, permissions, history, echo and delivery.
extension ChatServerCore {
    func chat(_ m: IRCMessage, _ client: ClientState) {
        let isNotice = m.command == "NOTICE", isTagmsg = m.command == "TAGMSG"
        // NOTICE never provokes an error reply (RFC 2812 3.3.2).
        func refuse(_ numeric: String, _ parameters: [String]) { if !isNotice { reply(client, numeric, parameters) } }
        guard let targets = m.parameters.first, !targets.isEmpty else { return refuse("411", ["No recipient given (\(m.command))"]) }
        let text: String
        if isTagmsg {
            text = ""
        } else {
            guard m.parameters.count > 1, !m.parameters[1].isEmpty else { return refuse("412", ["No text to send"]) }
            text = ChatText.strippingControls(m.parameters[1])
            guard text.count <= config.maxTextCharacters else {
                return refuse("417", ["Message text over \(config.maxTextCharacters) characters"])
            }
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
        // Client-only tags (`+name`) travel to `message-tags` clients; the server sets the rest.
        let clientTags = client.has("message-tags") ? m.tags.filter { $0.key.hasPrefix("+") } : []
        if isTagmsg && clientTags.isEmpty { return }
        for target in targets.split(separator: ",").prefix(4).map(String.init) {
            if target.hasPrefix("#") {
                toRoom(target, text, m.command, clientTags, client, refuse: refuse)
            } else if let recipient = nicks[CaseMapping.fold(target)] {
                let message = IRCMessage(tags: clientTags + [.init("time", wallClock()), .init("msgid", nextMsgid())],
                                         source: client.source, command: m.command, [recipient.target] + (isTagmsg ? [] : [text]))
                if recipient === client && client.has("echo-message") {
                    // To oneself with echo-message: the delivery, then the echo (only it answers a label).
                    let labeled = client.labeled
                    client.labeled = nil
                    send(message, to: client)
                    client.labeled = labeled
                    send(message, to: client)
                } else {
                    if !isTagmsg || recipient.has("message-tags") { send(message, to: recipient) }
                    if client.has("echo-message") && recipient !== client { send(message, to: client) }
                }
                if m.command == "PRIVMSG", let away = recipient.away { reply(client, "301", [recipient.target, away]) }
            } else {
                refuse("401", [target, "No such nick/channel"])
            }
        }
    }

    private func toRoom(_ name: String, _ text: String, _ command: String, _ clientTags: [IRCMessage.Tag], _ client: ClientState,
                        refuse: (String, [String]) -> Void) {
        let key = CaseMapping.fold(name)
        guard let room = rooms[key] else { return refuse("403", [name, "No such channel"]) }
        if let why = whyNotSpeak(room, client) { return refuse("404", [room.name, why]) }
        room.lastSpoke[client.id] = now()
        client.lastSpokeAt = now()
        let time = wallClock(), msgid = nextMsgid()
        let tagmsg = command == "TAGMSG"
        let message = IRCMessage(tags: clientTags + [.init("time", time), .init("msgid", msgid)], source: client.source,
                                 command: command, [room.name] + (tagmsg ? [] : [text]))
        if tagmsg {
            // Tags only: nothing to keep, and only clients that read tags would see anything.
            broadcast(message, to: room.orderedMembers.filter { $0.has("message-tags") }, except: client)
            if client.has("echo-message") { send(message, to: client) }
            return
        }
        roomMessagesRelayed += 1
        let stored = command == "PRIVMSG"
            ? StoredMessage(msgid: msgid, channel: room.name, time: time, source: client.source, text: text) : nil
        // Everyone else gets it now; the sender's echo waits until it is stored, so an echoed
        // message survives even `kill -9` of the server right after.
        deliver(message, stored: stored, in: room, from: client)
        let echo = labeled(message, client)
        let echoing = client.has("echo-message")
        if client.label != nil && echoing { client.labelAnswered = true }
        if echoing { client.echoesPending += 1 }
        let sender = bound(client)
        deferredStores.append {
            self.store.append(stored) { error in
                self.onLoop {
                    let client = sender.value
                    if let error {
                        self.send(IRCMessage(source: self.config.serverName, command: "FAIL",
                                             [command, "HISTORY_UNAVAILABLE", "Message not kept in history: \(error)"]), to: client)
                    } else {
                        self.echo(echo, msgid: msgid, in: key, to: client)
                    }
                    if echoing { self.echoSent(to: client) }
                }
            }
        }
    }
}
