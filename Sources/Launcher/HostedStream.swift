import ArgumentParser
import ChatCastPresets
import ChatCastRTSP
import ChatIRC
import Foundation

/// `chatcast publish --host-rtsp PORT`, the original program's way: the publish pipeline is
/// served by an RTSP server in this process ("Stream Video to Server" started one on its own
/// thread), and the room's topic on the chat server announces its URL until the run ends.
struct HostedStream {
    /// The publish pipeline ending in payloaders (pay0, pay1).
    var mount: String
    var room: String
    var port: Int
    var bind: String
    var chatServer: String
    var nick: String
    var password: String?
    /// The host in the announced URL; by default the address this machine reaches the chat
    /// server from (the one its other clients can most likely reach too).
    var announceHost: String?
    var duration: Double?

    func run() throws {
        StopSignal.arm()
        var settings = RTSPServer.Settings()
        settings.port = port
        settings.address = bind
        let server = try RTSPServer(settings: settings)
        server.mount("/\(room)", launch: "( \(mount) )", shared: true)
        try server.start()
        defer { server.stop() }

        guard let address = IRCServerAddress(chatServer) else { throw CleanExit.message("chatcast: \(chatServer) is not an irc:// URL") }
        let connected = DispatchSemaphore(value: 0)
        let announcer = IRCClient(options: .init(server: address, nick: "\(nick)-rtsp", rooms: [room], password: password)) { event in
            switch event {
            case .connected: connected.signal()
            case let .notice(text) where text.hasPrefix("482"):
                Terminal.error("the chat server refused the topic (\(text)); give --password, the server's --publish-password")
            case let .disconnected(reason): Terminal.say("chat: \(reason)")
            default: break
            }
        }
        announcer.start()
        if connected.wait(timeout: .now() + 10) == .timedOut {
            Terminal.error("no answer from \(chatServer) yet; the URL is announced once it connects")
        }
        let url = "rtsp://\(host(announcer)):\(server.port)/\(room)"
        announcer.setTopic(room: room, to: url)
        Terminal.say("serving \(url); announced as the topic of #\(room) on \(chatServer)")

        let stop = DispatchSemaphore(value: 0)
        if let duration { DispatchQueue.global().asyncAfter(deadline: .now() + duration) { stop.signal() } }
        let watching = StopSignal.onStop { _ in stop.signal() }
        stop.wait()
        StopSignal.remove(watching)
        announcer.setTopic(room: room, to: "")
        announcer.stop(message: "Stream ended")
    }

    private func host(_ client: IRCClient) -> String {
        let chosen = announceHost ?? client.localAddress() ?? (["0.0.0.0", "::"].contains(bind) ? "127.0.0.1" : bind)
        return chosen.contains(":") && !chosen.hasPrefix("[") ? "[\(chosen)]" : chosen
    }
}
