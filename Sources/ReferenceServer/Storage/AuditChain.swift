import Foundation
import Mechanics

/// The audit log's hash chain, the same on every engine: what an event's hash covers and how it
/// is computed, so that `audit verify` checks a chain whichever store wrote it.
package enum AuditChain {
    /// The previous hash of the first event.
    static let genesis = String(repeating: "0", count: 64)

    /// The canonical text an event's hash covers: its fields in a fixed order, as JSON.
    static func canonical(sequence: Int64, atMs: Int64, _ event: NewAuditEvent) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("sequence", sequence)
        writer.field("at_ms", atMs)
        writer.field("action", event.action)
        for (key, value) in [("actor", event.actor), ("target", event.target), ("address", event.address), ("request_id", event.requestId)] {
            writer.key(key)
            if let value { writer.value(value) } else { writer.null() }
        }
        writer.key("details")
        writer.beginObject()
        for (key, value) in event.details.sorted(by: { $0.key < $1.key }) { writer.field(key, value) }
        writer.endObject()
        writer.endObject()
        return writer.output
    }

    static func hash(previous: String, canonical: String) -> String {
        Hex.sha256(previous + "\n" + canonical)
    }

    static func detailsJSON(_ details: [String: String]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in details.sorted(by: { $0.key < $1.key }) { writer.field(key, value) }
        writer.endObject()
        return writer.output
    }

    /// Checks a chain read oldest first, one stored event at a time, whatever the rows hold (0,
    /// negative or the largest sequences, details that do not read): this reads a database that
    /// may have been tampered with, and must not trap on it.
    struct Check {
        private var problems: [String] = []
        private var previous = AuditChain.genesis
        /// The previous event's sequence (none before the first), and the one expected next.
        private var last: Int64?
        private var expected: Int64 = 1
        private var count = 0

        /// One stored event; `hashed` is nil when its details are not a JSON object of strings.
        mutating func add(sequence: Int64, atMs: Int64, action: String, actor: String?, target: String?, address: String?, requestId: String?,
                          details hashed: [String: String]?, previousHash: String, hash storedHash: String) {
            count += 1
            if sequence > expected {
                problems.append("event \(sequence): events \(expected) to \(sequence - 1) are missing")
            } else if sequence < expected {
                problems.append("event \(sequence): sequences start at 1")
            }
            if previousHash != previous {
                problems.append("event \(sequence): its previous hash does not match " + (last.map { "event \($0)" } ?? "the start of the chain"))
            }
            // Details that do not read are a problem of the chain, reported with the others.
            if hashed == nil { problems.append("event \(sequence): its details are not a JSON object of strings") }
            let event = NewAuditEvent(action: action, actor: actor, target: target, address: address, requestId: requestId, details: hashed ?? [:])
            let hash = AuditChain.hash(previous: previousHash, canonical: AuditChain.canonical(sequence: sequence, atMs: atMs, event))
            if hash != storedHash { problems.append("event \(sequence): its content does not match its hash (altered)") }
            previous = storedHash
            last = sequence
            // After the largest sequence no event can follow: none is expected.
            let (next, overflow) = sequence.addingReportingOverflow(1)
            expected = overflow ? sequence : next
        }

        var result: AuditVerification { AuditVerification(events: count, head: previous, problems: problems) }
    }
}
