import Foundation
import GRDB
import GRDBSQLite
import Mechanics
import NIOPosix

/// The embedded default store: one SQLite file through GRDB, in WAL mode with foreign keys on,
/// migrated at open.
package enum SQLiteStorage {
    /// Opens (creating it when missing) and migrates the database at `path`.
    package static func open(path: String) throws -> (storage: Storage, pool: DatabasePool) {
        let pool = try DatabasePool(path: path, configuration: configuration())
        try migrator.migrate(pool)
        let storage = Storage(
            users: SQLiteUserStore(pool: pool),
            sessions: SQLiteSessionStore(pool: pool),
            audit: SQLiteAuditStore(pool: pool),
            packs: SQLitePackStore(pool: pool),
            campaigns: SQLiteCampaignStore(pool: pool),
            characters: SQLiteCharacterStore(pool: pool),
            play: SQLitePlayStore(pool: pool),
            content: SQLiteContentStore(pool: pool),
            media: SQLiteMediaStore(pool: pool),
            ping: { _ = try pool.readHere { db in try Int.fetchOne(db, sql: "SELECT 1") } },
            close: { try pool.close() })
        return (storage, pool)
    }

    static func configuration() -> GRDB.Configuration {
        var configuration = GRDB.Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // WAL is DatabasePool's own mode; NORMAL sync is durable in WAL mode across a process
            // crash (not across power loss of the last transactions), the usual server choice.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Every statement's duration goes to the metrics, by kind: SQLite's own profile
            // hook, which reads the first word of the statement's text in place (GRDB's trace
            // would copy and trim the whole text of every statement first).
            sqlite3_trace_v2(db.sqliteConnection, UInt32(SQLITE_TRACE_PROFILE), profileStatement, nil)
        }
        return configuration
    }

    /// The schema's history. Migrations are only ever added.
    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1-accounts-sessions-audit") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY NOT NULL,
                    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    email TEXT,
                    password_hash TEXT NOT NULL,
                    roles TEXT NOT NULL,
                    created_at_ms INTEGER NOT NULL,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    last_failed_login_at_ms INTEGER
                );
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    created_at_ms INTEGER NOT NULL,
                    last_used_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL,
                    revoked_at_ms INTEGER,
                    revoke_reason TEXT,
                    user_agent TEXT,
                    address TEXT
                );
                CREATE INDEX sessions_by_user ON sessions(user_id, created_at_ms);
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                    created_at_ms INTEGER NOT NULL,
                    used_at_ms INTEGER
                );
                CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);
                CREATE TABLE audit_events (
                    sequence INTEGER PRIMARY KEY NOT NULL,
                    at_ms INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    actor TEXT,
                    target TEXT,
                    address TEXT,
                    request_id TEXT,
                    details TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE INDEX audit_by_action ON audit_events(action, sequence);
                CREATE INDEX audit_by_actor ON audit_events(actor, sequence);
                -- Append-only: the application never changes or removes an event.
                CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        migrator.registerMigration("2-packs-campaigns-characters-play", migrate: SQLiteGameSchema.create)
        migrator.registerMigration("3-content-search", migrate: SQLiteContentSchema.create)
        migrator.registerMigration("4-media", migrate: SQLiteMediaSchema.create)
        migrator.registerMigration("5-content-order", migrate: SQLiteContentOrderSchema.create)
        return migrator
    }

    /// Milliseconds since 1970, the stored form of every time (``StoredTime``).
    static func ms(_ date: Date) -> Int64 { StoredTime.ms(date) }
    static func ms(_ date: Date, rounding rule: FloatingPointRoundingRule) -> Int64 { StoredTime.ms(date, rounding: rule) }
    static func date(_ ms: Int64) -> Date { StoredTime.date(ms) }
    static func date(_ ms: Int64?) -> Date? { StoredTime.date(ms) }

    /// Runs `body`, answering a write that a UNIQUE or PRIMARY KEY constraint refused as
    /// `StoreError.conflict(field:)`: the one mapping of those violations, used by every store.
    static func mappingConflicts<T>(field: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw StoreError.conflict(field: field)
        }
    }
}

