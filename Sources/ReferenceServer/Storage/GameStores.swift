import Foundation

// The game's storage: packs as content, campaigns with their members and invitations,
// characters, play sessions and each campaign's log. Protocols shaped by the handlers, as in
// Stores.swift.

// MARK: - Packs

/// One published version of a pack. Its XML never changes once stored.
package struct PackRecord: Sendable, Equatable {
    package var id: String
    package var version: String
    package var sha256: String
    package var size: Int
    /// Titles by language, and the pack's own language.
    package var titles: [String: String]
    package var language: String
    /// Requirements as written, such as `core >=1.0.0 <2.0.0`.
    package var requires: [String]
    package var uploadedBy: String?
    package var uploadedAt: Date
    package var retiredAt: Date?
    /// Installed from the server's bundled rulesets rather than uploaded.
    package var bundled: Bool

    package init(id: String, version: String, sha256: String, size: Int, titles: [String: String], language: String, requires: [String],
                uploadedBy: String?, uploadedAt: Date, retiredAt: Date? = nil, bundled: Bool) {
        self.id = id
        self.version = version
        self.sha256 = sha256
        self.size = size
        self.titles = titles
        self.language = language
        self.requires = requires
        self.uploadedBy = uploadedBy
        self.uploadedAt = uploadedAt
        self.retiredAt = retiredAt
        self.bundled = bundled
    }
}

package protocol PackStore: Sendable {
    /// Stores a new version; `StoreError.conflict(field: "version")` when that id and version
    /// exist already (published versions are immutable).
    func publish(_ record: PackRecord, xml: [UInt8]) async throws
    func pack(id: String, version: String) async throws -> PackRecord?
    func xml(id: String, version: String) async throws -> [UInt8]?
    /// Every version, by id then upload order; one id's only when `id` is given.
    func packs(id: String?, includeRetired: Bool) async throws -> [PackRecord]
    /// Marks a version retired (no new campaign may pin it); `StoreError.notFound`.
    func retire(id: String, version: String, at: Date) async throws -> PackRecord
}

// MARK: - Campaigns

package struct PinnedPack: Sendable, Hashable, Codable {
    package var id: String
    package var version: String
    package init(id: String, version: String) {
        self.id = id
        self.version = version
    }
}

/// A member's part in one campaign (independent of their account's roles).
package enum CampaignRole: String, Sendable, Codable, CaseIterable {
    case gameMaster = "game_master"
    case player
}

package struct CampaignRecord: Sendable, Equatable {
    package var id: String
    package var name: String
    package var ownerId: String
    /// The pack versions its rules come from, in load order.
    package var packs: [PinnedPack]
    package var createdAt: Date
    package var archivedAt: Date?

    package init(id: String, name: String, ownerId: String, packs: [PinnedPack], createdAt: Date, archivedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.ownerId = ownerId
        self.packs = packs
        self.createdAt = createdAt
        self.archivedAt = archivedAt
    }
}

package struct MemberRecord: Sendable, Equatable {
    package var campaignId: String
    package var userId: String
    package var username: String
    package var role: CampaignRole
    package var joinedAt: Date
}

package struct InvitationRecord: Sendable, Equatable {
    package var id: String
    package var campaignId: String
    package var createdBy: String
    package var createdAt: Date
    package var expiresAt: Date
    package var maxUses: Int
    package var uses: Int
    package var revokedAt: Date?

    package init(id: String, campaignId: String, createdBy: String, createdAt: Date, expiresAt: Date, maxUses: Int, uses: Int = 0,
                revokedAt: Date? = nil) {
        self.id = id
        self.campaignId = campaignId
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.uses = uses
        self.revokedAt = revokedAt
    }
}

/// What presenting an invitation code did.
package enum InvitationOutcome: Sendable, Equatable {
    case joined(CampaignRecord, CampaignEvent)
    case alreadyMember(CampaignRecord)
    /// Expired, used up or revoked.
    case ended
    case archived
    case unknown
}

