import NIOCore
import NIOHTTP1

/// One HTTP response, whole (every body this server sends is small).
public struct WebResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, contentType: String? = nil, body: ByteBuffer = ByteBuffer(), headers: HTTPHeaders = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
        if let contentType { self.headers.replaceOrAdd(name: "Content-Type", value: contentType) }
    }

    /// A plain-text answer: a status and a line saying why.
    public static func text(_ status: HTTPResponseStatus, _ line: String, headers: HTTPHeaders = [:]) -> WebResponse {
        WebResponse(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: line + "\n"), headers: headers)
    }
}