extension DatabaseError {
    /// A UNIQUE or PRIMARY KEY constraint refused the statement.
    var isUniqueViolation: Bool {
        extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
    }
}

/// A row of `users`: the one place its columns are named. Roles are stored comma-separated,
/// times as milliseconds.
private struct UserRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"
    var id: String
    var username: String
    var email: String?
    var passwordHash: String
    var roles: String
    var createdAtMs: Int64
    var failedLogins: Int
    var lastFailedLoginAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case id, username, email
        case passwordHash = "password_hash"
        case roles
        case createdAtMs = "created_at_ms"
        case failedLogins = "failed_logins"
        case lastFailedLoginAtMs = "last_failed_login_at_ms"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let username = Column(CodingKeys.username)
    }

    init(_ user: UserRecord) {
        id = user.id
        username = user.username
        email = user.email
        passwordHash = user.passwordHash
        roles = Self.text(user.roles)
        createdAtMs = SQLiteStorage.ms(user.createdAt)
        failedLogins = user.failedLogins
        lastFailedLoginAtMs = user.lastFailedLoginAt.map(SQLiteStorage.ms)
    }

    /// The stored form of roles: each once, in order, comma-separated.
    static func text(_ roles: [Role]) -> String { Set(roles).sorted().map(\.rawValue).joined(separator: ",") }

    /// The user; a role this server does not know is left out.
    var record: UserRecord {
        UserRecord(id: id, username: username, email: email, passwordHash: passwordHash,
                   roles: roles.split(separator: ",").compactMap { Role(rawValue: String($0)) }.sorted(),
                   createdAt: SQLiteStorage.date(createdAtMs), failedLogins: failedLogins,
                   lastFailedLoginAt: SQLiteStorage.date(lastFailedLoginAtMs))
    }
}

/// A row of `sessions`.
private struct SessionRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sessions"
    var id: String
    var userId: String
    var createdAtMs: Int64
    var lastUsedAtMs: Int64
    var expiresAtMs: Int64
    var revokedAtMs: Int64?
    var revokeReason: String?
    var userAgent: String?
    var address: String?

    enum CodingKeys: String, CodingKey {
        case id
        case userId = "user_id"
        case createdAtMs = "created_at_ms"
        case lastUsedAtMs = "last_used_at_ms"
        case expiresAtMs = "expires_at_ms"
        case revokedAtMs = "revoked_at_ms"
        case revokeReason = "revoke_reason"
        case userAgent = "user_agent"
        case address
    }

    init(_ session: SessionRecord) {
        id = session.id
        userId = session.userId
        createdAtMs = SQLiteStorage.ms(session.createdAt)
        lastUsedAtMs = SQLiteStorage.ms(session.lastUsedAt)
        expiresAtMs = SQLiteStorage.ms(session.expiresAt)
        revokedAtMs = session.revokedAt.map(SQLiteStorage.ms)
        revokeReason = session.revokeReason
        userAgent = session.userAgent
        address = session.address
    }

    var record: SessionRecord {
        SessionRecord(id: id, userId: userId, createdAt: SQLiteStorage.date(createdAtMs), lastUsedAt: SQLiteStorage.date(lastUsedAtMs),
                      expiresAt: SQLiteStorage.date(expiresAtMs), revokedAt: SQLiteStorage.date(revokedAtMs), revokeReason: revokeReason,
                      userAgent: userAgent, address: address)
    }
}

/// A row of `refresh_tokens`: a token's hash, its session, and when it was used (never, while
/// it is the session's current one).
private struct RefreshTokenRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "refresh_tokens"
    var tokenHash: String
    var sessionId: String
    var createdAtMs: Int64
    var usedAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash"
        case sessionId = "session_id"
        case createdAtMs = "created_at_ms"
        case usedAtMs = "used_at_ms"
    }
}

