import ContentPacks
import Foundation
import Mechanics
import OpenAPIRuntime

/// Campaigns, members and invitations. Membership itself is checked before these run
/// (``AccessMiddleware`` and ``CampaignAccessMiddleware``, from ``AccessPolicy``); what depends on the object (its owner, the
/// campaign being archived) is checked here.
extension API {
    static func campaign(_ record: CampaignRecord, role: CampaignRole) -> Components.Schemas.Campaign {
        Components.Schemas.Campaign(id: record.id, name: record.name, owner: record.ownerId,
                                    packs: record.packs.map { .init(id: $0.id, version: $0.version) }, createdAt: record.createdAt,
                                    archived: record.archivedAt != nil, archivedAt: record.archivedAt,
                                    role: role == .gameMaster ? .gameMaster : .player)
    }

    /// The campaign of a request whose membership was checked.
    func campaignRecord(_ id: String) async throws -> CampaignRecord {
        if let access = CampaignAccess.current, access.campaign.id == id { return access.campaign }
        guard let record = try await storage.campaigns.campaign(id: id) else { throw Problem.notFound(.campaignNotFound) }
        return record
    }

    /// The campaign, refusing when it is archived (nothing new happens in it).
    func activeCampaign(_ id: String) async throws -> CampaignRecord {
        let record = try await campaignRecord(id)
        guard record.archivedAt == nil else { throw Problem.conflict(.campaignArchived) }
        return record
    }

    /// The principal's part in a campaign (membership was checked by the middleware).
    func campaignRole(_ campaignId: String) async throws -> CampaignRole {
        if let access = CampaignAccess.current, access.campaign.id == campaignId { return access.role }
        guard let role = try await storage.campaigns.role(campaignId: campaignId, userId: try principal.user.id) else {
            throw Problem.notFound(.campaignNotFound)
        }
        return role
    }

    /// An event for the campaign's log (membership, characters, archiving), by the signed-in
    /// user; the store appends it in the transaction of the change it records.
    func logged(_ kind: String, character: String? = nil, _ fields: [String: String]) -> NewCampaignEvent {
        NewCampaignEvent(kind: kind, actorId: RequestInfo.current?.principal?.user.id, characterId: character, payload: SQLiteGameSchema.json(fields))
    }

    /// Sends a stored event to the campaign's live sockets, rendered once for all of them, and
    /// returns it as a log entry.
    @discardableResult
    func published(_ event: CampaignEvent, commitment: String? = nil) async throws -> Components.Schemas.LogEntry {
        let logged = try await entry(event, commitment: commitment)
        LiveEventPublisher(hub: services.live).publish(logged, event: event)
        return logged
    }

    func listCampaigns(_ input: Operations.ListCampaigns.Input) async throws -> Operations.ListCampaigns.Output {
        let campaigns = try await storage.campaigns.campaigns(memberId: try principal.user.id)
        return .ok(.init(body: .json(.init(items: campaigns.map { Self.campaign($0.campaign, role: $0.role) }))))
    }

