/// Minimum-cost matching of rows (tracks) to columns (detections) where a pair costing
/// more than `threshold` is never matched — the `lapjv(cost, extend_cost=True,
/// cost_limit=threshold)` call ByteTrack makes, solved with the Hungarian method.
public enum LinearAssignment {
    /// Above this many rows plus columns the cubic solver gives way to a greedy one, so a
    /// crowded frame costs bounded time.
    public static let exactLimit = 400

    public struct Outcome: Equatable {
        public var matches: [(row: Int, column: Int)]
        public var unmatchedRows: [Int]
        public var unmatchedColumns: [Int]

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.matches.map { [$0.row, $0.column] } == b.matches.map { [$0.row, $0.column] }
                && a.unmatchedRows == b.unmatchedRows && a.unmatchedColumns == b.unmatchedColumns
        }
    }

    /// `cost[r][c]`; every row has the same number of columns.
    public static func solve(_ cost: [[Double]], columns: Int, threshold: Double) -> Outcome {
        let rows = cost.count
        guard rows > 0, columns > 0 else {
            return Outcome(matches: [], unmatchedRows: Array(0..<rows), unmatchedColumns: Array(0..<columns))
        }
        let pairs = rows + columns <= exactLimit
            ? hungarian(cost, columns: columns, threshold: threshold) : greedy(cost, columns: columns, threshold: threshold)
        var rowUsed = [Bool](repeating: false, count: rows), columnUsed = [Bool](repeating: false, count: columns)
        var matches: [(row: Int, column: Int)] = []
        for (r, c) in pairs where cost[r][c] <= threshold {
            matches.append((r, c))
            rowUsed[r] = true
            columnUsed[c] = true
        }
        matches.sort { $0.row < $1.row }
        return Outcome(matches: matches, unmatchedRows: (0..<rows).filter { !rowUsed[$0] },
                       unmatchedColumns: (0..<columns).filter { !columnUsed[$0] })
    }

    /// lapjv's extension: an (n+m)-square matrix where leaving a row or a column unmatched
    /// costs threshold/2 each, so a pair is matched only when it costs less than both together.
    private static func hungarian(_ cost: [[Double]], columns m: Int, threshold: Double) -> [(Int, Int)] {
        let n = cost.count, size = n + m
        let forbidden = threshold * 4 + 1e6
        func c(_ i: Int, _ j: Int) -> Double {
            if i < n && j < m { return cost[i][j] > threshold ? forbidden : cost[i][j] }
            if i >= n && j >= m { return 0 }
            return threshold / 2
        }
        // e-maxx formulation, 1-based with a virtual column 0.
        var u = [Double](repeating: 0, count: size + 1), v = u
        var p = [Int](repeating: 0, count: size + 1), way = p
        for i in 1...size {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: size + 1)
            var used = [Bool](repeating: false, count: size + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...size where !used[j] {
                    let cur = c(i0 - 1, j - 1) - u[i0] - v[j]
                    if cur < minv[j] {
                        minv[j] = cur
                        way[j] = j0
                    }
                    if minv[j] < delta {
                        delta = minv[j]
                        j1 = j
                    }
                }
                for j in 0...size {
                    if used[j] {
                        u[p[j]] += delta
                        v[j] -= delta
                    } else {
                        minv[j] -= delta
                    }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var pairs: [(Int, Int)] = []
        for j in 1...size where p[j] >= 1 && p[j] <= n && j <= m { pairs.append((p[j] - 1, j - 1)) }
        return pairs
    }

    /// Cheapest pairs first.
    private static func greedy(_ cost: [[Double]], columns: Int, threshold: Double) -> [(Int, Int)] {
        var candidates: [(Double, Int, Int)] = []
        for (r, row) in cost.enumerated() {
            for c in 0..<columns where row[c] <= threshold { candidates.append((row[c], r, c)) }
        }
        candidates.sort { $0.0 < $1.0 }
        var rowUsed = Set<Int>(), columnUsed = Set<Int>(), pairs: [(Int, Int)] = []
        for (_, r, c) in candidates where !rowUsed.contains(r) && !columnUsed.contains(c) {
            rowUsed.insert(r)
            columnUsed.insert(c)
            pairs.append((r, c))
        }
        return pairs
    }
}