/// A row of `audit_events`. `details` is a JSON object of strings, with sorted keys.
private struct AuditEventRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_events"
    var sequence: Int64
    var atMs: Int64
    var action: String
    var actor: String?
    var target: String?
    var address: String?
    var requestId: String?
    var details: String
    var previousHash: String
    var hash: String

    enum CodingKeys: String, CodingKey {
        case sequence
        case atMs = "at_ms"
        case action, actor, target, address
        case requestId = "request_id"
        case details
        case previousHash = "previous_hash"
        case hash
    }

    enum Columns {
        static let sequence = Column(CodingKeys.sequence)
    }

    /// The details as stored, or nil when they are not a JSON object of strings.
    var storedDetails: [String: String]? {
        try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))
    }

    /// The event; details that do not read are an error naming their column.
    func record() throws -> AuditEvent {
        AuditEvent(sequence: sequence, at: SQLiteStorage.date(atMs), action: action, actor: actor, target: target, address: address,
                   requestId: requestId,
                   details: try StoredJSON.value([String: String].self, from: details, table: Self.databaseTableName, column: "details"),
                   previousHash: previousHash, hash: hash)
    }
}

struct SQLiteUserStore: UserStore {
    let pool: DatabasePool

    func create(_ user: UserRecord) async throws {
        try await SQLiteStorage.mappingConflicts(field: "username") {
            try await pool.write { db in try UserRow(user).insert(db) }
        }
    }

    func user(id: String) async throws -> UserRecord? {
        try pool.readHere { db in try UserRow.fetchOne(db, key: id)?.record }
    }

    func user(username: String) async throws -> UserRecord? {
        try pool.readHere { db in try UserRow.filter(UserRow.Columns.username == username).fetchOne(db)?.record }
    }

    func users(after cursor: String?, limit: Int) async throws -> [UserRecord] {
        try await pool.readAside { db in
            try UserRow.fetchAll(db, sql: "SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor ?? "", limit]).map(\.record)
        }
    }

    /// Admins other than `userId`.
    private static func otherAdmins(_ db: Database, _ userId: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE id != ? AND (',' || roles || ',') LIKE '%,admin,%'", arguments: [userId]) ?? 0
    }

    func setRoles(_ roles: [Role], userId: String) async throws -> UserRecord {
        try await pool.write { db in
            guard let user = try UserRow.fetchOne(db, key: userId)?.record else { throw StoreError.notFound }
            if user.roles.contains(.admin), !roles.contains(.admin), try Self.otherAdmins(db, userId) == 0 {
                throw StoreError.conflict(field: "roles")
            }
            try db.execute(sql: "UPDATE users SET roles = ? WHERE id = ?", arguments: [UserRow.text(roles), userId])
            var updated = user
            updated.roles = Set(roles).sorted()
            return updated
        }
    }

    func setPasswordHash(_ hash: String, userId: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ? WHERE id = ?", arguments: [hash, userId])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        }
    }

    func delete(userId: String) async throws {
        try await pool.write { db in
            guard let user = try UserRow.fetchOne(db, key: userId)?.record else { throw StoreError.notFound }
            if user.roles.contains(.admin), try Self.otherAdmins(db, userId) == 0 { throw StoreError.conflict(field: "roles") }
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [userId])
        }
    }

    func recordFailedLogin(userId: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at_ms = ? WHERE id = ?",
                           arguments: [SQLiteStorage.ms(at), userId])
        }
    }

    func clearFailedLogins(userId: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET failed_logins = 0, last_failed_login_at_ms = NULL WHERE id = ? AND failed_logins != 0",
                           arguments: [userId])
        }
    }
}

struct SQLiteSessionStore: SessionStore {
    let pool: DatabasePool

    func create(_ session: SessionRecord, refreshTokenHash: String) async throws {
        try await pool.write { db in
            try SessionRow(session).insert(db)
            try RefreshTokenRow(tokenHash: refreshTokenHash, sessionId: session.id, createdAtMs: SQLiteStorage.ms(session.createdAt)).insert(db)
        }
    }

    func session(id: String) async throws -> SessionRecord? {
        try pool.readHere { db in try SessionRow.fetchOne(db, key: id)?.record }
    }