    func createCampaign(_ input: Operations.CreateCampaign.Input) async throws -> Operations.CreateCampaign.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let principal = try principal
        let pinned: [PinnedPack]
        do {
            pinned = try await services.packs.resolve(requested: body.packs.map { ($0.id, $0.version) })
            _ = try await services.packs.ruleset(pinned)
        } catch let problem as PackLibrary.ResolutionProblem {
            throw Problem.unprocessable(problem.field, .packsUnresolved, ["reason": problem.message])
        }
        let record = CampaignRecord(id: UUID().uuidString.lowercased(), name: body.name, ownerId: principal.user.id, packs: pinned, createdAt: Date())
        try await storage.campaigns.create(record)
        try await audit("campaign.created", target: record.id, ["packs": pinned.map { "\($0.id)@\($0.version)" }.joined(separator: ",")])
        return .created(.init(body: .json(Self.campaign(record, role: .gameMaster))))
    }

    func getCampaign(_ input: Operations.GetCampaign.Input) async throws -> Operations.GetCampaign.Output {
        let record = try await campaignRecord(input.path.campaignId)
        return .ok(.init(body: .json(Self.campaign(record, role: try await campaignRole(record.id)))))
    }

    func archiveCampaign(_ input: Operations.ArchiveCampaign.Input) async throws -> Operations.ArchiveCampaign.Output {
        let before = try await campaignRecord(input.path.campaignId)
        let (record, event) = try await storage.campaigns.archive(campaignId: before.id, at: Date(), log: logged("campaign.archived", [:]))
        if let event {
            try await audit("campaign.archived", target: record.id)
            try await published(event)
        }
        return .ok(.init(body: .json(Self.campaign(record, role: .gameMaster))))
    }

    /// The contract's bounds of an invitation's `expires_in` (seconds) and `max_uses`.
    static let invitationLifetimes = 60...2_592_000
    static let invitationUses = 1...100

    func createInvitation(_ input: Operations.CreateInvitation.Input) async throws -> Operations.CreateInvitation.Output {
        let campaign = try await activeCampaign(input.path.campaignId)
        var request: Components.Schemas.InvitationRequest?
        if case .json(let body) = input.body { request = body }
        // The contract's bounds, checked again: an unbounded `expires_in` would make a time no
        // store can hold.
        let lifetime = try request?.expiresIn.map { try Self.bounded($0, Self.invitationLifetimes, field: "/expires_in") }
            ?? configuration.invitationLifetime
        let maxUses = try request?.maxUses.map { try Self.bounded($0, Self.invitationUses, field: "/max_uses") } ?? 1
        let now = Date()
        let code = Self.newRefreshToken().token.replacingOccurrences(of: "rt_", with: "inv_")
        let invitation = InvitationRecord(id: UUID().uuidString.lowercased(), campaignId: campaign.id, createdBy: try principal.user.id, createdAt: now,
                                          expiresAt: now.addingTimeInterval(Double(lifetime)), maxUses: maxUses)
        try await storage.campaigns.createInvitation(invitation, codeHash: Self.tokenHash(code))
        try await audit("invitation.created", target: campaign.id, ["invitation": invitation.id, "max_uses": String(invitation.maxUses)])
        return .created(.init(body: .json(.init(id: invitation.id, code: code, campaign: campaign.id, expiresAt: invitation.expiresAt,
                                                maxUses: invitation.maxUses, path: "/v1/invitations/accept"))))
    }

    func acceptInvitation(_ input: Operations.AcceptInvitation.Input) async throws -> Operations.AcceptInvitation.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let principal = try principal
        let joining = logged("member.joined", ["user": principal.user.id, "username": principal.user.username, "role": "player"])
        switch try await storage.campaigns.acceptInvitation(codeHash: Self.tokenHash(body.code), userId: principal.user.id, at: Date(), log: joining) {
        case .joined(let campaign, let event):
            try await audit("campaign.joined", target: campaign.id)
            try await published(event)
            return .ok(.init(body: .json(Self.campaign(campaign, role: .player))))
        case .alreadyMember(let campaign):
            return .ok(.init(body: .json(Self.campaign(campaign, role: try await campaignRole(campaign.id)))))
        case .archived:
            throw Problem.conflict(.campaignArchived)
        case .ended, .unknown:
            throw Problem.notFound(.invitationInvalid)
        }
    }

    func listMembers(_ input: Operations.ListMembers.Input) async throws -> Operations.ListMembers.Output {
        let members = try await storage.campaigns.members(campaignId: input.path.campaignId)
        return .ok(.init(body: .json(.init(items: members.map { member in
            .init(userId: member.userId, username: member.username, role: member.role == .gameMaster ? .gameMaster : .player, joinedAt: member.joinedAt)
        }))))
    }

    func removeMember(_ input: Operations.RemoveMember.Input) async throws -> Operations.RemoveMember.Output {
        let campaignId = input.path.campaignId
        let userId = input.path.userId
        let principal = try principal
        if userId != principal.user.id, try await campaignRole(campaignId) != .gameMaster { throw Problem.forbidden(.gameMasterOnly) }
        let event: CampaignEvent
        do {
            event = try await storage.campaigns.removeMember(campaignId: campaignId, userId: userId, revokingInvitations: userId != principal.user.id,
                                                             log: logged("member.left", ["user": userId]))
        } catch StoreError.notFound {
            throw Problem.notFound(.memberNotFound)
        } catch StoreError.conflict {
            throw Problem.conflict(.lastGameMaster)
        }
        try await audit("member.removed", target: campaignId, ["user": userId])
        try await published(event)
        return .noContent(.init())
    }
}
