import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// Prometheus metrics for the process, in one registry served at /metrics: the server's own
/// (live sockets, database timings) are made with its factory directly. Hummingbird's request
/// counters and latency histograms (by route, method and status) go through swift-metrics'
/// global system, which the executable bootstraps with the same factory at start
/// (``bootstrapMetricsSystem()``); a library does not take over a process's globals by itself.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The registry's factory, with the server's histogram buckets.
    public let factory: PrometheusMetricsFactory

    /// The process's metrics: every server in one process (as in the tests) shares them.
    public static let shared = ServerMetrics()

    private init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5),
        ]
        self.factory = factory
    }

    /// Points swift-metrics' global system at this registry, once per process (a second call
    /// does nothing): for the executable at start, and for tests that read Hummingbird's request
    /// metrics.
    public static func bootstrapMetricsSystem() {
        _ = bootstrapped
    }
    private static let bootstrapped: Void = MetricsSystem.bootstrap(shared.factory)

    /// The text exposition format.
    public func exposition() -> String { registry.emitToString() }

    /// Open live sockets.
    static func liveConnections(delta: Int) {
        liveGauge.record(Double(liveCount.withLock { count in
            count += delta
            return count
        }))
    }
    private static let liveCount = Mutex<Int>(0)
    private static let liveGauge = CoreMetrics.Gauge(label: "rfl_live_connections", factory: shared.factory)

    /// The statement timers, made once: every statement is timed, so finding its timer must
    /// cost nothing.
    private static let statementTimers: [String: CoreMetrics.Timer] = Dictionary(uniqueKeysWithValues: ["select", "insert", "update", "delete", "other"].map {
        ($0, CoreMetrics.Timer(label: "rfl_db_statement_duration", dimensions: [("statement", $0)], factory: shared.factory))
    })

    /// Records how long one database statement took, by its kind (SELECT, INSERT, …), read
    /// from the first word of its text.
    static func recordStatement(_ sql: UnsafePointer<CChar>, nanoseconds: Int64) {
        statementTimers[statementKind(sql)]?.recordNanoseconds(nanoseconds)
    }

    /// `select`, `insert`, `update`, `delete` or `other`: the kind of a statement of SQL.
    static func statementKind(_ sql: UnsafePointer<CChar>) -> String {
        var word: UInt64 = 0
        var index = 0
        // Past leading white space, up to six letters, lowercased, packed into one number.
        while sql[index] == 0x20 || sql[index] == 0x0A || sql[index] == 0x09 || sql[index] == 0x0D { index += 1 }
        for offset in 0..<6 {
            let byte = UInt8(bitPattern: sql[index + offset])
            guard byte != 0 else { break }
            word = word << 8 | UInt64(byte | 0x20)
        }
        return switch word {
        case Self.select: "select"
        case Self.insert: "insert"
        case Self.update: "update"
        case Self.delete: "delete"
        default: "other"
        }
    }

    private static func packed(_ word: String) -> UInt64 { word.utf8.reduce(0) { $0 << 8 | UInt64($1) } }
    private static let select = packed("select")
    private static let insert = packed("insert")
    private static let update = packed("update")
    private static let delete = packed("delete")
}
