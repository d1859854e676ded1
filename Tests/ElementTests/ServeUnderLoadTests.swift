import ChatIRC
import Foundation
import ProcessSupport
import Locking
import XCTest

/// `chatcast serve` loaded the way a popular room loads it: what the metrics scraper and a
/// rush of browsers must not take from chat and from starting viewers.
final class ServeUnderLoadTests: XCTestCase {
    private func chatFile() -> String {
        let path = NSTemporaryDirectory() + "chatcast-load-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: path, contents: Data("dave: hello\n".utf8))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A server whose #lobby a test ball publishes to, watched by `count` RTSP viewers for
    /// `seconds`; returns once /metrics counts them all.
    private func lobbyWatched(by count: Int, seconds: Int, extra: [String] = [], environment: [String: String] = [:]) throws
        -> (VideoServer, Background, Background) {
        let server = try VideoServer(extra: extra, environment: environment)
        let publisher = try publishTestBall(to: server.url("lobby"), chatFile: chatFile(), seconds: 2 * seconds)
        do {
            try server.waitLive("lobby")
            let viewers = try Background(python([Paths.interop + "/rtsp_viewers.py", "127.0.0.1", String(server.rtspPort),
                                                 "/lobby", String(count), "0", String(seconds)]), name: "viewers")
            do {
                try eventually("\(count) RTSP viewers", timeout: 60) {
                    metric(httpRequest("GET", server.web + "/metrics").body, "chatcast_viewers{protocol=\"rtsp\"}") == Double(count)
                }
            } catch { viewers.stop(); throw error }
            return (server, publisher, viewers)
        } catch { publisher.stop(); throw error }
    }

    /// Milliseconds from sending each of `count` lines to hearing its echo (stamped as the
    /// client hears it, not when the test looks).
    private func roundTrips(_ client: IRCClient, _ heard: Arrivals, count: Int, tag: String) throws -> [Double] {
        var times: [Double] = []
        for n in 0..<count {
            let text = "\(tag)-\(n)"
            let sent = DispatchTime.now().uptimeNanoseconds
            client.send(room: "lobby", text: text)
            try eventually("the echo of \(text)", timeout: 10) { heard.time(of: text) != nil }
            times.append(Double((heard.time(of: text) ?? sent) - sent) / 1e6)
            Thread.sleep(forTimeInterval: 0.05)
        }
        return times.sorted()
    }

    private func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }

    func testMetricsScrapedFiftyTimesASecondLeaveChatRoundTripsAloneWithThirtyTwoViewers() throws {
        let (server, publisher, viewers) = try lobbyWatched(by: 32, seconds: 60,
                                                            extra: ["--max-viewers", "100", "--rate-limit", "1000/1"])
        defer { publisher.stop(); viewers.stop() }
        let heard = Arrivals()
        var options = IRCClient.Options(server: IRCServerAddress(server.irc)!, nick: "timer", rooms: ["lobby"])
        options.echo = true
        let client = IRCClient(options: options) { event in
            switch event {
            case let .message(m, _): heard.arrived(m.text)
            case .joined: heard.arrived("joined")
            default: break
            }
        }
        client.start()
        defer { client.stop() }
        try eventually("in #lobby") { heard.time(of: "joined") != nil }

        let quiet = try roundTrips(client, heard, count: 40, tag: "quiet")
        let scraper = try Background(python([Paths.interop + "/metrics_scraper.py", server.web + "/metrics", "50", "8"]),
                                     name: "scraper")
        Thread.sleep(forTimeInterval: 0.5)
        let scraped = try roundTrips(client, heard, count: 40, tag: "scraped")
        XCTAssertTrue(scraper.finish(within: 30))
        let report = try XCTUnwrap(jsonObjects(scraper.stdout).first, scraper.stderr)
        let rate = report["rate"] as? Double ?? 0
        XCTAssertGreaterThan(rate, 40, "the scraper kept up its 50 a second: \(report)")
        XCTAssertEqual(report["failed"] as? Int, 0, "\(report)")
        let (quietMedian, scrapedMedian) = (percentile(quiet, 0.5), percentile(scraped, 0.5))
        let (quietHigh, scrapedHigh) = (percentile(quiet, 0.9), percentile(scraped, 0.9))
        print("chat round trips with 32 viewers: median \(quietMedian) ms, p90 \(quietHigh) ms; while /metrics was scraped "
              + "\(Int(rate)) times a second: median \(scrapedMedian) ms, p90 \(scrapedHigh) ms")
        XCTAssertLessThan(scrapedMedian, quietMedian + 50, "median round trip \(scrapedMedian) ms while scraped, \(quietMedian) ms before")
        XCTAssertLessThan(scrapedHigh, quietHigh + 50, "90th percentile \(scrapedHigh) ms while scraped, \(quietHigh) ms before")
    }

