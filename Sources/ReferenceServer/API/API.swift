import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime

/// The handlers of the operations in openapi.yaml. Each reads what the middlewares established
/// (``RequestInfo/current``: who, from where, in which language), does its work through
/// ``Storage``, writes the audit log for what is sensitive, and throws a ``Problem`` for what it
/// refuses.
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

    func audit(_ action: String, actor: String? = nil, target: String? = nil, _ details: [String: String] = [:]) async throws {
        let info = RequestInfo.current
        try await storage.audit.append(NewAuditEvent(action: action, actor: actor ?? info?.principal?.user.id, target: target,
                                                     address: info?.address, requestId: info?.id, details: details))
    }

    static func user(_ record: UserRecord) -> Components.Schemas.User {
        Components.Schemas.User(id: record.id, username: record.username,
                                roles: record.roles.compactMap { Components.Schemas.Role(rawValue: $0.rawValue) },
                                email: record.email, createdAt: record.createdAt)
    }

    static func passwordProblem(_ refusal: PasswordPolicy.Refusal, field: String) -> Problem {
        switch refusal {
        case .tooShort(let minimum): .unprocessable(field, .passwordTooShort, ["min": String(minimum)])
        case .tooLong(let maximum): .unprocessable(field, .passwordTooLong, ["max": String(maximum)])
        case .common: .unprocessable(field, .passwordCommon)
        case .repetitive: .unprocessable(field, .passwordRepetitive)
        case .containsUsername: .unprocessable(field, .passwordContainsUsername)
        case .containsServiceName: .unprocessable(field, .passwordContainsServiceName)
        }
    }

    /// A new random refresh token and the hash that is stored of it.
    static func newRefreshToken() -> (token: String, hash: String) {
        let token = randomToken(prefix: "rt_")
        return (token, tokenHash(token))
    }

    static func tokenHash(_ token: String) -> String {
        Hex.sha256(token)
    }

    func tokens(userId: String, sessionId: String, refreshToken: String) async throws -> Components.Schemas.Tokens {
        Components.Schemas.Tokens(accessToken: try await services.tokens.issue(userId: userId, sessionId: sessionId), refreshToken: refreshToken,
                                  tokenType: .bearer, expiresIn: services.tokens.lifetime)
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
        if let refusal = services.passwordPolicy.check(body.password, username: body.username) {
            throw Self.passwordProblem(refusal, field: "/password")
        }
        let record = UserRecord(id: UUID().uuidString.lowercased(), username: body.username, email: body.email,
                                passwordHash: try await services.hasher.hash(body.password), roles: [.player], createdAt: Date())
        do {
            try await storage.users.create(record)
        } catch StoreError.conflict {
            throw Problem.conflict(.usernameTaken, field: "/username")
        }
        try await audit("user.registered", actor: record.id, target: record.id, ["username": record.username])
        return .created(.init(body: .json(Self.user(record))))
    }

    /// Seconds the account must still wait before its next login attempt: at most the wait
    /// itself, whatever the stored count and time say (a failure stored in the future, by a
    /// clock set back or a damaged row, does not lock the account for longer).
    func backoff(for user: UserRecord, now: Date) -> Int {
        let (excess, overflow) = user.failedLogins.subtractingReportingOverflow(configuration.loginFailuresBeforeBackoff)
        guard !overflow, excess >= 0, let last = user.lastFailedLoginAt else { return 0 }
        let wait = min(configuration.loginBackoffMaximum, 1 << min(excess, 20))
        let remaining = last.addingTimeInterval(Double(wait)).timeIntervalSince(now)
        guard remaining > 0 else { return 0 }
        return remaining < Double(wait) ? Int(remaining.rounded(.up)) : wait
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let info = try info
        let now = Date()
        // The backoff reads its own clock (which tests control).
        let attemptTime = services.now()
        guard let user = try await storage.users.user(username: body.username) else {
            try await services.hasher.verifyNothing(body.password)
            try await audit("auth.login_failed", actor: nil, target: nil, ["username": String(body.username.prefix(64)), "reason": "unknown-user"])
            throw Problem.unauthenticated(.credentialsInvalid)
        }
        let wait = backoff(for: user, now: attemptTime)
        if wait > 0 {
            try await audit("auth.login_refused", actor: nil, target: user.id, ["reason": "backoff", "failures": String(user.failedLogins)])
            throw Problem.rateLimited(.loginBackoff, retryAfter: wait)
        }
        guard try await services.hasher.verify(body.password, hash: user.passwordHash) else {
            try await storage.users.recordFailedLogin(userId: user.id, at: attemptTime)
            try await audit("auth.login_failed", actor: nil, target: user.id,
                            ["reason": "wrong-password", "failures": String(user.failedLogins == .max ? .max : user.failedLogins + 1)])
            throw Problem.unauthenticated(.credentialsInvalid)
        }
        try await storage.users.clearFailedLogins(userId: user.id)
        let refresh = Self.newRefreshToken()
        let session = SessionRecord(id: UUID().uuidString.lowercased(), userId: user.id, createdAt: now, lastUsedAt: now,
                                    expiresAt: now.addingTimeInterval(Double(configuration.refreshTokenLifetime)),
                                    userAgent: info.userAgent, address: info.address)
        try await storage.sessions.create(session, refreshTokenHash: refresh.hash)
        return .ok(.init(body: .json(try await tokens(userId: user.id, sessionId: session.id, refreshToken: refresh.token))))
    }

    func refresh(_ input: Operations.Refresh.Input) async throws -> Operations.Refresh.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let now = Date()
        let successor = Self.newRefreshToken()
        let outcome = try await storage.sessions.refresh(tokenHash: Self.tokenHash(body.refreshToken), successorHash: successor.hash, at: now,
                                                         expiresAt: now.addingTimeInterval(Double(configuration.refreshTokenLifetime)))
        switch outcome {
        case .rotated(let session):
            guard try await storage.users.user(id: session.userId) != nil else { throw Problem.unauthenticated(.refreshInvalid) }
            return .ok(.init(body: .json(try await tokens(userId: session.userId, sessionId: session.id, refreshToken: successor.token))))
        case .reused(let session):
            try await audit("auth.refresh_token_reused", actor: nil, target: session.userId, ["session": session.id])
            try await audit("session.revoked", actor: nil, target: session.userId, ["session": session.id, "reason": "refresh-token-reuse"])
            throw Problem.unauthenticated(.refreshReused)
        case .ended, .unknown:
            throw Problem.unauthenticated(.refreshInvalid)
        }
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let principal = try principal
        if try await storage.sessions.revoke(sessionId: principal.sessionId, reason: "logout", at: Date()) {
            try await audit("session.revoked", target: principal.user.id, ["session": principal.sessionId, "reason": "logout"])
        }
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        .ok(.init(body: .json(Self.user(try principal.user))))
    }

    func changePassword(_ input: Operations.ChangePassword.Input) async throws -> Operations.ChangePassword.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let user = try principal.user
        guard try await services.hasher.verify(body.currentPassword, hash: user.passwordHash) else {
            try await audit("user.password_change_failed", target: user.id, ["reason": "wrong-password"])
            throw Problem.unprocessable("/current_password", .passwordWrong)
        }
        if let refusal = services.passwordPolicy.check(body.newPassword, username: user.username) {
            throw Self.passwordProblem(refusal, field: "/new_password")
        }
        try await storage.users.setPasswordHash(try await services.hasher.hash(body.newPassword), userId: user.id)
        let ended = try await storage.sessions.revokeAll(userId: user.id, except: nil, reason: "password-change", at: Date())
        try await audit("user.password_changed", target: user.id, ["sessions_revoked": String(ended)])
        return .noContent(.init())
    }

    func listSessions(_ input: Operations.ListSessions.Input) async throws -> Operations.ListSessions.Output {
        let principal = try principal
        let sessions = try await storage.sessions.activeSessions(userId: principal.user.id, at: Date())
        let items = sessions.map { session in
            Components.Schemas.Session(id: session.id, createdAt: session.createdAt, lastUsedAt: session.lastUsedAt, expiresAt: session.expiresAt,
                                       userAgent: session.userAgent, address: session.address, current: session.id == principal.sessionId)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func revokeSession(_ input: Operations.RevokeSession.Input) async throws -> Operations.RevokeSession.Output {
        let principal = try principal
        let id = input.path.sessionId
        // Another user's session is answered as missing: its existence is not theirs to learn.
        guard let session = try await storage.sessions.session(id: id), session.userId == principal.user.id,
              try await storage.sessions.revoke(sessionId: id, reason: "revoked-by-user", at: Date()) else {
            throw Problem.notFound(.sessionNotFound)
        }
        try await audit("session.revoked", target: principal.user.id, ["session": id, "reason": "revoked-by-user"])
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
        let limit = Self.pageLimit(input.query.limit)
        let users = try await storage.users.users(after: input.query.cursor, limit: limit + 1)
        let page = users.prefix(limit)
        return .ok(.init(body: .json(.init(items: page.map(Self.user), next: users.count > limit ? page.last?.id : nil))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        guard let user = try await storage.users.user(id: input.path.userId) else { throw Problem.notFound(.userNotFound) }
        return .ok(.init(body: .json(Self.user(user))))
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        let id = input.path.userId
        guard let user = try await storage.users.user(id: id) else { throw Problem.notFound(.userNotFound) }
        do {
            try await storage.users.delete(userId: id)
        } catch StoreError.conflict {
            throw Problem.conflict(.lastAdmin)
        } catch StoreError.notFound {
            throw Problem.notFound(.userNotFound)
        }
        try await audit("user.deleted", target: id, ["username": user.username])
        return .noContent(.init())
    }

    func setRoles(_ input: Operations.SetRoles.Input) async throws -> Operations.SetRoles.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let id = input.path.userId
        guard let before = try await storage.users.user(id: id) else { throw Problem.notFound(.userNotFound) }
        let roles = body.roles.compactMap { Role(rawValue: $0.rawValue) }
        let after: UserRecord
        do {
            after = try await storage.users.setRoles(roles, userId: id)
        } catch StoreError.conflict {
            throw Problem.conflict(.lastAdmin, field: "/roles")
        } catch StoreError.notFound {
            throw Problem.notFound(.userNotFound)
        }
        try await audit("user.roles_changed", target: id, ["from": before.roles.map(\.rawValue).joined(separator: ","),
                                                            "to": after.roles.map(\.rawValue).joined(separator: ",")])
        return .ok(.init(body: .json(Self.user(after))))
    }

    /// The `cursor` of a page of sequences (the audit log, a campaign's log).
    static func sequenceCursor(_ text: String?) throws(Problem) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else { throw Problem.validation("cursor", .cursorInvalid) }
        return value
    }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let query = input.query
        let cursor = try Self.sequenceCursor(query.cursor)
        let limit = Self.pageLimit(query.limit)
        let events = try await storage.audit.events(AuditFilter(action: query.action, actor: query.actor, since: query.since, until: query.until),
                                                    after: cursor, limit: limit + 1)
        let page = events.prefix(limit)
        let items = page.map { event in
            Components.Schemas.AuditEvent(sequence: Int(event.sequence), at: event.at, action: event.action, actor: event.actor, target: event.target,
                                          address: event.address, requestId: event.requestId,
                                          details: .init(additionalProperties: event.details), previousHash: event.previousHash, hash: event.hash)
        }
        return .ok(.init(body: .json(.init(items: items, next: events.count > limit ? page.last.map { String($0.sequence) } : nil))))
    }
}
