import NIOHTTP1

/// A response as a client reads it off the wire (RFC 9112), strictly: a status line, header
/// lines of a name, a colon and a value without control characters, an empty line, and the
/// body its Content-Length gives (none for HEAD, 1xx, 204 and 304).
struct Response {
    var version: HTTPVersion
    var status: Int
    var headers: [(name: String, value: String)]
    var closes: Bool { headers.contains { $0.name.lowercased() == "connection" && $0.value.lowercased() == "close" } }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// The responses in `bytes`, the i-th answering `requests[i]` (for HEAD); reading stops
    /// after a 101 (WebSocket frames follow).
    static func read(_ bytes: [UInt8], requests: [RequestSpy.Request]) throws -> [Response] {
        var responses: [Response] = []
        var at = bytes[...]
        while !at.isEmpty {
            guard let headEnd = at.firstRange(of: [13, 10, 13, 10]) else { throw Malformed(description: "a response head without its end") }
            let lines = at[..<headEnd.lowerBound].split(separator: [13, 10], omittingEmptySubsequences: false)
            at = at[headEnd.upperBound...]
            let statusLine = String(decoding: lines[0], as: UTF8.self)
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
                  let status = Int(parts[1]), (100...599).contains(status) else {
                throw Malformed(description: "status line \(statusLine.debugDescription)")
            }
            var response = Response(version: parts[0] == "HTTP/1.1" ? .http1_1 : .http1_0, status: status, headers: [])
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                      line.allSatisfy({ $0 == 9 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                    throw Malformed(description: "header line \(String(decoding: line, as: UTF8.self).debugDescription)")
                }
                response.headers.append((String(decoding: line[..<colon], as: UTF8.self),
                                         String(decoding: line[(colon + 1)...], as: UTF8.self).trimmed(of: " \t")))
            }
            responses.append(response)
            if status == 101 { break }
            let lengths = response.headers.filter { $0.name.lowercased() == "content-length" }.map(\.value)
            guard lengths.count <= 1, let length = lengths.isEmpty ? 0 : Int(lengths[0]), length >= 0 else {
                throw Malformed(description: "Content-Length \(lengths) (status \(status))")
            }
            check(lengths.count == 1 || [204, 304].contains(status), "a \(status) without a Content-Length")
            let isHead = responses.count <= requests.count && requests[responses.count - 1].method == .HEAD
            let bodyLength = isHead || status < 200 || status == 204 || status == 304 ? 0 : length
            guard at.count >= bodyLength else { throw Malformed(description: "a body of \(at.count) bytes, \(length) said") }
            at = at.dropFirst(bodyLength)
        }
        return responses
    }
}

extension String {
    func trimmed(of set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
