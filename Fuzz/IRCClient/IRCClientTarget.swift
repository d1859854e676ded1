import ChatCastSEI
import NIOCore
import NIOEmbedded

/// libFuzzer entry for a whole chat-server session as the elements' IRC client lives it: the
/// input is what a server sends, in chunks, on an EmbeddedChannel (the client's own
/// handlers: idle timer, line decoder, session logic), with chat sent between chunks and
/// time moved on so the client pings a silent server and gives it up. The first byte picks
/// the chunk size, whether chat is sent and whether time passes.
///
/// Beyond "no crash": every line the client writes is one IRC message of at most 512 bytes
/// that reads back the same; it never sends more than `maxNickAttempts` nick changes before
/// giving the connection up; every chat message it reports names someone and a room it had
/// joined.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIRCClient(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let chunk = 1 + Int(data[0] & 0x1F) * 13
    let chat = data[0] & 0x20 != 0
    let timePasses = data[0] & 0x40 != 0
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    let loop = EmbeddedEventLoop()
    let events = Events()
    var options = IRCClient.Options(server: IRCServerAddress(host: "192.0.2.1", port: 6667), nick: "cam", rooms: ["lobby"])
    options.reconnect = false  // a reconnect would need a real socket; the session is what is fuzzed
    options.pingIntervalSeconds = 30
    let client = IRCClient(options: options, group: loop) { events.add($0) }
    let channel = EmbeddedChannel(loop: loop)
    do {
        try client.addHandlers(to: channel.pipeline.syncOperations)
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 6667)).wait()
    } catch { fatalError("cannot set the client up: \(error)") }

    var written: [UInt8] = []
    func collect() {
        while let part = try? channel.readOutbound(as: ByteBuffer.self) { written += part.readableBytesView }
    }
    // NIO's IdleStateHandler times reads by the real clock and schedules by the loop's: once
    // the embedded loop's time passes the machine's uptime its timer spins until real time
    // catches up (30 s a go). Kept well under the uptime of any machine that built this.
    var advances = 0
    var at = 0
    while at < stream.count && channel.isActive {
        let end = min(at + chunk, stream.count)
        _ = try? channel.writeInbound(channel.allocator.buffer(bytes: stream[at..<end]))
        if chat { client.send(room: "lobby", text: "line \(at) é") }
        loop.run()
        if timePasses && advances < 8 {
            advances += 1
            loop.advanceTime(by: .seconds(31))
        }
        collect()
        at = end
    }
    loop.advanceTime(by: .seconds(120))  // a silent server: pinged, then given up
    collect()
    _ = try? channel.finish()
    collect()

    var nicks = 0
    for line in String(decoding: written, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true) {
        check(line.utf8.count + 2 <= 512, "the client wrote a line of \(line.utf8.count + 2) bytes: \(line.prefix(80))")
        guard let message = try? IRCMessage.parse(String(line)) else { fatalError("the client wrote \(line.debugDescription)") }
        check(message.serialized == line + "\r\n", "\(line.debugDescription) does not read back the same")
        if message.command == "NICK" { nicks += 1 }
    }
    // The first NICK, then at most maxNickAttempts refusals answered.
    check(nicks <= 1 + IRCClient.maxNickAttempts, "\(nicks) NICK lines to a server refusing them")
    var joined: Set<String> = []
    for event in events.all {
        switch event {
        case let .joined(room): joined.insert(CaseMapping.fold(ChatText.channel(forRoom: room)))
        case let .message(m, _):
            check(!m.nick.isEmpty, "a message from nobody: \(m)")
            check(joined.contains(CaseMapping.fold(ChatText.channel(forRoom: m.room))), "a message of #\(m.room), not joined")
        default: break
        }
    }
    return 0
}

/// What the client reported (on the embedded loop: this thread).
final class Events: @unchecked Sendable {  // written and read on the fuzzer's one thread
    private(set) var all: [IRCClientEvent] = []
    func add(_ event: IRCClientEvent) { all.append(event) }
}
