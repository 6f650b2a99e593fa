import HTTPTypes
import OpenAPIRuntime

/// What a role may do. Roles grant permissions; routes require them. This file is the one
/// place where either is decided.
public enum Permission: String, Sendable, CaseIterable {
    /// List and read any user's account.
    case usersRead = "users.read"
    /// Change roles and delete accounts.
    case usersManage = "users.manage"
    /// Read the audit log.
    case auditRead = "audit.read"
}

extension Role {
    /// The permissions each role grants. Roles without any yet (player, game master, content
    /// designer) reach only what every signed-in user may: their own account and sessions.
    public var permissions: Set<Permission> {
        switch self {
        case .player, .gameMaster, .contentDesigner: []
        case .admin: Set(Permission.allCases)
        }
    }
}

/// What an operation of the OpenAPI document requires.
public enum Requirement: Sendable, Equatable {
    /// Anyone, signed in or not.
    case anyone
    /// Any signed-in user (their own data only: the handlers read the principal's id).
    case signedIn
    /// A signed-in user whose roles grant the permission.
    case permission(Permission)
    /// The user named by a path parameter themselves, or a user with the permission.
    case selfOr(Permission, parameter: String)
}

public enum AccessPolicy {
    /// Every operation's requirement, by operationId. A test checks that every operation of the
    /// document is here and nothing else is.
    public static let requirements: [String: Requirement] = [
        "getHealth": .anyone,
        "getReadiness": .anyone,
        "getMetrics": .anyone,
        "getOpenAPIDocument": .anyone,
        "getDocumentation": .anyone,
        "getKeys": .anyone,
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
    ]

    public static func permissions(of roles: [Role]) -> Set<Permission> {
        roles.reduce(into: Set<Permission>()) { $0.formUnion($1.permissions) }
    }

    /// Throws the problem that refuses the request, if it must be refused.
    static func check(_ operationID: String, principal: Principal?, failure: MessageKey?, pathParameters: [String: Substring]) throws(Problem) {
        guard let requirement = requirements[operationID] else {
            // An operation nobody classified is closed to everyone.
            throw Problem.forbidden(.permissionMissing, ["permission": operationID])
        }
        if requirement == .anyone { return }
        guard let principal else { throw Problem.unauthenticated(failure ?? .tokenMissing) }
        let granted = permissions(of: principal.user.roles)
        switch requirement {
        case .anyone, .signedIn:
            return
        case .permission(let permission):
            guard granted.contains(permission) else { throw Problem.forbidden(.permissionMissing, ["permission": permission.rawValue]) }
        case .selfOr(let permission, let parameter):
            if pathParameters[parameter].map(String.init) == principal.user.id || granted.contains(permission) { return }
            throw Problem.forbidden(.notYours)
        }
    }
}

/// Applies ``AccessPolicy`` to every OpenAPI operation, by its operationId.
struct PermissionMiddleware: ServerMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        let info = RequestInfo.current
        try AccessPolicy.check(operationID, principal: info?.principal, failure: info?.authenticationFailure, pathParameters: metadata.pathParameters)
        return try await next(request, body, metadata)
    }
}
