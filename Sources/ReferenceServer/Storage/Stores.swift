import Foundation

/// The storage the handlers need, as protocols shaped by what they ask (not by tables), so that
/// another database (PostgreSQL) can be added beside SQLite without touching a handler.
package struct Storage: Sendable {
    package var users: any UserStore
    package var sessions: any SessionStore
    package var audit: any AuditStore
    package var packs: any PackStore
    package var campaigns: any CampaignStore
    package var characters: any CharacterStore
    package var play: any PlayStore
    package var content: any ContentStore
    package var media: any MediaStore
    /// Locks by key around work that is not one transaction (see ``KeyedLocking``).
    package var locks: any KeyedLocking
    /// Word of new log entries between instances (PostgreSQL); nil with one instance (SQLite).
    package var doorbell: (any CampaignDoorbell)?
    /// Answers when the database does (readiness).
    package var ping: @Sendable () async throws -> Void
    /// Closes the database cleanly (at shutdown).
    package var close: @Sendable () async throws -> Void

    package init(users: any UserStore, sessions: any SessionStore, audit: any AuditStore, packs: any PackStore, campaigns: any CampaignStore,
                characters: any CharacterStore, play: any PlayStore, content: any ContentStore, media: any MediaStore,
                locks: any KeyedLocking = KeyedLock(), doorbell: (any CampaignDoorbell)? = nil,
                ping: @escaping @Sendable () async throws -> Void, close: @escaping @Sendable () async throws -> Void) {
        self.users = users
        self.sessions = sessions
        self.audit = audit
        self.packs = packs
        self.campaigns = campaigns
        self.characters = characters
        self.play = play
        self.content = content
        self.media = media
        self.locks = locks
        self.doorbell = doorbell
        self.ping = ping
        self.close = close
    }
}

/// Mutual exclusion by key, for a check and the change it decides where they cannot be one
/// transaction because bytes outside the database are written between (a media file and its
/// record), or because what is written is read first from elsewhere (a pack's texts for search).
/// One holder of a key at a time, the others waiting in turn; other keys go on. With SQLite (one
/// instance) the locks are the process's (``KeyedLock``); with PostgreSQL they are the database's,
/// so they hold across instances.
package protocol KeyedLocking: Sendable {
    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T
}

/// What a store refuses.
package enum StoreError: Error, Equatable, Sendable {
    /// A unique value (a username) is taken.
    case conflict(field: String)
    /// The record changed or vanished meanwhile.
    case notFound
    /// The record is no longer at the version the change was based on.
    case versionMismatch(current: Int)
    /// A stored counter (a log's sequence, a version, a session number) is at the largest value
    /// it can hold, so the change that would go past it is not stored. Only a damaged or hostile
    /// database gets there; it is answered 500, never a trap.
    case exhausted(field: String)
}

public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case player
    case gameMaster = "game_master"
    case contentDesigner = "content_designer"
    case admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

package struct UserRecord: Sendable, Equatable {
    package var id: String
    package var username: String
    package var email: String?
    package var passwordHash: String
    package var roles: [Role]
    package var createdAt: Date
    /// Failed logins since the last success, and when the latest was.
    package var failedLogins: Int
    package var lastFailedLoginAt: Date?

    package init(id: String, username: String, email: String?, passwordHash: String, roles: [Role], createdAt: Date,
                failedLogins: Int = 0, lastFailedLoginAt: Date? = nil) {
        self.id = id
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.roles = roles
        self.createdAt = createdAt
        self.failedLogins = failedLogins
        self.lastFailedLoginAt = lastFailedLoginAt
    }
}

package protocol UserStore: Sendable {
    /// Stores a new user; `StoreError.conflict(field: "username")` when the name is taken
    /// (names compare without case).
    func create(_ user: UserRecord) async throws
    func user(id: String) async throws -> UserRecord?
    func user(username: String) async throws -> UserRecord?
    /// Users ordered by id, after `cursor` (an id).
    func users(after cursor: String?, limit: Int) async throws -> [UserRecord]
    /// Replaces the roles; refuses (`conflict(field: "roles")`) to leave no admin at all.
    func setRoles(_ roles: [Role], userId: String) async throws -> UserRecord
    func setPasswordHash(_ hash: String, userId: String) async throws
    /// Deletes the user with their sessions; refuses to delete the last admin.
    func delete(userId: String) async throws
    func recordFailedLogin(userId: String, at: Date) async throws
    func clearFailedLogins(userId: String) async throws
}

