#if canImport(Glibc)
import Glibc
#endif
import ChatIRC
import NIOCore

/// Who is here and what this server is: WHO (with WHOX), WHOIS, WHOWAS, AWAY, LUSERS,
/// MOTD, INFO, VERSION and the ISUPPORT (005) tokens.
extension ChatServerCore {
    var isupport: [String] {
        ["AWAYLEN=\(config.topicLength)", "CASEMAPPING=rfc1459", "CHANLIMIT=#:\(config.maxRoomsPerClient)",
         "CHANMODES=\(ChannelModes.isupport)", "CHANNELLEN=\(config.roomLength)", "CHANTYPES=#", "CHATHISTORY=\(Self.chathistoryMax)",
         "KICKLEN=\(config.topicLength)", "LINELEN=512", "MAXLIST=b:\(config.maxListEntries)",
         "MODES=\(Self.modesPerCommand)", "MSGREFTYPES=msgid,timestamp", "NETWORK=\(config.networkName)",
         "NICKLEN=\(config.nickLength)", "PREFIX=(ov)@+", "TARGMAX=JOIN:,KICK:4,NAMES:,NOTICE:4,PART:,PRIVMSG:4,TAGMSG:4,WHOIS:1",
         "TOPICLEN=\(config.topicLength)", "UTF8ONLY", "WHOX"]
    }

    func sendISupport(to client: ClientState) {
        // At most 13 tokens a line, so every line stays far under 512 bytes.
        let tokens = isupport
        for start in stride(from: 0, to: tokens.count, by: 13) {
            reply(client, "005", Array(tokens[start..<min(tokens.count, start + 13)]) + ["are supported by this server"])
        }
    }

    // MARK: WHO

    func who(_ m: IRCMessage, _ client: ClientState) {
        let mask = m.parameters.first.flatMap { $0.isEmpty ? nil : $0 } ?? "*"
        // WHOX: `WHO mask %fields[,token]`.
        var fields: Set<Character>?, token = "0"
        if m.parameters.count > 1, m.parameters[1].hasPrefix("%") {
            let spec = m.parameters[1].dropFirst().split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
            fields = Set(spec.first ?? "")
            if spec.count > 1 { token = String(spec[1].prefix(3)) }
        }
        func line(_ member: ClientState, _ room: RoomState?) {
            let channel = room?.name ?? "*"
            let prefix = room.map { $0.prefix(of: member, all: client.has("multi-prefix")) } ?? ""
            let flags = (member.away == nil ? "H" : "G") + (member.isOper ? "*" : "") + prefix
            guard let fields else {
                return reply(client, "352", [channel, member.user ?? "unknown", member.host, config.serverName, member.target,
                                             flags, "0 \(member.realName)"])
            }
            var out: [String] = []
            // The order of WHOX fields is fixed (t c u i h s n f d l a o r), whatever order they were asked in.
            for f in "tcuihsnfdlaor" where fields.contains(f) {
                switch f {
                case "t": out.append(token)
                case "c": out.append(channel)
                case "u": out.append(member.user ?? "unknown")
                case "i": out.append("255.255.255.255")
                case "h": out.append(member.host)
                case "s": out.append(config.serverName)
                case "n": out.append(member.target)
                case "f": out.append(flags)
                case "d": out.append("0")
                case "l": out.append(String((now() - member.lastSpokeAt).nanoseconds / 1_000_000_000))
                case "a": out.append("0")
                case "o": out.append("n/a")
                case "r": out.append(member.realName)
                default: break
                }
            }
            reply(client, "354", out)
        }
        if mask.hasPrefix("#") {
            if let room = rooms[CaseMapping.fold(mask)], room.isVisible(to: client) {
                for member in room.orderedMembers { line(member, room) }
            }
        } else if let member = nicks[CaseMapping.fold(mask)] {
            line(member, nil)
        } else {
            // A mask: clients sharing a room with the asker match on nick, user, host or real name.
            let pattern = Array(CaseMapping.fold(mask).utf8)
            var seen = Set<Int>(), count = 0
            let visible = client.rooms.compactMap { rooms[$0] }.flatMap(\.orderedMembers) + [client]
            for member in visible where seen.insert(member.id).inserted && count < 200 {
                let candidates = [member.target, member.user ?? "", member.host, member.realName, member.source]
                if candidates.contains(where: { BanMask.wildcard(pattern, Array(CaseMapping.fold($0).utf8)) }) {
                    line(member, nil)
                    count += 1
                }
            }
        }
        reply(client, "315", [mask, "End of /WHO list"])
    }

    // MARK: WHOIS, WHOWAS

