import Foundation
import Synchronization

/// Token buckets by key (a client address, an account): each holds up to `burst` tokens and
/// refills at `perMinute` a minute; a request takes one. In memory, per process: a deployment
/// with several instances behind one address would share them through a store instead.
package final class RateLimiter: Sendable {
    package let limit: ServerConfiguration.RateLimit
    private let clock: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Above this many keys, full buckets are dropped (they hold nothing worth keeping).
    private let maxKeys: Int

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    /// What taking a token decided, with the values of the `RateLimit-*` headers.
    package struct Decision: Sendable, Equatable {
        package var allowed: Bool
        package var limit: Int
        package var remaining: Int
        /// Seconds until the bucket is full again.
        package var reset: Int
        /// Seconds until a token is available (0 when allowed).
        package var retryAfter: Int
    }

    package init(_ limit: ServerConfiguration.RateLimit, maxKeys: Int = 100_000, clock: @escaping @Sendable () -> Double = RateLimiter.monotonicSeconds) {
        self.limit = limit
        self.clock = clock
        self.maxKeys = maxKeys
    }

    package static let monotonicSeconds: @Sendable () -> Double = {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private var rate: Double { Double(limit.perMinute) / 60 }

    /// Takes a token for `key` when there is one.
    package func take(_ key: String) -> Decision {
        let now = clock()
        let capacity = Double(limit.burst)
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + max(0, now - bucket.updated) * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            if buckets[key] == nil, buckets.count >= maxKeys { Self.purge(&buckets, now: now, rate: rate, capacity: capacity) }
            buckets[key] = bucket
            return Decision(
                allowed: allowed, limit: limit.burst, remaining: Int(bucket.tokens.rounded(.down)),
                reset: Int(((capacity - bucket.tokens) / rate).rounded(.up)),
                retryAfter: allowed ? 0 : max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
        }
    }

    private static func purge(_ buckets: inout [String: Bucket], now: Double, rate: Double, capacity: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rate < capacity }
    }

    /// Keys being tracked (for tests and metrics).
    package var trackedKeys: Int { buckets.withLock { $0.count } }
}
