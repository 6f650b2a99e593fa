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
        return try await services.campaigns.campaign(id)
    }

    /// The principal's part in a campaign (membership was checked by the middleware).
    func campaignRole(_ campaignId: String) async throws -> CampaignRole {
        if let access = CampaignAccess.current, access.campaign.id == campaignId { return access.role }
        guard let role = try await services.campaigns.role(of: try principal.user.id, in: campaignId) else { throw GameError.campaignNotFound }
        return role
    }

    func listCampaigns(_ input: Operations.ListCampaigns.Input) async throws -> Operations.ListCampaigns.Output {
        let campaigns = try await services.campaigns.campaigns(memberId: try principal.user.id)
        return .ok(.init(body: .json(.init(items: campaigns.map { Self.campaign($0.campaign, role: $0.role) }))))
    }

    func createCampaign(_ input: Operations.CreateCampaign.Input) async throws -> Operations.CreateCampaign.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let record = try await services.campaigns.create(name: body.name, packs: body.packs.map { ($0.id, $0.version) }, by: try caller)
        return .created(.init(body: .json(Self.campaign(record, role: .gameMaster))))
    }

    func getCampaign(_ input: Operations.GetCampaign.Input) async throws -> Operations.GetCampaign.Output {
        let record = try await campaignRecord(input.path.campaignId)
        return .ok(.init(body: .json(Self.campaign(record, role: try await campaignRole(record.id)))))
    }

    func archiveCampaign(_ input: Operations.ArchiveCampaign.Input) async throws -> Operations.ArchiveCampaign.Output {
        let record = try await services.campaigns.archive(try await campaignRecord(input.path.campaignId), by: try caller)
        return .ok(.init(body: .json(Self.campaign(record, role: .gameMaster))))
    }

    /// The contract's bounds of an invitation's `expires_in` (seconds) and `max_uses`.
    static let invitationLifetimes = 60...2_592_000
    static let invitationUses = 1...100

    func createInvitation(_ input: Operations.CreateInvitation.Input) async throws -> Operations.CreateInvitation.Output {
        var request: Components.Schemas.InvitationRequest?
        if case .json(let body) = input.body { request = body }
        // The contract's bounds, checked again: an unbounded `expires_in` would make a time no
        // store can hold.
        let lifetime = try request?.expiresIn.map { try Self.bounded($0, Self.invitationLifetimes, field: "/expires_in") }
            ?? configuration.invitationLifetime
        let maxUses = try request?.maxUses.map { try Self.bounded($0, Self.invitationUses, field: "/max_uses") } ?? 1
        let (invitation, code) = try await services.campaigns.invite(to: try await campaignRecord(input.path.campaignId), lifetime: lifetime,
                                                                     maxUses: maxUses, by: try caller)
        return .created(.init(body: .json(.init(id: invitation.id, code: code, campaign: invitation.campaignId, expiresAt: invitation.expiresAt,
                                                maxUses: invitation.maxUses, path: "/v1/invitations/accept"))))
    }

    func acceptInvitation(_ input: Operations.AcceptInvitation.Input) async throws -> Operations.AcceptInvitation.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let (campaign, role) = try await services.campaigns.accept(code: body.code, user: try principal.user, by: try caller)
        return .ok(.init(body: .json(Self.campaign(campaign, role: role))))
    }

    func listMembers(_ input: Operations.ListMembers.Input) async throws -> Operations.ListMembers.Output {
        let members = try await services.campaigns.members(campaignId: input.path.campaignId)
        return .ok(.init(body: .json(.init(items: members.map { member in
            .init(userId: member.userId, username: member.username, role: member.role == .gameMaster ? .gameMaster : .player, joinedAt: member.joinedAt)
        }))))
    }

    func removeMember(_ input: Operations.RemoveMember.Input) async throws -> Operations.RemoveMember.Output {
        try await services.campaigns.remove(member: input.path.userId, from: input.path.campaignId,
                                            callerRole: try await campaignRole(input.path.campaignId), by: try caller)
        return .noContent(.init())
    }
}