    func activeSession(id: String, userId: String, at now: Date) async throws -> (session: SessionRecord, user: UserRecord)? {
        try pool.readHere { db in
            guard let session = try SessionRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM sessions WHERE id = ?"), arguments: [id])?.record
            else { return nil }
            guard session.userId == userId, session.isActive(at: now),
                  let user = try UserRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [userId]) else { return nil }
            return (session, user.record)
        }
    }

    func refresh(tokenHash: String, successorHash: String, at now: Date,
                 expiresAt: @Sendable (SessionRecord) -> Date) async throws -> RefreshOutcome {
        try await pool.write { db in
            guard let token = try RefreshTokenRow.fetchOne(db, key: tokenHash),
                  var session = try SessionRow.fetchOne(db, key: token.sessionId)?.record
            else { return .unknown }
            let nowMs = SQLiteStorage.ms(now)
            if token.usedAtMs != nil {
                // A used token again: someone holds a copy. End the whole family.
                if session.revokedAt == nil {
                    try db.execute(sql: "UPDATE sessions SET revoked_at_ms = ?, revoke_reason = 'refresh-token-reuse' WHERE id = ?",
                                   arguments: [nowMs, session.id])
                    session.revokedAt = now
                    session.revokeReason = "refresh-token-reuse"
                }
                return .reused(session)
            }
            let expiresAt = expiresAt(session)
            guard session.isActive(at: now), expiresAt > now else { return .ended(session) }
            try db.execute(sql: "UPDATE refresh_tokens SET used_at_ms = ? WHERE token_hash = ?", arguments: [nowMs, tokenHash])
            try RefreshTokenRow(tokenHash: successorHash, sessionId: session.id, createdAtMs: nowMs).insert(db)
            try db.execute(sql: "UPDATE sessions SET last_used_at_ms = ?, expires_at_ms = ? WHERE id = ?",
                           arguments: [nowMs, SQLiteStorage.ms(expiresAt), session.id])
            session.lastUsedAt = now
            session.expiresAt = expiresAt
            return .rotated(session)
        }
    }

    func revoke(sessionId: String, reason: String, at now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE sessions SET revoked_at_ms = ?, revoke_reason = ? WHERE id = ? AND revoked_at_ms IS NULL AND expires_at_ms > ?",
                           arguments: [SQLiteStorage.ms(now), reason, sessionId, SQLiteStorage.ms(now)])
            return db.changesCount == 1
        }
    }

    func revokeAll(userId: String, except: String?, reason: String, at now: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE sessions SET revoked_at_ms = ?, revoke_reason = ?
                WHERE user_id = ? AND id != ? AND revoked_at_ms IS NULL AND expires_at_ms > ?
                """, arguments: [SQLiteStorage.ms(now), reason, userId, except ?? "", SQLiteStorage.ms(now)])
            return db.changesCount
        }
    }

    func activeSessions(userId: String, at now: Date) async throws -> [SessionRecord] {
        try pool.readHere { db in
            try SessionRow.fetchAll(db, sql: """
                SELECT * FROM sessions WHERE user_id = ? AND revoked_at_ms IS NULL AND expires_at_ms > ?
                ORDER BY created_at_ms DESC, id LIMIT 200
                """, arguments: [userId, SQLiteStorage.ms(now)]).map(\.record)
        }
    }
}

struct SQLiteAuditStore: AuditStore {
    let pool: DatabasePool
    static let genesis = AuditChain.genesis

    static func canonical(sequence: Int64, atMs: Int64, _ event: NewAuditEvent) -> String {
        AuditChain.canonical(sequence: sequence, atMs: atMs, event)
    }

    static func hash(previous: String, canonical: String) -> String { AuditChain.hash(previous: previous, canonical: canonical) }

    static func detailsJSON(_ details: [String: String]) -> String { AuditChain.detailsJSON(details) }

    func append(_ event: NewAuditEvent) async throws -> AuditEvent {
        try await pool.write { db in
            let last = try AuditEventRow.order(AuditEventRow.Columns.sequence.desc).fetchOne(db)
            let (sequence, overflow) = (last?.sequence ?? 0).addingReportingOverflow(1)
            guard !overflow else { throw StoreError.exhausted(field: "sequence") }
            let previous = last?.hash ?? Self.genesis
            let atMs = SQLiteStorage.ms(Date())
            let hash = Self.hash(previous: previous, canonical: Self.canonical(sequence: sequence, atMs: atMs, event))
            try AuditEventRow(sequence: sequence, atMs: atMs, action: event.action, actor: event.actor, target: event.target, address: event.address,
                              requestId: event.requestId, details: Self.detailsJSON(event.details), previousHash: previous, hash: hash).insert(db)
            return AuditEvent(sequence: sequence, at: SQLiteStorage.date(atMs), action: event.action, actor: event.actor, target: event.target,
                              address: event.address, requestId: event.requestId, details: event.details, previousHash: previous, hash: hash)
        }
    }

    func events(_ filter: AuditFilter, after cursor: Int64?, limit: Int) async throws -> [AuditEvent] {
        try await pool.readAside { db in
            var clauses = ["sequence > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [cursor ?? 0]
            if let action = filter.action { clauses.append("action = ?"); arguments.append(action) }
            if let actor = filter.actor { clauses.append("actor = ?"); arguments.append(actor) }
            if let since = filter.since { clauses.append("at_ms >= ?"); arguments.append(SQLiteStorage.ms(since)) }
            if let until = filter.until { clauses.append("at_ms < ?"); arguments.append(SQLiteStorage.ms(until)) }
            arguments.append(limit)
            return try AuditEventRow.fetchAll(db, sql: "SELECT * FROM audit_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY sequence LIMIT ?",
                                              arguments: StatementArguments(arguments)).map { try $0.record() }
        }
    }

    func verify() async throws -> AuditVerification {
        try await pool.readAside { db in
            var check = AuditChain.Check()
            let cursor = try AuditEventRow.fetchCursor(db, sql: "SELECT * FROM audit_events ORDER BY sequence")
            while let row = try cursor.next() {
                check.add(sequence: row.sequence, atMs: row.atMs, action: row.action, actor: row.actor, target: row.target, address: row.address,
                          requestId: row.requestId, details: row.storedDetails, previousHash: row.previousHash, hash: row.hash)
            }
            return check.result
        }
    }
}

/// SQLite's profile callback: for a finished statement, its text and how long it ran, in
/// nanoseconds.
private func profileStatement(_ mask: UInt32, _ context: UnsafeMutableRawPointer?, _ statement: UnsafeMutableRawPointer?,
                              _ elapsed: UnsafeMutableRawPointer?) -> Int32 {
    guard mask == UInt32(SQLITE_TRACE_PROFILE), let statement, let elapsed, let sql = sqlite3_sql(OpaquePointer(statement)) else { return 0 }
    ServerMetrics.recordStatement(sql, nanoseconds: elapsed.load(as: Int64.self))
    return 0
}

/// How the stores read. A read runs synchronously on the thread that asks, an event loop
/// included: SQLite in WAL mode never makes a reader wait for the writer, a point lookup takes
/// microseconds, and GRDB's asynchronous read costs three thread hops (to the pool's waiting
/// queue, to the reader's queue, back to the task's executor), which under the roll load of
/// `scripts/load-server.py --routes` cost about 270 µs of CPU per request more than the same read
/// made here: more than the read itself (docs/performance.md). Long reads (search, pages of a log, the
/// audit chain, the media inventory) run synchronously on NIO's thread pool instead, so that an
/// event loop is never held by one of them.
///
/// No store uses GRDB's asynchronous read: its reader is released only after the awaiting task
/// resumes on its executor, so an executor blocked in a synchronous read waiting for a free
/// reader could wait for itself. With every read synchronous, a reader is always released by
/// the thread holding it.
extension DatabasePool {
    func readHere<T>(_ block: (Database) throws -> T) throws -> T {
        try read(block)
    }

    func readAside<T: Sendable>(_ block: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.read(block) }
    }
}
