import Foundation
import ProcessSupport
import XCTest

/// What a client can send the web server of `chatcast serve` in one packet.
final class WebInputsTests: XCTestCase {
    /// A WebSocket upgrade of /irc without `Connection: Upgrade`, with a request pipelined
    /// behind it (the http fuzz target's find; it once took the whole process down): refused
    /// as any refused upgrade is (NIO closes the connection), and the server still there.
    func testAnUpgradeWithoutConnectionUpgradeIsRefusedAndTheServerStays() throws {
        let server = try VideoServer()
        let request = "GET /irc HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\nGET /lobby HTTP/1.1\r\nHost: h\r\n\r\n"
        let answer = try rawExchange(port: server.httpPort, Array(request.utf8))
        XCTAssertFalse(answer.contains("101 Switching Protocols"), answer)
        XCTAssertTrue(server.background.process.isRunning, "serve went down: \(server.log.suffix(2000))")
        XCTAssertEqual(httpRequest("GET", server.web + "/api/rooms").status, 200)
        // A proper upgrade is still taken.
        let upgrade = "GET /irc HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        XCTAssertTrue(try rawExchange(port: server.httpPort, Array(upgrade.utf8)).hasPrefix("HTTP/1.1 101"))
    }

    /// Sends `bytes` on a new connection and returns what comes back within a second.
    private func rawExchange(port: Int, _ bytes: [UInt8]) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SetupFailure("cannot connect to port \(port)") }
        _ = bytes.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, 0) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