    /// glibc allows 8 malloc arenas a core, and memory freed in one is kept for it: `serve`'s
    /// hundreds of short-lived streaming threads made RSS creep in the soak while malloc's in-use
    /// bytes stayed flat under the same churn. One arena a core, unless MALLOC_ARENA_MAX says otherwise.
    func testStreamingThreadsShareOneMallocArenaPerCore() throws {
        let limit = max(2, ProcessInfo.processInfo.activeProcessorCount)
        let ours = try arenaHeapsUnderViewers(environment: [:])
        XCTAssertLessThan(ours.heaps, limit, "\(ours.heaps) arena heaps besides the main one for \(ours.threads) threads "
                          + "on \(limit) cores")
        guard limit < 8 else { return }
        let asked = try arenaHeapsUnderViewers(environment: ["MALLOC_ARENA_MAX": "8"])
        XCTAssertTrue((limit...7).contains(asked.heaps), "MALLOC_ARENA_MAX=8 kept: \(asked.heaps) heaps for \(asked.threads) threads")
    }

    /// Arenas are read from the process's map: each but the main one is a heap of its own at a
    /// 64 MiB boundary. glibc gives each new thread a new arena until the limit is reached.
    private func arenaHeapsUnderViewers(environment: [String: String]) throws -> (heaps: Int, threads: Int) {
        let (server, publisher, viewers) = try lobbyWatched(by: 16, seconds: 20, environment: environment)
        defer { publisher.stop(); viewers.stop() }
        let pid = server.background.process.processIdentifier
        let status = try procFile("/proc/\(pid)/status")
        let threads = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
            .flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        XCTAssertGreaterThan(threads, 16, "enough threads to use 8 arenas")
        let maps = try procFile("/proc/\(pid)/maps")
        let heaps = maps.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 5, fields[1] == "rw-p", let start = UInt64(fields[0].split(separator: "-")[0], radix: 16)
            else { return false }
            return start % (64 << 20) == 0
        }.count
        return (heaps, threads)
    }

    /// A /proc file read to its end (they say their size is 0; Foundation then reads one page).
    private func procFile(_ path: String) throws -> String {
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: path), path)
        defer { try? handle.close() }
        var data = Data()
        while let chunk = try handle.read(upToCount: 65536), !chunk.isEmpty { data.append(chunk) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Browsers arriving all at once (a room announced in chat) are answered on a worker of
    /// their own that never waits: the rooms' pacer, which feeds starting viewers every 10
    /// ms, keeps its time meanwhile.
    func testSixtyFourWHEPOffersAtOnceLeaveThePacerOnTime() throws {
        let server = try VideoServer(extra: ["--max-viewers", "200"])
        let publisher = try publishTestBall(to: server.url("lobby"), chatFile: chatFile(), seconds: 120)
        defer { publisher.stop() }
        try server.waitLive("lobby")
        let offer = try String(contentsOfFile: Paths.repo.appendingPathComponent("Tests/fixtures/web/chromium-offer.sdp").path, encoding: .utf8)
        let before = metric(httpRequest("GET", server.web + "/metrics").body, "chatcast_pacer_late_ticks_total") ?? 0

        let statuses = Statuses()
        let answered = DispatchGroup()
        let whep = server.web + "/lobby/whep"
        for _ in 0..<64 {
            answered.enter()
            Thread.detachNewThread {
                let status = httpRequest("POST", whep, body: offer, contentType: "application/sdp", timeout: 90).status
                statuses.list.withLock { $0.append(status) }
                answered.leave()
            }
        }
        // Meanwhile viewers start, again and again: their catch-up is the pacer's work.
        let viewers = try Background(python([Paths.interop + "/rtsp_viewers.py", "127.0.0.1", String(server.rtspPort), "/lobby",
                                             "4", "4", "10"]), name: "viewers")
        defer { viewers.stop() }
        XCTAssertEqual(answered.wait(timeout: .now() + 120), .success, "64 offers answered")
        XCTAssertTrue(viewers.finish(within: 60))
        let codes = statuses.list.withLock { $0 }
        XCTAssertEqual(codes.filter { $0 == 201 }.count, 64, "every offer answered with a session: \(codes)")
        let metrics = httpRequest("GET", server.web + "/metrics").body
        let late = (metric(metrics, "chatcast_pacer_late_ticks_total") ?? 0) - before
        let gap = metric(metrics, "chatcast_pacer_longest_gap_seconds") ?? 0
        print("64 WHEP offers at once: \(Int(late)) late pacer ticks, longest gap \(gap) s")
        XCTAssertLessThanOrEqual(late, 2, "pacer ticks 50 ms or more late during the rush (longest gap \(gap) s)")
        XCTAssertLessThan(gap, 0.25, "the pacer's longest gap")
    }
}

private final class Statuses: Sendable {
    let list = Mutex<[Int]>([])
}

/// When each chat line was heard (uptime nanoseconds).
private final class Arrivals: Sendable {
    private let times = Mutex<[String: UInt64]>([:])
    func arrived(_ text: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        times.withLock { $0[text] = now }
    }
    func time(of text: String) -> UInt64? { times.withLock { $0[text] } }
}
