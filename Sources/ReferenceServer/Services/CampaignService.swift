import ContentPacks
import Foundation

/// The payload of the log's membership entries (`member.joined`, `member.left`): whom they
/// concern. The live sockets read it as this type, not as text.
struct MembershipEntry: Codable, Sendable, Equatable {
    var user: String
    var username: String?
    var role: String?

    var json: String { get throws { try StoredJSON.text(self) } }
}

extension CampaignEvent {
    /// The member a `member.left` entry removed.
    var memberWhoLeft: String? {
        guard kind == "member.left" else { return nil }
        return (try? JSONDecoder().decode(MembershipEntry.self, from: Data(payload.utf8)))?.user
    }
}

/// Campaigns, their members and invitations: a campaign is pinned to pack versions, grows by
/// invitations that expire and run out, and loses members who leave or are removed (never its
/// last game master). Every change to the table is stored with its log entry by the store, then
/// announced to the live sockets. Times come from `now`.
struct CampaignService: Sendable {
    let store: any CampaignStore
    let packs: PackLibrary
    let events: any CampaignEventPublisher
    let audit: AuditTrail
    let now: @Sendable () -> Date

    func campaigns(memberId: String) async throws -> [(campaign: CampaignRecord, role: CampaignRole)] {
        try await store.campaigns(memberId: memberId)
    }

    /// A new campaign of the caller's, as its game master, pinned to the packs asked for (the
    /// newest version of each unless one is named) and what they require.
    func create(name: String, packs requested: [(id: String, version: String?)], by caller: Caller) async throws -> CampaignRecord {
        let pinned: [PinnedPack]
        do {
            pinned = try await packs.resolve(requested: requested)
            _ = try await packs.ruleset(pinned)
        } catch let problem as PackLibrary.ResolutionProblem {
            throw GameError.packsUnresolved(field: problem.field, reason: problem.message)
        }
        let record = CampaignRecord(id: UUID().uuidString.lowercased(), name: name, ownerId: caller.userId ?? "", packs: pinned, createdAt: now())
        try await store.create(record)
        try await audit.record("campaign.created", by: caller, target: record.id, ["packs": pinned.map { "\($0.id)@\($0.version)" }.joined(separator: ",")])
        return record
    }

    /// Archives the campaign (once: archiving an archived campaign changes nothing).
    func archive(_ campaign: CampaignRecord, by caller: Caller) async throws -> CampaignRecord {
        let (record, event) = try await store.archive(campaignId: campaign.id, at: now(),
                                                      log: NewCampaignEvent(kind: "campaign.archived", actorId: caller.userId, payload: "{}"))
        if let event {
            try await audit.record("campaign.archived", by: caller, target: record.id)
            events.publish(event, commitment: nil)
        }
        return record
    }

    /// An invitation to the campaign, lasting `lifetime` seconds, for `maxUses` people; the
    /// code is given once, and only its hash is stored.
    func invite(to campaign: CampaignRecord, lifetime: Int, maxUses: Int, by caller: Caller) async throws -> (invitation: InvitationRecord, code: String) {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let created = now()
        let code = randomToken(prefix: "inv_")
        let invitation = InvitationRecord(id: UUID().uuidString.lowercased(), campaignId: campaign.id, createdBy: caller.userId ?? "", createdAt: created,
                                          expiresAt: created.addingTimeInterval(Double(lifetime)), maxUses: maxUses)
        try await store.createInvitation(invitation, codeHash: Hex.sha256(code))
        try await audit.record("invitation.created", by: caller, target: campaign.id, ["invitation": invitation.id, "max_uses": String(invitation.maxUses)])
        return (invitation, code)
    }

    /// Joins the campaign of an invitation code as a player; a member already is left as they are.
    func accept(code: String, user: UserRecord, by caller: Caller) async throws -> (campaign: CampaignRecord, role: CampaignRole) {
        let entry = MembershipEntry(user: user.id, username: user.username, role: CampaignRole.player.rawValue)
        let joining = NewCampaignEvent(kind: "member.joined", actorId: caller.userId, payload: try entry.json)
        switch try await store.acceptInvitation(codeHash: Hex.sha256(code), userId: user.id, at: now(), log: joining) {
        case .joined(let campaign, let event):
            try await audit.record("campaign.joined", by: caller, target: campaign.id)
            events.publish(event, commitment: nil)
            return (campaign, .player)
        case .alreadyMember(let campaign):
            return (campaign, try await store.role(campaignId: campaign.id, userId: user.id) ?? .player)
        case .archived:
            throw GameError.campaignArchived
        case .ended, .unknown:
            throw GameError.invitationInvalid
        }
    }

    /// A campaign by its id.
    func campaign(_ id: String) async throws -> CampaignRecord {
        guard let record = try await store.campaign(id: id) else { throw GameError.campaignNotFound }
        return record
    }

    /// The user's part in the campaign, or nil when they are not a member (or it does not exist).
    func role(of userId: String, in campaignId: String) async throws -> CampaignRole? {
        try await store.role(campaignId: campaignId, userId: userId)
    }

    func members(campaignId: String) async throws -> [MemberRecord] {
        try await store.members(campaignId: campaignId)
    }

    /// Ends a membership: a member leaves, or the game master (`callerRole`) removes anyone; a
    /// removed player's open invitations end too, so that no old code brings them back.
    func remove(member userId: String, from campaignId: String, callerRole: CampaignRole, by caller: Caller) async throws {
        let leaving = userId == caller.userId
        guard leaving || callerRole == .gameMaster else { throw GameError.gameMasterOnly }
        let event: CampaignEvent
        do {
            event = try await store.removeMember(campaignId: campaignId, userId: userId, revokingInvitations: !leaving,
                                                 log: NewCampaignEvent(kind: "member.left", actorId: caller.userId, payload: MembershipEntry(user: userId).json))
        } catch StoreError.notFound {
            throw GameError.memberNotFound
        } catch StoreError.conflict {
            throw GameError.lastGameMaster
        }
        try await audit.record("member.removed", by: caller, target: campaignId, ["user": userId])
        events.publish(event, commitment: nil)
    }
}
