import Foundation
import HTTPTypes
import Hummingbird

/// What a role may do. Roles grant permissions; routes require them. This file is the one
/// place where either is decided.
package enum Permission: String, Sendable, CaseIterable {
    /// List and read any user's account.
    case usersRead = "users.read"
    /// Change roles and delete accounts.
    case usersManage = "users.manage"
    /// Read the audit log.
    case auditRead = "audit.read"
    /// Publish and retire content packs.
    case packsPublish = "packs.publish"
    /// Create campaigns (and so be their game master).
    case campaignsCreate = "campaigns.create"
}

extension Role {
    /// The permissions each role grants. Beyond them, every signed-in user reaches their own
    /// account and sessions, reads the published packs, joins campaigns by invitation and plays
    /// in the campaigns they are a member of (``Requirement/campaign(_:)``).
    package var permissions: Set<Permission> {
        switch self {
        case .player: []
        case .gameMaster: [.campaignsCreate]
        case .contentDesigner: [.packsPublish]
        case .admin: Set(Permission.allCases)
        }
    }
}

/// What an operation of the OpenAPI document requires.
package enum Requirement: Sendable, Equatable {
    /// Anyone, signed in or not.
    case anyone
    /// Any signed-in user (their own data only: the handlers read the principal's id).
    case signedIn
    /// A signed-in user whose roles grant the permission.
    case permission(Permission)
    /// The user named by a path parameter themselves, or a user with the permission.
    case selfOr(Permission, parameter: String)
    /// A member of the campaign named by the path parameter `campaignId` (everyone else is
    /// answered 404: a campaign's existence is its members' business), or only its game master.
    case campaign(CampaignRequirement)
}

package enum CampaignRequirement: Sendable, Equatable {
    case member
    case gameMaster
}