package struct SessionRecord: Sendable, Equatable {
    package var id: String
    package var userId: String
    package var createdAt: Date
    package var lastUsedAt: Date
    package var expiresAt: Date
    package var revokedAt: Date?
    package var revokeReason: String?
    package var userAgent: String?
    package var address: String?

    package init(id: String, userId: String, createdAt: Date, lastUsedAt: Date, expiresAt: Date, revokedAt: Date? = nil,
                revokeReason: String? = nil, userAgent: String?, address: String?) {
        self.id = id
        self.userId = userId
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.revokeReason = revokeReason
        self.userAgent = userAgent
        self.address = address
    }

    package func isActive(at now: Date) -> Bool { revokedAt == nil && expiresAt > now }
}

/// What presenting a refresh token did.
package enum RefreshOutcome: Sendable, Equatable {
    /// The token was current: it is now used, and `session` continues with the new one.
    case rotated(SessionRecord)
    /// The token had been used before: its whole session (the token family) is now revoked.
    case reused(SessionRecord)
    /// The session has ended (revoked or expired).
    case ended(SessionRecord)
    /// No such token.
    case unknown
}

package protocol SessionStore: Sendable {
    /// Starts a session with its first refresh token (stored as a hash only).
    func create(_ session: SessionRecord, refreshTokenHash: String) async throws
    func session(id: String) async throws -> SessionRecord?
    /// The session when it is active and belongs to `userId`, with its user as stored now (one
    /// read: this is on every authenticated request).
    func activeSession(id: String, userId: String, at now: Date) async throws -> (session: SessionRecord, user: UserRecord)?
    /// In one transaction: checks the presented token, marks it used, stores its successor and
    /// extends the session to `expiresAt(session)`, or, on reuse, revokes the session. A session
    /// whose new end is not after `now` (its absolute lifetime is over) is `ended`, unchanged.
    func refresh(tokenHash: String, successorHash: String, at now: Date,
                 expiresAt: @Sendable (SessionRecord) -> Date) async throws -> RefreshOutcome
    /// Revokes one session; false when it was not active.
    func revoke(sessionId: String, reason: String, at now: Date) async throws -> Bool
    /// Revokes every active session of a user but `except`; returns how many.
    func revokeAll(userId: String, except: String?, reason: String, at now: Date) async throws -> Int
    /// The user's active sessions, newest first.
    func activeSessions(userId: String, at now: Date) async throws -> [SessionRecord]
}

package struct AuditEvent: Sendable, Equatable {
    package var sequence: Int64
    package var at: Date
    package var action: String
    package var actor: String?
    package var target: String?
    package var address: String?
    package var requestId: String?
    package var details: [String: String]
    package var previousHash: String
    package var hash: String
}

/// An event to append: the store gives it its sequence, time and hashes.
package struct NewAuditEvent: Sendable {
    package var action: String
    package var actor: String?
    package var target: String?
    package var address: String?
    package var requestId: String?
    package var details: [String: String]

    package init(action: String, actor: String? = nil, target: String? = nil, address: String? = nil, requestId: String? = nil,
                details: [String: String] = [:]) {
        self.action = action
        self.actor = actor
        self.target = target
        self.address = address
        self.requestId = requestId
        self.details = details
    }
}

package struct AuditFilter: Sendable {
    package var action: String?
    package var actor: String?
    package var since: Date?
    package var until: Date?
    package init(action: String? = nil, actor: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.action = action
        self.actor = actor
        self.since = since
        self.until = until
    }
}

/// The outcome of checking the audit chain.
public struct AuditVerification: Sendable, Equatable {
    public var events: Int
    /// The last event's hash: record it elsewhere to detect a later truncation.
    public var head: String
    /// Each problem: the sequence where the chain breaks and why.
    public var problems: [String]
    public var isIntact: Bool { problems.isEmpty }
}

package protocol AuditStore: Sendable {
    /// Appends an event, chained to the previous one by its hash.
    @discardableResult
    func append(_ event: NewAuditEvent) async throws -> AuditEvent
    /// Events oldest first, after `cursor` (a sequence), matching `filter`.
    func events(_ filter: AuditFilter, after cursor: Int64?, limit: Int) async throws -> [AuditEvent]
    /// Recomputes the chain from the first event.
    func verify() async throws -> AuditVerification
}