    func whois(_ m: IRCMessage, _ client: ClientState) {
        // `WHOIS nick` or `WHOIS server nick`.
        guard let nick = m.parameters.last, !nick.isEmpty else { return reply(client, "431", ["No nickname given"]) }
        guard let member = nicks[CaseMapping.fold(nick)] else {
            reply(client, "401", [nick, "No such nick/channel"])
            return reply(client, "318", [nick, "End of /WHOIS list"])
        }
        let name = member.target
        reply(client, "311", [name, member.user ?? "unknown", member.host, "*", member.realName])
        let channels = member.rooms.compactMap { rooms[$0] }
            .filter { $0.isVisible(to: client) || client === member }
            .map { $0.prefix(of: member, all: client.has("multi-prefix")) + $0.name }.sorted()
        if !channels.isEmpty { reply(client, "319", [name, channels.joined(separator: " ")]) }
        reply(client, "312", [name, config.serverName, config.networkName])
        if member.isOper { reply(client, "313", [name, "is an IRC operator"]) }
        if let away = member.away { reply(client, "301", [name, away]) }
        if member === client || client.isOper {
            reply(client, "378", [name, "is connecting from *@\(member.host) \(member.host)"])
        }
        reply(client, "317", [name, String((now() - member.lastSpokeAt).nanoseconds / 1_000_000_000), String(member.signedOnAt),
                              "seconds idle, signon time"])
        reply(client, "318", [name, "End of /WHOIS list"])
    }

    /// Remembers who had a nick (a quit or a nick change), newest last; bounded.
    func rememberWhowas(_ client: ClientState) {
        guard client.registered, let nick = client.nick else { return }
        whowasHistory.append(WhowasEntry(nick: nick, user: client.user ?? "unknown", host: client.host, realName: client.realName,
                                         when: wallClock()))
        if whowasHistory.count > config.whowasEntries { whowasHistory.removeFirst(whowasHistory.count - config.whowasEntries) }
    }

    func whowas(_ m: IRCMessage, _ client: ClientState) {
        guard let nicksParameter = m.parameters.first, !nicksParameter.isEmpty else { return reply(client, "431", ["No nickname given"]) }
        var count = Int.max
        if m.parameters.count > 1, let n = Int(m.parameters[1].prefix(9)), n > 0 { count = n }
        for nick in nicksParameter.split(separator: ",").prefix(4).map(String.init) {
            let key = CaseMapping.fold(nick)
            let entries = whowasHistory.reversed().filter { CaseMapping.fold($0.nick) == key }.prefix(count)
            if entries.isEmpty { reply(client, "406", [nick, "There was no such nickname"]) }
            for e in entries {
                reply(client, "314", [e.nick, e.user, e.host, "*", e.realName])
                reply(client, "312", [e.nick, config.serverName, e.when])
            }
            reply(client, "369", [nick, "End of WHOWAS"])
        }
    }

    // MARK: AWAY

    /// `AWAY :text` marks the client away (301 to those who message it), `AWAY` alone back;
    /// `away-notify` clients in its rooms are told either way.
    func away(_ m: IRCMessage, _ client: ClientState) {
        let text = m.parameters.first.map { String(ChatText.strippingControls($0).prefix(config.topicLength)) } ?? ""
        client.away = text.isEmpty ? nil : text
        if text.isEmpty { reply(client, "305", ["You are no longer marked as being away"]) } else {
            reply(client, "306", ["You have been marked as being away"])
        }
        var seen = Set([client.id])
        let others = client.rooms.compactMap { rooms[$0] }.flatMap(\.orderedMembers)
            .filter { seen.insert($0.id).inserted && $0.has("away-notify") }
        broadcast(IRCMessage(source: client.source, command: "AWAY", text.isEmpty ? [] : [text]), to: others)
    }

    // MARK: server information

    func lusers(_ client: ClientState) {
        let users = clients.values.filter(\.registered).count
        let opers = clients.values.filter(\.isOper).count
        let unknown = clients.count - users
        reply(client, "251", ["There are \(users) users and 0 invisible on 1 servers"])
        if opers > 0 { reply(client, "252", [String(opers), "operator(s) online"]) }
        if unknown > 0 { reply(client, "253", [String(unknown), "unknown connection(s)"]) }
        reply(client, "254", [String(rooms.count), "channels formed"])
        reply(client, "255", ["I have \(users) clients and 0 servers"])
        maxUsersSeen = max(maxUsersSeen, users)
        reply(client, "265", [String(users), String(maxUsersSeen), "Current local users \(users), max \(maxUsersSeen)"])
        reply(client, "266", [String(users), String(maxUsersSeen), "Current global users \(users), max \(maxUsersSeen)"])
    }

    func motd(_ client: ClientState) {
        guard !config.motd.isEmpty else { return reply(client, "422", ["MOTD File is missing"]) }
        reply(client, "375", ["- \(config.serverName) Message of the day - "])
        for line in config.motd.prefix(100) { reply(client, "372", ["- " + String(line.prefix(400))]) }
        reply(client, "376", ["End of /MOTD command."])
    }

    func info(_ client: ClientState) {
        for line in ["ChatCast chat server (\(config.serverName))", "IRC for live video rooms: SwiftNIO, history in SQLite.",
                     "Up since \(startedAt)"] {
            reply(client, "371", [line])
        }
        reply(client, "374", ["End of INFO list"])
    }

    func version(_ client: ClientState) {
        reply(client, "351", [Self.version, config.serverName, "IRCv3 chathistory labeled-response message-tags"])
        sendISupport(to: client)
    }

    static let version = "chatcast-1.0"
}

/// One WHOWAS record.
struct WhowasEntry {
    let nick: String
    let user: String
    let host: String
    let realName: String
    let when: String
}