package enum AccessPolicy {
    /// Every operation's requirement, by operationId. A test checks that every operation of the
    /// document is here and nothing else is.
    package static let requirements: [String: Requirement] = [
        "getHealth": .anyone,
        "getReadiness": .anyone,
        "getMetrics": .anyone,
        "getOpenAPIDocument": .anyone,
        "getDocumentation": .anyone,
        "getKeys": .anyone,
        "getPasswordPolicy": .anyone,
        "register": .anyone,
        "login": .anyone,
        "refresh": .anyone,
        "logout": .signedIn,
        "getMe": .signedIn,
        "changePassword": .signedIn,
        "listSessions": .signedIn,
        "revokeSession": .signedIn,
        "listUsers": .permission(.usersRead),
        "getUser": .selfOr(.usersRead, parameter: "userId"),
        "deleteUser": .permission(.usersManage),
        "setRoles": .permission(.usersManage),
        "listAuditEvents": .permission(.auditRead),
        "listPacks": .signedIn,
        "publishPack": .permission(.packsPublish),
        "getPack": .signedIn,
        "getPackXML": .signedIn,
        "retirePack": .permission(.packsPublish),
        "listCampaigns": .signedIn,
        "createCampaign": .permission(.campaignsCreate),
        "getCampaign": .campaign(.member),
        "archiveCampaign": .campaign(.gameMaster),
        "createInvitation": .campaign(.gameMaster),
        "acceptInvitation": .signedIn,
        "listMembers": .campaign(.member),
        // A member leaves; the game master removes anyone (the handler tells the two apart).
        "removeMember": .campaign(.member),
        "getRuleset": .campaign(.member),
        "listCharacters": .campaign(.member),
        "createCharacter": .campaign(.member),
        "getCharacter": .campaign(.member),
        // Its player or the game master (checked by the handler against the character's owner).
        "updateCharacter": .campaign(.member),
        "deleteCharacter": .campaign(.member),
        "applySource": .campaign(.gameMaster),
        "removeSource": .campaign(.gameMaster),
        "listPlaySessions": .campaign(.member),
        "startPlaySession": .campaign(.gameMaster),
        "getPlaySession": .campaign(.member),
        "setClientSeed": .campaign(.member),
        "endPlaySession": .campaign(.gameMaster),
        "rollDice": .campaign(.member),
        "rollCheck": .campaign(.member),
        "listLog": .campaign(.member),
        // Plain requests are answered 426; the upgrade itself authenticates in the socket.
        "connectLive": .campaign(.member),
        // A campaign named in the body is checked by the handler, as a member.
        "computeOdds": .signedIn,
        // Authenticated by the CMS's shared secret, not by a user.
        "cmsWebhook": .anyone,
        "search": .signedIn,
        "getContent": .signedIn,
        "getLab": .anyone,
        "getLabAsset": .anyone,
        "getPackCatalog": .signedIn,
        "sampleRoll": .signedIn,
        "uploadMedia": .signedIn,
        "listMedia": .signedIn,
        // Ids are random and unguessable; a file is shared by sharing its id (an avatar, a map).
        "getMedia": .signedIn,
        "getMediaLink": .signedIn,
        // The uploader only (checked by the handler).
        "deleteMedia": .signedIn,
    ]

    package static func permissions(of roles: [Role]) -> Set<Permission> {
        roles.reduce(into: Set<Permission>()) { $0.formUnion($1.permissions) }
    }

    /// Throws the problem that refuses the request, if it must be refused. Campaign
    /// requirements are checked by ``CampaignAccessMiddleware`` after this, against the store.
    static func check(_ operationID: String, principal: Principal?, failure: MessageKey?, pathParameters: Parameters) throws(Problem) {
        guard let requirement = requirements[operationID] else {
            // An operation nobody classified is closed to everyone.
            throw Problem.forbidden(.permissionMissing, ["permission": operationID])
        }
        if requirement == .anyone { return }
        guard let principal else { throw Problem.unauthenticated(failure ?? .tokenMissing) }
        let granted = permissions(of: principal.user.roles)
        switch requirement {
        case .anyone, .signedIn, .campaign:
            return
        case .permission(let permission):
            guard granted.contains(permission) else { throw Problem.forbidden(.permissionMissing, ["permission": permission.rawValue]) }
        case .selfOr(let permission, let parameter):
            if pathParameters.get(parameter).map({ $0.removingPercentEncoding ?? $0 }) == principal.user.id || granted.contains(permission) { return }
            throw Problem.forbidden(.notYours)
        }
    }
}

/// The campaign of a campaign route and the caller's part in it, as the permission check found
/// them.
struct CampaignAccess: Sendable {
    let campaign: CampaignRecord
    let role: CampaignRole
    @TaskLocal static var current: CampaignAccess?
}

/// Applies ``AccessPolicy`` to the operation the router chose: refuses a caller who is not
/// signed in (401) or lacks the permission (403) before the body is read or checked.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let operation = context.operation else { return try await next(request, context) }
        let info = RequestInfo.current
        try AccessPolicy.check(operation.id, principal: info?.principal, failure: info?.authenticationFailure, pathParameters: context.parameters)
        return try await next(request, context)
    }
}

/// For the operations of a campaign, the membership the operation requires, read from the store
/// after the request has passed the contract check: a caller who is not a member is answered 404
/// (a campaign's existence is its members' business), a member who is not its game master 403.
/// The handler finds the campaign and the caller's part in it in ``CampaignAccess``.
struct CampaignAccessMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let campaigns: any CampaignStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let operation = context.operation, case .campaign(let level) = AccessPolicy.requirements[operation.id],
              let principal = RequestInfo.current?.principal else {
            return try await next(request, context)
        }
        guard let id = context.parameters.get("campaignId").map({ $0.removingPercentEncoding ?? $0 }),
              let membership = try await campaigns.membership(campaignId: id, userId: principal.user.id) else {
            throw Problem.notFound(.campaignNotFound)
        }
        if level == .gameMaster, membership.role != .gameMaster { throw Problem.forbidden(.gameMasterOnly) }
        return try await CampaignAccess.$current.withValue(CampaignAccess(campaign: membership.campaign, role: membership.role)) {
            try await next(request, context)
        }
    }
}
