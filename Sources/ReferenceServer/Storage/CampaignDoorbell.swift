/// Word, between the instances on one database, that a campaign's log has gained an entry. The
/// log stays the truth: a ring only says where to look, and an instance that missed rings (its
/// listener was reconnecting) reads what it has not yet sent from the log. With SQLite there is
/// one instance and no doorbell.
package protocol CampaignDoorbell: Sendable {
    /// Tells the other instances, once the entry is committed.
    func ring(campaignId: String, sequence: Int64) async throws
    /// Until cancelled: `heard` for every ring of another instance, in the order the database
    /// delivers them, and `.listening` each time the listener has (re)started, after which
    /// rings are heard again but those in between may have been missed.
    func listen(_ heard: @escaping @Sendable (DoorbellRing) async -> Void) async throws
}

package enum DoorbellRing: Sendable, Equatable {
    case entry(campaignId: String, sequence: Int64)
    case listening
}
