import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// Prometheus metrics for the process: swift-metrics bootstrapped once with swift-prometheus's
/// factory, so Hummingbird's request counters and latency histograms (by route, method and
/// status) and the database timings land in one registry, served at /metrics.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// The process's metrics. swift-metrics can be bootstrapped only once per process, so every
    /// server in one process (as in the tests) shares them.
    public static let shared: ServerMetrics = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return ServerMetrics(registry: registry)
    }()

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

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
    private static let liveGauge: CoreMetrics.Gauge = {
        _ = shared
        return Gauge(label: "rfl_live_connections")
    }()

    /// The statement timers, made once (after the bootstrap): every statement is timed, so
    /// finding its timer must cost nothing.
    private static let statementTimers: [String: CoreMetrics.Timer] = {
        _ = shared
        return Dictionary(uniqueKeysWithValues: ["select", "insert", "update", "delete", "other"].map {
            ($0, Timer(label: "rfl_db_statement_duration", dimensions: [("statement", $0)]))
        })
    }()

    /// Records how long one database statement took, by its kind (SELECT, INSERT, …).
    static func recordStatement(_ sql: String, nanoseconds: Int64) {
        let word = sql.utf8.prefix(6).map { $0 | 0x20 }
        let label = switch word {
        case Array("select".utf8): "select"
        case Array("insert".utf8): "insert"
        case Array("update".utf8): "update"
        case Array("delete".utf8): "delete"
        default: "other"
        }
        statementTimers[label]?.recordNanoseconds(nanoseconds)
    }
}
