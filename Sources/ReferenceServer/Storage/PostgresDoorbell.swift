import Foundation
import Logging
import PostgresNIO

/// The doorbell over PostgreSQL's `LISTEN`/`NOTIFY`: a ring is a notification on one channel
/// naming the ringing instance, the sequence and the campaign; each instance listens on one
/// connection of its own and ignores its own rings. PostgreSQL delivers a notification only
/// after its transaction commits, to every connection listening then: what a listener misses
/// while it reconnects, the instance reads from the log (``DoorbellRing/listening``).
struct PostgresDoorbell: CampaignDoorbell {
    static let channel = "rfl_campaign_log"
    let database: PostgresPool
    /// This instance, told apart from the others on the channel.
    let instance = UUID().uuidString.lowercased()

    func ring(campaignId: String, sequence: Int64) async throws {
        let payload = Self.payload(instance: instance, campaignId: campaignId, sequence: sequence)
        try await database.read { connection in try await connection.run("SELECT pg_notify(\(Self.channel), \(payload))") }
    }

    func listen(_ heard: @escaping @Sendable (DoorbellRing) async -> Void) async throws {
        while true {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        await heard(.listening)
                        for try await notification in notifications {
                            guard let ring = Self.ring(notification.payload), ring.instance != instance else { continue }
                            await heard(.entry(campaignId: ring.campaignId, sequence: ring.sequence))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                database.logger.warning("the campaign log's doorbell stopped listening; listening again", metadata: ["error": "\(error)"])
            }
            // Ended (the connection closed) or failed: listen again after a pause.
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// `INSTANCE SEQUENCE CAMPAIGN`: the campaign last, whatever it holds.
    static func payload(instance: String, campaignId: String, sequence: Int64) -> String {
        "\(instance) \(sequence) \(campaignId)"
    }

    static func ring(_ payload: String) -> (instance: String, campaignId: String, sequence: Int64)? {
        let parts = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let sequence = Int64(parts[1]), !parts[2].isEmpty else { return nil }
        return (String(parts[0]), String(parts[2]), sequence)
    }
}
