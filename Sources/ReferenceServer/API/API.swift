import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime

/// The handlers of the operations in openapi.yaml. Each reads what the middlewares established
/// (``RequestInfo/current``: who, from where, in which language), maps the request to a call of
/// a service (which holds the rules, writes the audit log and throws what it refuses) and maps
/// the result back; what the request itself gets wrong is a ``Problem`` thrown here.
struct API: APIProtocol {
    let services: Services

    var storage: Storage { services.storage }
    var configuration: ServerConfiguration { services.configuration }

    // MARK: - Support

    var info: RequestInfo {
        get throws(Problem) {
            guard let info = RequestInfo.current else { throw Problem.internal(requestId: "none") }
            return info
        }
    }

    /// Who makes this request, for the services.
    var caller: Caller {
        get throws(Problem) {
            let info = try info
            return Caller(userId: info.principal?.user.id, address: info.address, requestId: info.id)
        }
    }

    var principal: Principal {
        get throws(Problem) {
            guard let principal = try info.principal else { throw Problem.unauthenticated(.tokenMissing) }
            return principal
        }
    }

    static func user(_ record: UserRecord) -> Components.Schemas.User {
        Components.Schemas.User(id: record.id, username: record.username,
                                roles: record.roles.compactMap { Components.Schemas.Role(rawValue: $0.rawValue) },
                                email: record.email, createdAt: record.createdAt)
    }

    /// The hash stored of a secret a client presents (a refresh token, an invitation code).
    static func tokenHash(_ token: String) -> String {
        Hex.sha256(token)
    }

    static func tokens(_ issued: AccountService.IssuedTokens) -> Components.Schemas.Tokens {
        Components.Schemas.Tokens(accessToken: issued.accessToken, refreshToken: issued.refreshToken, tokenType: .bearer, expiresIn: issued.expiresIn)
    }

