import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request, waited for: the status and the body as text (status 0 when the server
/// could not be reached).
func httpRequest(_ method: String, _ url: String, body: String? = nil, contentType: String? = nil,
                 timeout: TimeInterval = 20) -> (status: Int, body: String, headers: [String: String]) {
    var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
    request.httpMethod = method
    if let body { request.httpBody = Data(body.utf8) }
    if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    let done = DispatchSemaphore(value: 0)
    let result = HTTPResult()
    URLSession.shared.dataTask(with: request) { data, response, _ in
        let http = response as? HTTPURLResponse
        result.set(http?.statusCode ?? 0, data.map { String(decoding: $0, as: UTF8.self) } ?? "",
                   (http?.allHeaderFields as? [String: String]) ?? [:])
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + timeout + 1)
    return result.value
}

private final class HTTPResult: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (Int, String, [String: String]) = (0, "", [:])
    func set(_ status: Int, _ body: String, _ headers: [String: String]) { lock.withLock { stored = (status, body, headers) } }
    var value: (status: Int, body: String, headers: [String: String]) { lock.withLock { stored } }
}

/// The value of a Prometheus sample, `name{labels}` exactly as the text shows it.
func metric(_ text: String, _ sample: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1))
    }
    return nil
}