package protocol CampaignStore: Sendable {
    /// Stores a campaign with its creator as its game master.
    func create(_ campaign: CampaignRecord) async throws
    func campaign(id: String) async throws -> CampaignRecord?
    /// The campaigns a user is a member of, newest first, with their part in each.
    func campaigns(memberId: String) async throws -> [(campaign: CampaignRecord, role: CampaignRole)]
    func role(campaignId: String, userId: String) async throws -> CampaignRole?
    /// The campaign with the user's part in it, when they are a member (one read).
    func membership(campaignId: String, userId: String) async throws -> (campaign: CampaignRecord, role: CampaignRole)?
    func members(campaignId: String) async throws -> [MemberRecord]
    /// Removes a member; `conflict(field: "role")` for the last game master, `notFound`. With
    /// `revokingInvitations`, the campaign's open invitations end too (a removed player does not
    /// come back with an old code).
    /// The change and its `log` event are one transaction, as with every change below that logs.
    func removeMember(campaignId: String, userId: String, revokingInvitations: Bool, log: NewCampaignEvent) async throws -> CampaignEvent
    /// Archives the campaign (once: the event is logged when it was not archived before).
    func archive(campaignId: String, at: Date, log: NewCampaignEvent) async throws -> (campaign: CampaignRecord, event: CampaignEvent?)
    /// Stores an invitation under the hash of its code (the code itself is never stored).
    func createInvitation(_ invitation: InvitationRecord, codeHash: String) async throws
    /// In one transaction: checks the invitation, counts the use, adds the member and logs `log`.
    func acceptInvitation(codeHash: String, userId: String, at: Date, log: NewCampaignEvent) async throws -> InvitationOutcome
}

// MARK: - Characters

/// An item, condition or other modifier source applied to a character, with the rounds it has
/// left (nil: until removed).
package struct AppliedSource: Sendable, Hashable, Codable {
    package var id: String
    package var remaining: Int?
    package init(id: String, remaining: Int?) {
        self.id = id
        self.remaining = remaining
    }
}