    // MARK: - Operations

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        do {
            try await storage.ping()
        } catch {
            try info.logger.warning("readiness: the database does not answer", metadata: ["error": "\(error)"])
            throw Problem.unavailable()
        }
        return .ok(.init(body: .json(.init(status: "ready", database: "ok",
                                           packs: services.rulesets.packs.map { "\($0.id) \($0.version)" }))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(services.metrics.exposition()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(services.contract.document))))
    }

    func getDocumentation(_ input: Operations.GetDocumentation.Input) async throws -> Operations.GetDocumentation.Output {
        .ok(.init(body: .html(HTTPBody(services.documentationPage))))
    }

    func getKeys(_ input: Operations.GetKeys.Input) async throws -> Operations.GetKeys.Output {
        let keys = services.tokens.jwks.map { key in
            Components.Schemas.KeySet.KeysPayloadPayload(kty: key["kty"] ?? "", kid: key["kid"] ?? "", use: key["use"] ?? "", alg: key["alg"] ?? "",
                                                         crv: key["crv"], x: key["x"], y: key["y"])
        }
        return .ok(.init(body: .json(.init(keys: keys))))
    }

    func register(_ input: Operations.Register.Input) async throws -> Operations.Register.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let record = try await services.accounts.register(username: body.username, password: body.password, email: body.email, by: try caller)
        return .created(.init(body: .json(Self.user(record))))
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let issued = try await services.accounts.login(username: body.username, password: body.password, userAgent: try info.userAgent, by: try caller)
        return .ok(.init(body: .json(Self.tokens(issued))))
    }

    func refresh(_ input: Operations.Refresh.Input) async throws -> Operations.Refresh.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        return .ok(.init(body: .json(Self.tokens(try await services.accounts.refresh(token: body.refreshToken, by: try caller)))))
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let principal = try principal
        try await services.accounts.logout(sessionId: principal.sessionId, userId: principal.user.id, by: try caller)
        return .noContent(.init())
    }

    func getPasswordPolicy(_ input: Operations.GetPasswordPolicy.Input) async throws -> Operations.GetPasswordPolicy.Output {
        let policy = services.accounts.policy
        return .ok(.init(body: .json(.init(minLength: policy.minimumLength, maxLength: policy.maximumLength,
                                           refuses: PasswordPolicy.refusals.compactMap { .init(rawValue: $0) }))))
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        .ok(.init(body: .json(Self.user(try principal.user))))
    }

    func changePassword(_ input: Operations.ChangePassword.Input) async throws -> Operations.ChangePassword.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        try await services.accounts.changePassword(of: try principal.user, current: body.currentPassword, new: body.newPassword, by: try caller)
        return .noContent(.init())
    }

    func listSessions(_ input: Operations.ListSessions.Input) async throws -> Operations.ListSessions.Output {
        let principal = try principal
        let sessions = try await services.accounts.sessions(of: principal.user.id)
        let items = sessions.map { session in
            Components.Schemas.Session(id: session.id, createdAt: session.createdAt, lastUsedAt: session.lastUsedAt, expiresAt: session.expiresAt,
                                       userAgent: session.userAgent, address: session.address, current: session.id == principal.sessionId)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func revokeSession(_ input: Operations.RevokeSession.Input) async throws -> Operations.RevokeSession.Output {
        try await services.accounts.revokeSession(input.path.sessionId, of: try principal.user.id, by: try caller)
        return .noContent(.init())
    }

    static let defaultPageSize = 50
    /// The contract's bounds of `limit` (components/parameters/Limit).
    static let pageSizes = 1...100

    /// A page's size: `limit`, clamped to the contract's bounds. The contract check refuses
    /// a `limit` outside them before a handler runs; this keeps a handler from ever asking for
    /// `Int.max + 1` rows (a trap), a negative count (a trap in `prefix`, no limit at all in
    /// SQLite) or a whole table, should a request reach it unchecked.
    static func pageLimit(_ requested: Int?, default size: Int = defaultPageSize) -> Int {
        min(max(requested ?? size, pageSizes.lowerBound), pageSizes.upperBound)
    }

    /// A whole number of the request, checked against the contract's bounds again before a
    /// handler computes with it (a time from `expires_in`, a duration): 400 naming the field,
    /// as the contract check would.
    static func bounded(_ value: Int, _ range: ClosedRange<Int>, field: String) throws(Problem) -> Int {
        if value < range.lowerBound { throw Problem.validation(field, .fieldMinimum, ["min": String(range.lowerBound)]) }
        if value > range.upperBound { throw Problem.validation(field, .fieldMaximum, ["max": String(range.upperBound)]) }
        return value
    }

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let page = try await services.accounts.users(after: input.query.cursor, limit: Self.pageLimit(input.query.limit))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.user), next: page.more ? page.items.last?.id : nil))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        .ok(.init(body: .json(Self.user(try await services.accounts.user(id: input.path.userId)))))
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        try await services.accounts.delete(userId: input.path.userId, by: try caller)
        return .noContent(.init())
    }

    func setRoles(_ input: Operations.SetRoles.Input) async throws -> Operations.SetRoles.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let roles = body.roles.compactMap { Role(rawValue: $0.rawValue) }
        return .ok(.init(body: .json(Self.user(try await services.accounts.setRoles(roles, userId: input.path.userId, by: try caller)))))
    }

    /// The `cursor` of a page of sequences (the audit log, a campaign's log).
    static func sequenceCursor(_ text: String?) throws(Problem) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else { throw Problem.validation("cursor", .cursorInvalid) }
        return value
    }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let query = input.query
        let page = try await services.auditLog.events(AuditFilter(action: query.action, actor: query.actor, since: query.since, until: query.until),
                                                      after: try Self.sequenceCursor(query.cursor), limit: Self.pageLimit(query.limit))
        let items = page.items.map { event in
            Components.Schemas.AuditEvent(sequence: Int(event.sequence), at: event.at, action: event.action, actor: event.actor, target: event.target,
                                          address: event.address, requestId: event.requestId,
                                          details: .init(additionalProperties: event.details), previousHash: event.previousHash, hash: event.hash)
        }
        return .ok(.init(body: .json(.init(items: items, next: page.more ? page.items.last.map { String($0.sequence) } : nil))))
    }
}
