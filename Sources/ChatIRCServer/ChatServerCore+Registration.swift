#if canImport(Glibc)
import Glibc
#endif
import ChatIRC

/// CAP, PASS, NICK, USER, QUIT and the welcome burst.
extension ChatServerCore {
    func capability(_ m: IRCMessage, _ client: ClientState) {
        guard let sub = m.parameters.first?.uppercased() else { return needMore(client, "CAP") }
        switch sub {
        case "LS":
            if !client.registered { client.negotiatingCapabilities = true }
            send(IRCMessage(source: config.serverName, command: "CAP", [client.target, "LS", Self.capabilities.joined(separator: " ")]),
                 to: client)
        case "LIST":
            send(IRCMessage(source: config.serverName, command: "CAP",
                            [client.target, "LIST", client.capabilities.sorted().joined(separator: " ")]), to: client)
        case "REQ":
            if !client.registered { client.negotiatingCapabilities = true }
            let requested = (m.parameters.count > 1 ? m.parameters[1] : "").split(separator: " ").map(String.init)
            let known = requested.allSatisfy { Self.capabilities.contains($0.hasPrefix("-") ? String($0.dropFirst()) : $0) }
            guard known, !requested.isEmpty else {
                send(IRCMessage(source: config.serverName, command: "CAP", [client.target, "NAK", requested.joined(separator: " ")]),
                     to: client)
                return
            }
            for cap in requested {
                if cap.hasPrefix("-") { client.capabilities.remove(String(cap.dropFirst())) } else { client.capabilities.insert(cap) }
            }
            send(IRCMessage(source: config.serverName, command: "CAP", [client.target, "ACK", requested.joined(separator: " ")]),
                 to: client)
        case "END":
            client.negotiatingCapabilities = false
            completeRegistration(client)
        default:
            reply(client, "410", [sub, "Invalid CAP command"])
        }
    }

    func pass(_ m: IRCMessage, _ client: ClientState) {
        guard !client.registered else { return reply(client, "462", ["You may not reregister"]) }
        guard let password = m.parameters.first else { return needMore(client, "PASS") }
        client.password = password
    }

    func isValidNick(_ nick: String) -> Bool {
        guard let first = nick.unicodeScalars.first, nick.utf8.count <= config.nickLength else { return false }
        let special: Set<Character> = ["[", "]", "\\", "`", "_", "^", "{", "|", "}"]
        let isLetter = { (c: Character) in c.isASCII && c.isLetter }
        guard isLetter(Character(first)) || special.contains(Character(first)) else { return false }
        return nick.allSatisfy { isLetter($0) || ($0.isASCII && $0.isNumber) || special.contains($0) || $0 == "-" }
    }

    func nick(_ m: IRCMessage, _ client: ClientState) {
        guard let wanted = m.parameters.first, !wanted.isEmpty else { return reply(client, "431", ["No nickname given"]) }
        guard isValidNick(wanted) else { return reply(client, "432", [wanted, "Erroneous nickname"]) }
        let key = CaseMapping.fold(wanted)
        if let holder = nicks[key], holder !== client { return reply(client, "433", [wanted, "Nickname is already in use"]) }
        let old = client.nick
        if let old { nicks.removeValue(forKey: CaseMapping.fold(old)) }
        let oldSource = client.source
        if client.registered, old != wanted { rememberWhowas(client) }
        client.nick = wanted
        nicks[key] = client
        if client.registered, old != wanted {
            var seen = Set([client.id])
            let others = client.rooms.compactMap { rooms[$0] }.flatMap(\.orderedMembers).filter { seen.insert($0.id).inserted }
            broadcast(IRCMessage(source: oldSource, command: "NICK", [wanted]), to: [client] + others)
        }
        completeRegistration(client)
    }

    func user(_ m: IRCMessage, _ client: ClientState) {
        guard !client.registered else { return reply(client, "462", ["You may not reregister"]) }
        guard m.parameters.count >= 4, !m.parameters[0].isEmpty, !m.parameters[3].isEmpty else { return needMore(client, "USER") }
        client.user = String(m.parameters[0].prefix(16).filter { $0 != "@" && $0 != "!" })
        client.realName = m.parameters[3]
        completeRegistration(client)
    }

    func quit(_ m: IRCMessage, _ client: ClientState) {
        drop(client, reason: m.parameters.first.map { "Quit: \(ChatText.strippingControls($0))" } ?? "Quit")
    }

    func completeRegistration(_ client: ClientState) {
        guard !client.registered, !client.negotiatingCapabilities, client.nick != nil, client.user != nil else { return }
        if let publisherPassword = config.publisherPassword, client.password == publisherPassword {
            client.publisher = true
        } else if let password = config.password, client.password != password {
            reply(client, "464", ["Password incorrect"])
            return drop(client, reason: "Bad password")
        }
        client.registered = true
        client.signedOnAt = Int(time(nil))
        reply(client, "001", ["Welcome to the \(config.networkName) chat, \(client.source)"])
        reply(client, "002", ["Your host is \(config.serverName), running \(Self.version)"])
        reply(client, "003", ["This server was created \(startedAt)"])
        reply(client, "004", [config.serverName, Self.version, "iow", ChannelModes.letters, "bklovW"])
        sendISupport(to: client)
        lusers(client)
        motd(client)
    }
}