package struct CharacterRecord: Sendable, Equatable {
    package var id: String
    package var campaignId: String
    package var ownerId: String
    package var name: String
    /// Base values set by the player, by qualified id.
    package var stats: [String: Int64]
    package var sources: [AppliedSource]
    /// Increases with every change; the ETag is derived from it.
    package var version: Int
    package var createdAt: Date
    package var updatedAt: Date

    package init(id: String, campaignId: String, ownerId: String, name: String, stats: [String: Int64], sources: [AppliedSource], version: Int,
                createdAt: Date, updatedAt: Date) {
        self.id = id
        self.campaignId = campaignId
        self.ownerId = ownerId
        self.name = name
        self.stats = stats
        self.sources = sources
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package protocol CharacterStore: Sendable {
    /// Each change and its `log` event are one transaction.
    func create(_ character: CharacterRecord, log: NewCampaignEvent) async throws -> CampaignEvent
    func character(id: String) async throws -> CharacterRecord?
    func characters(campaignId: String) async throws -> [CharacterRecord]
    /// Replaces the character when its stored version is still `expectedVersion`, storing it
    /// as the next version; `StoreError.versionMismatch` otherwise, `notFound`.
    func update(_ character: CharacterRecord, expectedVersion: Int, log: NewCampaignEvent) async throws -> (character: CharacterRecord, event: CampaignEvent)
    func delete(id: String, expectedVersion: Int, log: NewCampaignEvent) async throws -> CampaignEvent
}

// MARK: - Play

/// A play session: the server's secret seed, committed to by its SHA-256 before the first roll
/// and revealed when the session ends.
package struct PlaySessionRecord: Sendable, Equatable {
    package var id: String
    package var campaignId: String
    /// 1, 2, … within the campaign.
    package var number: Int
    /// 32 random bytes as 64 hex digits; secret until `endedAt`.
    package var serverSeed: String
    /// SHA-256 of the server seed's bytes, hex.
    package var commitment: String
    package var clientSeed: String
    package var startedAt: Date
    package var endedAt: Date?
    /// Rolls and checks made so far: the next one's nonce.
    package var rolls: Int

    package init(id: String, campaignId: String, number: Int, serverSeed: String, commitment: String, clientSeed: String, startedAt: Date,
                endedAt: Date? = nil, rolls: Int = 0) {
        self.id = id
        self.campaignId = campaignId
        self.number = number
        self.serverSeed = serverSeed
        self.commitment = commitment
        self.clientSeed = clientSeed
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.rolls = rolls
    }
}

/// One entry of a campaign's log: a roll, a check, or something that happened to the table.
/// `sequence` orders a campaign's entries without gaps.
package struct CampaignEvent: Sendable, Equatable {
    package var campaignId: String
    package var sequence: Int64
    package var at: Date
    /// `roll`, `check`, `session.started`, `session.ended`, `session.client_seed`,
    /// `member.joined`, `member.left`, `character.created`, `character.updated`,
    /// `character.deleted`, `campaign.archived`.
    package var kind: String
    package var actorId: String?
    package var characterId: String?
    package var sessionId: String?
    /// The roll's position in its session (the nonce of its seed).
    package var nonce: Int?
    /// The event's content as JSON (for rolls and checks, the engine's result with its seed).
    package var payload: String
}

package struct NewCampaignEvent: Sendable {
    package var kind: String
    package var actorId: String?
    package var characterId: String?
    package var payload: String
    package init(kind: String, actorId: String?, characterId: String? = nil, payload: String) {
        self.kind = kind
        self.actorId = actorId
        self.characterId = characterId
        self.payload = payload
    }
}

package struct CampaignEventFilter: Sendable {
    package var kind: String?
    package var characterId: String?
    package var sessionId: String?
    package init(kind: String? = nil, characterId: String? = nil, sessionId: String? = nil) {
        self.kind = kind
        self.characterId = characterId
        self.sessionId = sessionId
    }
}

/// What asking for a roll did.
package enum PlayOutcome: Sendable, Equatable {
    case recorded(CampaignEvent)
    /// The same idempotency key and request came before: the entry stored then.
    case replayed(CampaignEvent)
    /// The idempotency key came before with a different request.
    case keyReused
    /// The campaign has no open play session.
    case noSession
    /// The campaign was archived.
    case archived
}

/// The request behind a roll, for idempotency: who asked, under which key, and a hash of what.
package struct IdempotencyClaim: Sendable {
    package var key: String
    package var requestHash: String
    package init(key: String, requestHash: String) {
        self.key = key
        self.requestHash = requestHash
    }
}

package protocol PlayStore: Sendable {
    /// Starts a session; `conflict(field: "session")` when one is open. Logs `session.started`.
    func startSession(_ session: PlaySessionRecord, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent)
    func openSession(campaignId: String) async throws -> PlaySessionRecord?
    func session(id: String) async throws -> PlaySessionRecord?
    func sessions(campaignId: String) async throws -> [PlaySessionRecord]
    /// Sets the client seed of an open session; `conflict` when it has ended, `notFound`.
    func setClientSeed(_ seed: String, sessionId: String, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent)
    /// Ends a session (revealing its seed); `conflict` when it has ended already.
    func endSession(id: String, actorId: String, at: Date) async throws -> (PlaySessionRecord, CampaignEvent)
    /// In one transaction: answers a repeated idempotency key from the log, or takes the open
    /// session's next nonce, lets `make` compute the entry with it, and appends it.
    func play(campaignId: String, actorId: String, idempotency: IdempotencyClaim?,
              make: @Sendable (PlaySessionRecord, Int) throws -> NewCampaignEvent) async throws -> PlayOutcome
    /// Appends an event outside play (membership, characters, archiving).
    @discardableResult
    func append(campaignId: String, _ event: NewCampaignEvent) async throws -> CampaignEvent
    /// The sequence of the campaign's newest entry (0 when none).
    func newestSequence(campaignId: String) async throws -> Int64
    /// Entries oldest first, after `cursor` (a sequence).
    func events(campaignId: String, _ filter: CampaignEventFilter, after cursor: Int64?, limit: Int) async throws -> [CampaignEvent]
}
