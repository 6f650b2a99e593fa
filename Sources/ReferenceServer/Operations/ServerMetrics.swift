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

    /// Records how long one database statement took, by its kind (SELECT, INSERT, …).
    /// Open live sockets, and the messages sent on them.
    static func liveConnections(delta: Int) {
        Gauge(label: "rfl_live_connections").record(Double(liveCount.withLock { count in
            count += delta
            return count
        }))
    }
    private static let liveCount = Mutex<Int>(0)

    static func recordStatement(_ sql: String, nanoseconds: Int64) {
        let kind = sql.prefix { !$0.isWhitespace }.uppercased()
        let label = ["SELECT", "INSERT", "UPDATE", "DELETE"].contains(kind) ? kind.lowercased() : "other"
        Timer(label: "rfl_db_statement_duration", dimensions: [("statement", label)]).recordNanoseconds(nanoseconds)
    }
}
