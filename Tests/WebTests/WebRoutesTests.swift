import ChatCastHTTP
import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

/// Every path of the web server and what it answers, with a stand-in for the video and chat
/// servers behind it.
final class WebRoutesTests: XCTestCase {
    final class Backend: WebBackend, @unchecked Sendable {
        var rooms = [LiveRoom(name: "lobby", rtspViewers: 2, webrtcViewers: 1, since: 1_764_560_000, rtspURL: "rtsp://h:8554/lobby")]
        var offers: [(String, String)] = []
        var ended: [(String, String)] = []
        var answer = WHEPAnswer.answer(id: "abc123", sdp: "v=0\r\nanswer\r\n")
        func liveRooms() -> [LiveRoom] { rooms }
        func offer(room: String, sdp: String, completion: @escaping @Sendable (WHEPAnswer) -> Void) {
            offers.append((room, sdp))
            completion(answer)
        }
        func endSession(room: String, id: String) -> Bool {
            ended.append((room, id))
            return id == "abc123"
        }
        func metrics() -> String { "# TYPE chatcast_rooms_live gauge\nchatcast_rooms_live 1\n" }
        func addChatHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {}
    }

    private let loop = EmbeddedEventLoop()
    private let backend = Backend()
    private lazy var routes = WebRoutes(files: StaticFiles(files: [
        "rooms.html": .init(bytes: ByteBuffer(string: "<h1>rooms</h1>"), contentType: "text/html; charset=utf-8"),
        "viewer.html": .init(bytes: ByteBuffer(string: "<h1>viewer</h1>"), contentType: "text/html; charset=utf-8"),
        "viewer.js": .init(bytes: ByteBuffer(string: "// js"), contentType: "text/javascript; charset=utf-8"),
    ]), backend: backend)

    private func request(_ method: HTTPMethod, _ uri: String, body: String? = "", headers: HTTPHeaders = [:]) throws -> WebResponse {
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
        return try routes.respond(to: head, body: body.map { ByteBuffer(string: $0) }, on: loop).wait()
    }

    private func body(_ response: WebResponse) -> String { String(buffer: response.body) }

    func testPagesAndFiles() throws {
        XCTAssertEqual(body(try request(.GET, "/")), "<h1>rooms</h1>")
        let page = try request(.GET, "/lobby")
        XCTAssertEqual(body(page), "<h1>viewer</h1>", "every room has the viewer page")
        XCTAssertNotNil(page.headers.first(name: "Content-Security-Policy"), "pages run only the server's scripts")
        XCTAssertEqual(try request(.GET, "/static/viewer.js").headers.first(name: "Content-Type"), "text/javascript; charset=utf-8")
        for missing in ["/static/nope.js", "/static/../Package.swift", "/a/b/c", "/%2e%2e", "/lobby/other", "/" + String(repeating: "r", count: 65)] {
            XCTAssertEqual(try request(.GET, missing).status, .notFound, missing)
        }
        XCTAssertEqual(try request(.GET, "/lobby?x=1").status, .ok, "a query is not part of the path")
        XCTAssertEqual(try request(.POST, "/lobby").status, .methodNotAllowed)
    }

    func testRoomListAsJSON() throws {
        let response = try request(.GET, "/api/rooms")
        XCTAssertEqual(response.headers.first(name: "Content-Type"), "application/json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body(response).utf8)) as? [String: Any])
        let room = try XCTUnwrap((json["rooms"] as? [[String: Any]])?.first)
        XCTAssertEqual(room["name"] as? String, "lobby")
        XCTAssertEqual(room["page"] as? String, "/lobby")
        XCTAssertEqual(room["rtsp"] as? String, "rtsp://h:8554/lobby")
        XCTAssertEqual(room["viewers"] as? [String: Int], ["rtsp": 2, "webrtc": 1])
        XCTAssertEqual(room["since"] as? String, "2025-12-01T03:33:20Z")
    }

    func testWHEPOfferAnswerAndDelete() throws {
        let created = try request(.POST, "/lobby/whep", body: "v=0\r\noffer\r\n", headers: ["Content-Type": "application/sdp"])
        XCTAssertEqual(created.status, .created)
        XCTAssertEqual(created.headers.first(name: "Location"), "/lobby/whep/abc123")
        XCTAssertEqual(created.headers.first(name: "Content-Type"), "application/sdp")
        XCTAssertEqual(created.headers.first(name: "Access-Control-Expose-Headers"), "Location", "WHEP players on other origins read it")
        XCTAssertEqual(body(created), "v=0\r\nanswer\r\n")
        XCTAssertEqual(backend.offers.first?.0, "lobby")
        XCTAssertEqual(try request(.DELETE, "/lobby/whep/abc123").status, .ok)
        XCTAssertEqual(try request(.DELETE, "/lobby/whep/other").status, .notFound)
        XCTAssertEqual(try request(.PATCH, "/lobby/whep/abc123").status, .methodNotAllowed, "no trickle ICE")
        XCTAssertEqual(try request(.GET, "/lobby/whep").status, .methodNotAllowed)
        XCTAssertEqual(try request(.OPTIONS, "/lobby/whep").status, .noContent, "CORS preflight")
    }

    func testWHEPRefusalsCarryTheirStatus() throws {
        let sdp: HTTPHeaders = ["Content-Type": "application/sdp"]
        XCTAssertEqual(try request(.POST, "/lobby/whep", body: "v=0", headers: ["Content-Type": "text/plain"]).status, .unsupportedMediaType)
        XCTAssertEqual(try request(.POST, "/lobby/whep", body: "", headers: sdp).status, .badRequest, "an empty offer")
        XCTAssertEqual(try request(.POST, "/lobby/whep", body: nil, headers: sdp).status, .payloadTooLarge, "over the body limit")
        XCTAssertEqual(try request(.POST, "/lobby/whep", body: "v=0", headers: ["Content-Type": "application/SDP; charset=utf-8"]).status, .created)
        for (status, reason) in [(400, "bad offer: x"), (404, "#lobby is not live"), (503, "this server has its 64 viewers")] {
            backend.answer = .refused(status: status, reason: reason)
            let refused = try request(.POST, "/lobby/whep", body: "v=0", headers: sdp)
            XCTAssertEqual(refused.status.code, UInt(status))
            XCTAssertEqual(body(refused), reason + "\n")
            if status == 503 { XCTAssertEqual(refused.headers.first(name: "Retry-After"), "10") }
        }
    }

    func testMetricsArePrometheusText() throws {
        let metrics = try request(.GET, "/metrics")
        XCTAssertEqual(metrics.headers.first(name: "Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(body(metrics).contains("chatcast_rooms_live 1"))
    }

    func testRoomNames() {
        for good in ["lobby", "a", "Room-1_x.y", String(repeating: "r", count: 64)] { XCTAssertTrue(WebRoutes.isRoomName(good), good) }
        for bad in ["", ".", "..", "a b", "é", "a/b", "#lobby", String(repeating: "r", count: 65), "<script>"] {
            XCTAssertFalse(WebRoutes.isRoomName(bad), bad)
        }
    }
}
