import Synchronization

/// Mutual exclusion by key, for tasks of one process (SQLite's ``KeyedLocking``): one holder of
/// a key at a time, the others waiting in turn (without a thread), while other keys go on. For a check and the change it decides, where they
/// cannot be one database transaction:
/// - media uploads and deletions take their content's SHA-256, so an upload cannot store its
///   record between a deletion's "last record gone" and that deletion's removal of the bytes,
///   which would leave the new record naming nothing;
/// - re-indexing a pack for search takes the pack's id, so that of two publishes at once the
///   index ends with the newest version, not with whichever reader wrote last.
final class KeyedLock: KeyedLocking {
    /// The held keys, each with its waiters in order of arrival.
    private let held = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func withLock<T>(_ key: String, _ body: () async throws -> T) async rethrows -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: String) async {
        await withCheckedContinuation { continuation in
            let free = held.withLock { held in
                guard held[key] != nil else {
                    held[key] = []
                    return true
                }
                held[key]?.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next = held.withLock { held -> CheckedContinuation<Void, Never>? in
            guard let waiters = held[key], let first = waiters.first else {
                held[key] = nil
                return nil
            }
            held[key] = Array(waiters.dropFirst())
            return first
        }
        next?.resume()
    }

    /// Keys held or waited for (for tests: none once all is done).
    var count: Int { held.withLock { $0.count } }
}
