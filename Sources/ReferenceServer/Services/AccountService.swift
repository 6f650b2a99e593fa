import Foundation

/// What the accounts refuse, in their own terms. The HTTP layer answers each as a problem
/// (``Problem/init(_:requestId:)``); the service never speaks of statuses.
enum AccountError: Error, Equatable, Sendable {
    /// The password policy refuses a new password given at `field`.
    case passwordRefused(field: String, PasswordPolicy.Refusal)
    /// The current password given to change it is not the account's.
    case currentPasswordWrong
    case usernameTaken
    /// An unknown username or a wrong password: the same refusal for both.
    case credentialsInvalid
    /// Too many failed logins: the account must wait this many seconds more.
    case loginBackoff(retryAfter: Int)
    /// A refresh token that is unknown, or whose session has ended.
    case refreshInvalid
    /// A refresh token used a second time: its whole session was revoked.
    case refreshReused
    /// No such session of the caller's (another user's is not theirs to learn of).
    case sessionNotFound
    case userNotFound
    /// The change would leave no admin; `field` names the part of the request at fault, if one.
    case lastAdmin(field: String?)
}

/// Accounts and their sessions: registration under the password policy, logins with a backoff
/// per account after repeated failures, sessions as families of refresh tokens that work once
/// (a token used twice revokes its session), password changes that end every session, and the
/// admins' management of users and their roles, never leaving the server without an admin.
/// Sensitive events go to the audit log. Times come from `now`; access tokens are dated by the
/// token service, on the clock of those who verify them.
struct AccountService: Sendable {
    /// The limits of logins and sessions.
    struct Limits: Sendable {
        /// Failed logins of an account before each next attempt must wait.
        var failuresBeforeBackoff: Int
        /// The longest wait, in seconds.
        var backoffMaximum: Int
        /// Seconds a session lasts without a refresh.
        var refreshTokenLifetime: Int
        /// Seconds a session lasts at most from its sign-in, however often it is refreshed.
        var sessionLifetime: Int

        /// Where a session signed in at `createdAt` ends when used at `time`: a refresh's
        /// lifetime later, but never past its absolute lifetime.
        func sessionEnd(createdAt: Date, usedAt time: Date) -> Date {
            min(time.addingTimeInterval(Double(refreshTokenLifetime)), createdAt.addingTimeInterval(Double(sessionLifetime)))
        }
    }

    /// What a login or a refresh gives the client.
    struct IssuedTokens: Sendable, Equatable {
        var accessToken: String
        var refreshToken: String
        /// Seconds the access token lasts.
        var expiresIn: Int
    }

    let userStore: any UserStore
    let sessionStore: any SessionStore
    let tokens: TokenService
    let hasher: PasswordHasher
    let policy: PasswordPolicy
    let limits: Limits
    let audit: AuditTrail
    let now: @Sendable () -> Date

    // MARK: - Registration and sessions

    /// A new account with the role player, whose password the policy accepts.
    func register(username: String, password: String, email: String?, by caller: Caller) async throws -> UserRecord {
        if let refusal = policy.check(password, username: username) { throw AccountError.passwordRefused(field: "/password", refusal) }
        let record = UserRecord(id: UUID().uuidString.lowercased(), username: username, email: email,
                                passwordHash: try await hasher.hash(password), roles: [.player], createdAt: now())
        do {
            try await userStore.create(record)
        } catch StoreError.conflict {
            throw AccountError.usernameTaken
        }
        try await audit.record("user.registered", by: caller.acting(as: record.id), target: record.id, ["username": record.username])
        return record
    }

    /// Seconds the account must still wait before its next login attempt at `time`: at most
    /// the wait itself, whatever the stored count and time say (a failure stored in the future,
    /// by a clock set back or a damaged row, does not lock the account for longer).
    func backoff(for user: UserRecord, at time: Date) -> Int {
        let (excess, overflow) = user.failedLogins.subtractingReportingOverflow(limits.failuresBeforeBackoff)
        guard !overflow, excess >= 0, let last = user.lastFailedLoginAt else { return 0 }
        let wait = min(limits.backoffMaximum, 1 << min(excess, 20))
        let remaining = last.addingTimeInterval(Double(wait)).timeIntervalSince(time)
        guard remaining > 0 else { return 0 }
        return remaining < Double(wait) ? Int(remaining.rounded(.up)) : wait
    }

    /// A new session for the right username and password, unless the account must wait. An
    /// unknown username spends the same hashing time as a wrong password and gets the same
    /// refusal.
    func login(username: String, password: String, userAgent: String?, by caller: Caller) async throws -> IssuedTokens {
        let caller = caller.anonymous
        let attempt = now()
        guard let user = try await userStore.user(username: username) else {
            try await hasher.verifyNothing(password)
            try await audit.record("auth.login_failed", by: caller, ["username": String(username.prefix(64)), "reason": "unknown-user"])
            throw AccountError.credentialsInvalid
        }
        let wait = backoff(for: user, at: attempt)
        if wait > 0 {
            try await audit.record("auth.login_refused", by: caller, target: user.id, ["reason": "backoff", "failures": String(user.failedLogins)])
            throw AccountError.loginBackoff(retryAfter: wait)
        }
        guard try await hasher.verify(password, hash: user.passwordHash) else {
            try await userStore.recordFailedLogin(userId: user.id, at: attempt)
            let (failures, overflow) = user.failedLogins.addingReportingOverflow(1)
            try await audit.record("auth.login_failed", by: caller, target: user.id,
                                   ["reason": "wrong-password", "failures": String(overflow ? .max : failures)])
            throw AccountError.credentialsInvalid
        }
        try await userStore.clearFailedLogins(userId: user.id)
        let refresh = Self.newRefreshToken()
        let session = SessionRecord(id: UUID().uuidString.lowercased(), userId: user.id, createdAt: attempt, lastUsedAt: attempt,
                                    expiresAt: limits.sessionEnd(createdAt: attempt, usedAt: attempt),
                                    userAgent: userAgent, address: caller.address)
        try await sessionStore.create(session, refreshTokenHash: refresh.hash)
        return try await issue(userId: user.id, sessionId: session.id, refreshToken: refresh.token)
    }

