import Foundation
import NIOCore
import NIOHTTP1

/// What each path of `chatcast serve --http-port` answers (DESIGN.md, "Video: RTSP"):
/// `/` the live rooms, `/api/rooms` the same as JSON, `/ROOM` the viewer page,
/// `/static/FILE` its files, `POST /ROOM/whep` and `DELETE /ROOM/whep/ID` WebRTC (RFC 9725),
/// `/metrics` Prometheus. `/irc` is the WebSocket upgrade, handled before this.
public struct WebRoutes: Sendable {
    /// An SDP offer is a few KiB; anything much larger is not one.
    public static let maxBodyBytes = 64 * 1024

    public let files: StaticFiles
    public let backend: WebBackend

    public init(files: StaticFiles, backend: WebBackend) {
        self.files = files
        self.backend = backend
    }

    /// The answer to one request; `body` is nil when it was larger than `maxBodyBytes`.
    public func respond(to head: HTTPRequestHead, body: ByteBuffer?, on loop: EventLoop) -> EventLoopFuture<WebResponse> {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let method = head.method

        if method == .OPTIONS { return loop.makeSucceededFuture(preflight()) }
        switch segments {
        case [""]:
            return loop.makeSucceededFuture(get(method, page: "rooms.html"))
        case ["api", "rooms"]:
            return loop.makeSucceededFuture(only(method, [.GET, .HEAD]) ?? roomList())
        case ["metrics"]:
            return loop.makeSucceededFuture(only(method, [.GET, .HEAD])
                ?? WebResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: ByteBuffer(string: backend.metrics())))
        case let parts where parts.count == 2 && parts[0] == "static":
            return loop.makeSucceededFuture(get(method, page: parts[1]))
        case let parts where parts.count == 1 && Self.isRoomName(parts[0]):
            return loop.makeSucceededFuture(get(method, page: "viewer.html"))
        case let parts where parts.count == 2 && parts[1] == "whep" && Self.isRoomName(parts[0]):
            if let refused = only(method, [.POST]) { return loop.makeSucceededFuture(refused) }
            return offer(room: parts[0], head: head, body: body, on: loop)
        case let parts where parts.count == 3 && parts[1] == "whep" && Self.isRoomName(parts[0]):
            if method == .PATCH {
                // No trickle ICE: the answer already holds every candidate (RFC 9725 §4.3.1).
                return loop.makeSucceededFuture(.text(.methodNotAllowed, "this server does not take trickled candidates", headers: ["Allow": "DELETE"]))
            }
            if let refused = only(method, [.DELETE]) { return loop.makeSucceededFuture(refused) }
            let ended = backend.endSession(room: parts[0], id: parts[2])
            return loop.makeSucceededFuture(ended ? WebResponse(status: .ok, headers: Self.cors) : .text(.notFound, "no such session", headers: Self.cors))
        default:
            return loop.makeSucceededFuture(.text(.notFound, "not found"))
        }
    }

    /// Room names as the RTSP side takes them: one path segment of letters, digits, - _ .
    public static func isRoomName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// WHEP players on other origins (as MediaMTX allows them).
    static let cors: HTTPHeaders = ["Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Location"]

    private func preflight() -> WebResponse {
        var headers = Self.cors
        headers.add(name: "Access-Control-Allow-Methods", value: "GET, POST, DELETE, OPTIONS")
        headers.add(name: "Access-Control-Allow-Headers", value: "Content-Type, Authorization")
        return WebResponse(status: .noContent, headers: headers)
    }

    private func only(_ method: HTTPMethod, _ allowed: [HTTPMethod]) -> WebResponse? {
        allowed.contains(method) ? nil : .text(.methodNotAllowed, "\(method.rawValue) is not allowed here",
                                               headers: ["Allow": allowed.map(\.rawValue).joined(separator: ", ")])
    }

    private func get(_ method: HTTPMethod, page name: String) -> WebResponse {
        if let refused = only(method, [.GET, .HEAD]) { return refused }
        guard let file = files[name] else { return .text(.notFound, "not found") }
        var headers: HTTPHeaders = ["Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"]
        if file.contentType.hasPrefix("text/html") {
            // Only the server's own scripts run; user text reaches pages as text, never markup.
            headers.add(name: "Content-Security-Policy",
                        value: "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; img-src 'self' data: blob:")
        }
        return WebResponse(status: .ok, contentType: file.contentType, body: file.bytes, headers: headers)
    }

    private func roomList() -> WebResponse {
        let rooms = backend.liveRooms().map { room -> [String: Any] in
            ["name": room.name, "viewers": ["rtsp": room.rtspViewers, "webrtc": room.webrtcViewers],
             "since": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: room.since)),
             "page": "/" + room.name, "rtsp": room.rtspURL]
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["rooms": rooms], options: [.sortedKeys])) ?? Data("{\"rooms\":[]}".utf8)
        return WebResponse(status: .ok, contentType: "application/json", body: ByteBuffer(bytes: data), headers: ["Cache-Control": "no-store"])
    }

    private func offer(room: String, head: HTTPRequestHead, body: ByteBuffer?, on loop: EventLoop) -> EventLoopFuture<WebResponse> {
        guard let body else { return loop.makeSucceededFuture(.text(.payloadTooLarge, "an offer is at most \(Self.maxBodyBytes) bytes", headers: Self.cors)) }
        let type = head.headers.first(name: "Content-Type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/sdp" else {
            return loop.makeSucceededFuture(.text(.unsupportedMediaType, "a WHEP offer is application/sdp", headers: Self.cors))
        }
        guard let sdp = body.getString(at: body.readerIndex, length: body.readableBytes), !sdp.isEmpty else {
            return loop.makeSucceededFuture(.text(.badRequest, "bad offer: the body is not UTF-8 SDP", headers: Self.cors))
        }
        let promise = loop.makePromise(of: WebResponse.self)
        backend.offer(room: room, sdp: sdp) { answer in
            switch answer {
            case let .answer(id, text):
                var headers = Self.cors
                headers.add(name: "Location", value: "/\(room)/whep/\(id)")
                headers.add(name: "Cache-Control", value: "no-store")
                promise.succeed(WebResponse(status: .created, contentType: "application/sdp", body: ByteBuffer(string: text), headers: headers))
            case let .refused(status, reason):
                var headers = Self.cors
                if status == 503 { headers.add(name: "Retry-After", value: "10") }
                promise.succeed(.text(HTTPResponseStatus(statusCode: status), reason, headers: headers))
            }
        }
        return promise.futureResult
    }
}