    /// New tokens for a current refresh token, which is used up. A token presented a second
    /// time means two parties hold it: its whole session is revoked, and that is audited.
    func refresh(token: String, by caller: Caller) async throws -> IssuedTokens {
        let caller = caller.anonymous
        let time = now()
        let successor = Self.newRefreshToken()
        let limits = limits
        let outcome = try await sessionStore.refresh(tokenHash: Hex.sha256(token), successorHash: successor.hash, at: time) { session in
            limits.sessionEnd(createdAt: session.createdAt, usedAt: time)
        }
        switch outcome {
        case .rotated(let session):
            guard try await userStore.user(id: session.userId) != nil else { throw AccountError.refreshInvalid }
            return try await issue(userId: session.userId, sessionId: session.id, refreshToken: successor.token)
        case .reused(let session):
            try await audit.record("auth.refresh_token_reused", by: caller, target: session.userId, ["session": session.id])
            try await audit.record("session.revoked", by: caller, target: session.userId, ["session": session.id, "reason": "refresh-token-reuse"])
            throw AccountError.refreshReused
        case .ended, .unknown:
            throw AccountError.refreshInvalid
        }
    }

    /// Ends the caller's session `sessionId` of `userId` (once: ending an ended one changes nothing).
    func logout(sessionId: String, userId: String, by caller: Caller) async throws {
        if try await sessionStore.revoke(sessionId: sessionId, reason: "logout", at: now()) {
            try await audit.record("session.revoked", by: caller, target: userId, ["session": sessionId, "reason": "logout"])
        }
    }

    /// Replaces the user's password, given the current one, and ends every session of theirs.
    func changePassword(of user: UserRecord, current: String, new: String, by caller: Caller) async throws {
        guard try await hasher.verify(current, hash: user.passwordHash) else {
            try await audit.record("user.password_change_failed", by: caller, target: user.id, ["reason": "wrong-password"])
            throw AccountError.currentPasswordWrong
        }
        if let refusal = policy.check(new, username: user.username) { throw AccountError.passwordRefused(field: "/new_password", refusal) }
        try await userStore.setPasswordHash(try await hasher.hash(new), userId: user.id)
        let ended = try await sessionStore.revokeAll(userId: user.id, except: nil, reason: "password-change", at: now())
        try await audit.record("user.password_changed", by: caller, target: user.id, ["sessions_revoked": String(ended)])
    }

    /// The user's active sessions, newest first.
    func sessions(of userId: String) async throws -> [SessionRecord] {
        try await sessionStore.activeSessions(userId: userId, at: now())
    }

    /// Ends one of the user's own active sessions; any other is not found.
    func revokeSession(_ id: String, of userId: String, by caller: Caller) async throws {
        guard let session = try await sessionStore.session(id: id), session.userId == userId,
              try await sessionStore.revoke(sessionId: id, reason: "revoked-by-user", at: now()) else {
            throw AccountError.sessionNotFound
        }
        try await audit.record("session.revoked", by: caller, target: userId, ["session": id, "reason": "revoked-by-user"])
    }

    // MARK: - Users

    /// Users ordered by id, after `cursor` (an id).
    func users(after cursor: String?, limit: Int) async throws -> Page<UserRecord> {
        try await Page.read(limit: limit) { rows in try await userStore.users(after: cursor, limit: rows) }
    }

    func user(id: String) async throws -> UserRecord {
        guard let user = try await userStore.user(id: id) else { throw AccountError.userNotFound }
        return user
    }

    /// Deletes the account and its sessions, unless it is the last admin.
    func delete(userId id: String, by caller: Caller) async throws {
        let user = try await user(id: id)
        do {
            try await userStore.delete(userId: id)
        } catch StoreError.conflict {
            throw AccountError.lastAdmin(field: nil)
        } catch StoreError.notFound {
            throw AccountError.userNotFound
        }
        try await audit.record("user.deleted", by: caller, target: id, ["username": user.username])
    }

    /// Replaces the user's roles, unless that would leave no admin.
    func setRoles(_ roles: [Role], userId id: String, by caller: Caller) async throws -> UserRecord {
        let before = try await user(id: id)
        let after: UserRecord
        do {
            after = try await userStore.setRoles(roles, userId: id)
        } catch StoreError.conflict {
            throw AccountError.lastAdmin(field: "/roles")
        } catch StoreError.notFound {
            throw AccountError.userNotFound
        }
        try await audit.record("user.roles_changed", by: caller, target: id, ["from": before.roles.map(\.rawValue).joined(separator: ","),
                                                                             "to": after.roles.map(\.rawValue).joined(separator: ",")])
        return after
    }

    // MARK: - Tokens

    /// A new random refresh token and the hash that is stored of it.
    static func newRefreshToken() -> (token: String, hash: String) {
        let token = randomToken(prefix: "rt_")
        return (token, Hex.sha256(token))
    }

    private func issue(userId: String, sessionId: String, refreshToken: String) async throws -> IssuedTokens {
        IssuedTokens(accessToken: try await tokens.issue(userId: userId, sessionId: sessionId), refreshToken: refreshToken, expiresIn: tokens.lifetime)
    }
}
