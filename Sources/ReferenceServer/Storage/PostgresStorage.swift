import Foundation
import Logging
import Synchronization
import NIOSSL
import PostgresNIO

/// The store for several instances: PostgreSQL through postgres-nio's `PostgresClient` (a pool
/// of connections), selected by `RFL_DATABASE_URL`. Every value is a bound parameter. What must
/// hold across instances (the audit chain, each campaign log's sequence, the play nonce,
/// idempotency keys, invitation uses, quotas, the last admin) is decided in the database, in the
/// transaction that writes it: by a row lock, an advisory lock or a unique constraint, never by
/// a lock of this process.
package enum PostgresStorage {
    /// Connects, migrates (see ``PostgresMigrations``), and returns the stores. Refuses a
    /// database whose schema is newer than this server knows.
    package static func open(url: String, logger: Logger = Logger(label: "rfl-postgres")) async throws -> Storage {
        try await connect(url: url, logger: logger).storage
    }

    /// The same, with the database the stores use. A server that does not answer within
    /// `startTimeout` (postgres-nio's pool would go on trying to connect) is `Unreachable`.
    static func connect(url: String, logger: Logger = Logger(label: "rfl-postgres"),
                        startTimeout: Duration = .seconds(30)) async throws -> (storage: Storage, database: PostgresPool) {
        let configuration = try configuration(url: url)
        let database = PostgresPool(configuration: configuration, logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await PostgresMigrations.migrate(database) }
                group.addTask {
                    try await Task.sleep(for: startTimeout)
                    // Closing the client fails the connection the migration waits for.
                    database.close()
                    throw Unreachable(host: configuration.host ?? "", port: configuration.port ?? 0, seconds: startTimeout.components.seconds)
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            database.close()
            if error is CancellationError || (error as? PSQLError)?.code == .poolClosed {
                throw Unreachable(host: configuration.host ?? "", port: configuration.port ?? 0, seconds: startTimeout.components.seconds)
            }
            throw error
        }
        // The keyed locks hold a connection each while their work runs, which uses connections of
        // its own: they have a pool of their own, so that holders cannot take every connection
        // their work waits for.
        let locks = PostgresPool(configuration: configuration, logger: logger)
        return (storage(database, locks: PostgresKeyedLocks(pool: locks)), database)
    }

    /// The database did not answer in time.
    struct NoAnswer: Error, CustomStringConvertible {
        var description: String { "the PostgreSQL server did not answer in time" }
    }

    /// The result of `body`, or `NoAnswer` once `limit` has passed, whichever comes first; a
    /// body still waiting then is left to end on its own.
    static func answer<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Outcome(continuation)
            Task {
                do {
                    outcome.finish(.success(try await body()))
                } catch {
                    outcome.finish(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                outcome.finish(.failure(NoAnswer()))
            }
        }
    }

    /// A continuation resumed by the first to finish.
    private final class Outcome<T: Sendable>: Sendable {
        private let pending: Mutex<CheckedContinuation<T, any Error>?>
        init(_ continuation: CheckedContinuation<T, any Error>) { pending = Mutex(continuation) }
        func finish(_ result: Result<T, any Error>) {
            pending.withLock { pending in
                pending?.resume(with: result)
                pending = nil
            }
        }
    }

    /// No connection to the database within the time a start waits.
    package struct Unreachable: Error, CustomStringConvertible, Equatable {
        package var host: String
        package var port: Int
        package var seconds: Int64
        package var description: String {
            "no connection to the PostgreSQL server at \(host):\(port) within \(seconds) s (is it running, and are the user and password right? its log and this server's say why)"
        }
    }

    static func storage(_ database: PostgresPool, locks: PostgresKeyedLocks) -> Storage {
        Storage(
            users: PostgresUserStore(database: database),
            sessions: PostgresSessionStore(database: database),
            audit: PostgresAuditStore(database: database),
            packs: PostgresPackStore(database: database),
            campaigns: PostgresCampaignStore(database: database),
            characters: PostgresCharacterStore(database: database),
            play: PostgresPlayStore(database: database),
            content: PostgresContentStore(database: database),
            media: PostgresMediaStore(database: database),
            locks: locks,
            doorbell: PostgresDoorbell(database: database),
            // Bounded: with the server down, a lease waits for a connection the pool keeps trying to
            // make, and readiness must say so at once.
            ping: { try await answer(within: .seconds(2)) { try await database.read { connection in try await connection.run("SELECT 1") } } },
            close: {
                locks.pool.close()
                database.close()
            })
    }

    /// The client's configuration from `postgres://USER:PASSWORD@HOST:PORT/DB` (or
    /// `postgresql://`), with an optional `?sslmode=disable|prefer|require` (default `prefer`,
    /// as libpq's; `require` verifies the server's certificate against the system's roots).
    /// A refusal names the key and never repeats the password.
    package static func configuration(url text: String) throws -> PostgresClient.Configuration {
        func refuse(_ reason: String) -> ConfigurationError { ConfigurationError("RFL_DATABASE_URL: \(reason)") }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["postgres", "postgresql"].contains(scheme) else {
            throw refuse("not a postgres://USER:PASSWORD@HOST:PORT/DB address")
        }
        guard let host = url.host, !host.isEmpty else { throw refuse("it names no host") }
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else { throw refuse("it names no user") }
        let password = url.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let name = String(url.path.drop { $0 == "/" })
        guard !name.isEmpty, !name.contains("/") else { throw refuse("it names no database (postgres://USER:PASSWORD@HOST:PORT/DB)") }
        let port = url.port ?? 5432
        guard (1...65_535).contains(port) else { throw refuse("the port \(port) is not from 1 to 65535") }
        var tls = PostgresClient.Configuration.TLS.prefer(.makeClientConfiguration())
        for item in url.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"): tls = .disable
            case ("sslmode", "prefer"): tls = .prefer(.makeClientConfiguration())
            case ("sslmode", "require"): tls = .require(.makeClientConfiguration())
            case ("sslmode", let mode): throw refuse("sslmode '\(mode)' is not disable, prefer or require")
            case (let other, _): throw refuse("the option '\(other)' is not known (only sslmode is)")
            }
        }
        // Hosts in brackets are IPv6 addresses.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var configuration = PostgresClient.Configuration(host: bare, port: port, username: user, password: password, database: name, tls: tls)
        configuration.options.maximumConnections = 20
        return configuration
    }

    /// Runs `body`, answering a write that a unique constraint refused (SQLSTATE 23505) as
    /// `StoreError.conflict(field:)`, as SQLite's stores do.
    static func mappingConflicts<T>(field: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw StoreError.conflict(field: field)
        }
    }

    /// The keys of the advisory locks this server takes (`pg_advisory_xact_lock`), one per
    /// invariant that no single row guards.
    enum LockKey {
        static let migrations: Int64 = 0x5246_4C00_0000_0001
        static let audit: Int64 = 0x5246_4C00_0000_0002
        static let admins: Int64 = 0x5246_4C00_0000_0003
        static let content: Int64 = 0x5246_4C00_0000_0004
    }
}

extension PSQLError {
    /// The server's SQLSTATE, when the server answered with an error.
    var sqlState: String? { serverInfo?[.sqlState] }
}

/// A `PostgresClient` running for as long as the storage is open, with transactions that give
/// back the error their body threw (postgres-nio's own wrap it).
final class PostgresPool: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    init(configuration: PostgresClient.Configuration, logger: Logger) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Ends the client: its connections close and further queries fail.
    func close() { runner.cancel() }

    /// Runs `body` on one connection of the pool, outside a transaction (each statement its own).
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Runs `body` in one transaction (READ COMMITTED), committed when it returns and rolled
    /// back when it throws, rethrowing its error as it is.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.run("BEGIN")
            let value: T
            do {
                value = try await body(connection)
            } catch {
                // When the connection itself failed, the server rolls back on its own.
                try? await connection.run("ROLLBACK")
                throw error
            }
            try await connection.run("COMMIT")
            return value
        }
    }
}

extension PostgresConnection {
    /// The rows of one statement, its time recorded with the other statements' by kind.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            query.sql.withCString { ServerMetrics.recordStatement($0, nanoseconds: nanoseconds) }
        }
        return try await self.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    func run(_ query: PostgresQuery) async throws { try await rows(query) }

    /// The first row, if any.
    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? { try await rows(query).first }

    /// The first column of the first row, when there is a row.
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        guard let row = try await row(query) else { return nil }
        return try row[0].decode(T.self)
    }

    /// Takes the advisory lock `key` until the transaction ends.
    func lock(_ key: Int64) async throws { try await run("SELECT pg_advisory_xact_lock(\(key))") }
}

extension PostgresRandomAccessRow {
    func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T { try self[column].decode(T.self) }
}

/// A statement whose text is made of fixed parts and whose values are bound (`$1`, `$2`, …):
/// for filters that add conditions.
struct PostgresStatement {
    private var text = ""
    private var binds = PostgresBindings()

    init(_ text: String = "") { self.text = text }

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func append(_ part: String) { text += part }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}

/// Keyed locks that hold across instances: a session-level advisory lock (`pg_advisory_lock` on
/// a 64-bit hash of the key) taken on one connection, held while `body` runs and released on the
/// same connection. Keys whose hashes collide only wait for each other. Should the connection
/// break meanwhile, the server releases the lock; should the release fail otherwise, the
/// connection is closed, which releases it.
struct PostgresKeyedLocks: KeyedLocking {
    let pool: PostgresPool

    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        let hashed = "rfl-keyed-lock:" + key
        return try await pool.read { connection in
            try await connection.run("SELECT pg_advisory_lock(hashtextextended(\(hashed), 0))")
            let value: T
            do {
                value = try await body()
            } catch {
                await Self.release(hashed, connection)
                throw error
            }
            await Self.release(hashed, connection)
            return value
        }
    }

    private static func release(_ hashed: String, _ connection: PostgresConnection) async {
        do {
            try await connection.run("SELECT pg_advisory_unlock(hashtextextended(\(hashed), 0))")
        } catch {
            try? await connection.close()
        }
    }
}

// MARK: - Accounts, sessions, audit

private func userRecord(_ row: PostgresRandomAccessRow) throws -> UserRecord {
    UserRecord(id: try row.get("id"), username: try row.get("username"), email: try row.get("email", as: String?.self),
               passwordHash: try row.get("password_hash"),
               roles: try row.get("roles", as: String.self).split(separator: ",").compactMap { Role(rawValue: String($0)) }.sorted(),
               createdAt: StoredTime.date(try row.get("created_at_ms", as: Int64.self)), failedLogins: try row.get("failed_logins", as: Int.self),
               lastFailedLoginAt: StoredTime.date(try row.get("last_failed_login_at_ms", as: Int64?.self)))
}

/// The stored form of roles: each once, in order, comma-separated (as SQLite's store writes them).
private func rolesText(_ roles: [Role]) -> String { Set(roles).sorted().map(\.rawValue).joined(separator: ",") }

struct PostgresUserStore: UserStore {
    let database: PostgresPool

    func create(_ user: UserRecord) async throws {
        let roles = rolesText(user.roles)
        let created = StoredTime.ms(user.createdAt)
        let failedAt = user.lastFailedLoginAt.map(StoredTime.ms)
        try await PostgresStorage.mappingConflicts(field: "username") {
            try await database.read { connection in
                try await connection.run("""
                    INSERT INTO users (id, username, email, password_hash, roles, created_at_ms, failed_logins, last_failed_login_at_ms)
                    VALUES (\(user.id), \(user.username), \(user.email), \(user.passwordHash), \(roles), \(created), \(user.failedLogins), \(failedAt))
                    """)
            }
        }
    }

    func user(id: String) async throws -> UserRecord? {
        try await database.read { connection in try await connection.row("SELECT * FROM users WHERE id = \(id)").map(userRecord) }
    }

    func user(username: String) async throws -> UserRecord? {
        try await database.read { connection in
            try await connection.row("SELECT * FROM users WHERE lower(username) = lower(\(username))").map(userRecord)
        }
    }

    func users(after cursor: String?, limit: Int) async throws -> [UserRecord] {
        let after = cursor ?? ""
        return try await database.read { connection in
            try await connection.rows("SELECT * FROM users WHERE id > \(after) ORDER BY id LIMIT \(max(0, limit))").map(userRecord)
        }
    }

    /// Admins other than `userId`, counted under the admins' lock (so that two instances
    /// demoting the last two admins at once cannot leave none).
    private static func otherAdmins(_ connection: PostgresConnection, _ userId: String) async throws -> Int {
        try await connection.lock(PostgresStorage.LockKey.admins)
        return try await connection.value("""
            SELECT COUNT(*) FROM users WHERE id != \(userId) AND (',' || roles || ',') LIKE '%,admin,%'
            """, as: Int.self) ?? 0
    }

    func setRoles(_ roles: [Role], userId: String) async throws -> UserRecord {
        try await database.transaction { connection in
            guard var user = try await connection.row("SELECT * FROM users WHERE id = \(userId) FOR UPDATE").map(userRecord) else {
                throw StoreError.notFound
            }
            if user.roles.contains(.admin), !roles.contains(.admin), try await Self.otherAdmins(connection, userId) == 0 {
                throw StoreError.conflict(field: "roles")
            }
            try await connection.run("UPDATE users SET roles = \(rolesText(roles)) WHERE id = \(userId)")
            user.roles = Set(roles).sorted()
            return user
        }
    }

    func setPasswordHash(_ hash: String, userId: String) async throws {
        try await database.read { connection in
            guard try await connection.row("UPDATE users SET password_hash = \(hash) WHERE id = \(userId) RETURNING id") != nil else {
                throw StoreError.notFound
            }
        }
    }

    func delete(userId: String) async throws {
        try await database.transaction { connection in
            guard let user = try await connection.row("SELECT * FROM users WHERE id = \(userId) FOR UPDATE").map(userRecord) else {
                throw StoreError.notFound
            }
            if user.roles.contains(.admin), try await Self.otherAdmins(connection, userId) == 0 { throw StoreError.conflict(field: "roles") }
            try await connection.run("DELETE FROM users WHERE id = \(userId)")
        }
    }

    func recordFailedLogin(userId: String, at: Date) async throws {
        let atMs = StoredTime.ms(at)
        try await database.read { connection in
            try await connection.run("UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at_ms = \(atMs) WHERE id = \(userId)")
        }
    }

    func clearFailedLogins(userId: String) async throws {
        try await database.read { connection in
            try await connection.run("UPDATE users SET failed_logins = 0, last_failed_login_at_ms = NULL WHERE id = \(userId) AND failed_logins != 0")
        }
    }
}

/// A session from its columns, named with `prefix` (when read beside its user's).
private func sessionRecord(_ row: PostgresRandomAccessRow, prefix: String) throws -> SessionRecord {
    SessionRecord(id: try row.get(prefix + "id"), userId: try row.get(prefix + "user_id"),
                  createdAt: StoredTime.date(try row.get(prefix + "created_at_ms", as: Int64.self)),
                  lastUsedAt: StoredTime.date(try row.get(prefix + "last_used_at_ms", as: Int64.self)),
                  expiresAt: StoredTime.date(try row.get(prefix + "expires_at_ms", as: Int64.self)),
                  revokedAt: StoredTime.date(try row.get(prefix + "revoked_at_ms", as: Int64?.self)), revokeReason: try row.get(prefix + "revoke_reason"),
                  userAgent: try row.get(prefix + "user_agent"), address: try row.get(prefix + "address"))
}

private func sessionRecord(_ row: PostgresRandomAccessRow) throws -> SessionRecord { try sessionRecord(row, prefix: "") }

struct PostgresSessionStore: SessionStore {
    let database: PostgresPool

    func create(_ session: SessionRecord, refreshTokenHash: String) async throws {
        let created = StoredTime.ms(session.createdAt)
        let lastUsed = StoredTime.ms(session.lastUsedAt)
        let expires = StoredTime.ms(session.expiresAt)
        let revoked = session.revokedAt.map(StoredTime.ms)
        try await database.transaction { connection in
            try await connection.run("""
                INSERT INTO sessions (id, user_id, created_at_ms, last_used_at_ms, expires_at_ms, revoked_at_ms, revoke_reason, user_agent, address)
                VALUES (\(session.id), \(session.userId), \(created), \(lastUsed), \(expires), \(revoked), \(session.revokeReason),
                        \(session.userAgent), \(session.address))
                """)
            try await connection.run("""
                INSERT INTO refresh_tokens (token_hash, session_id, created_at_ms) VALUES (\(refreshTokenHash), \(session.id), \(created))
                """)
        }
    }

    func session(id: String) async throws -> SessionRecord? {
        try await database.read { connection in try await connection.row("SELECT * FROM sessions WHERE id = \(id)").map(sessionRecord) }
    }

    /// One statement: this is on every authenticated request.
    func activeSession(id: String, userId: String, at now: Date) async throws -> (session: SessionRecord, user: UserRecord)? {
        try await database.read { connection in
            guard let row = try await connection.row("""
                SELECT u.*, s.id AS session_id, s.user_id AS session_user_id, s.created_at_ms AS session_created_at_ms,
                       s.last_used_at_ms AS session_last_used_at_ms, s.expires_at_ms AS session_expires_at_ms,
                       s.revoked_at_ms AS session_revoked_at_ms, s.revoke_reason AS session_revoke_reason,
                       s.user_agent AS session_user_agent, s.address AS session_address
                FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = \(id) AND s.user_id = \(userId)
                """) else { return nil }
            let session = try sessionRecord(row, prefix: "session_")
            guard session.isActive(at: now) else { return nil }
            return (session, try userRecord(row))
        }
    }

    func refresh(tokenHash: String, successorHash: String, at now: Date,
                 expiresAt: @Sendable (SessionRecord) -> Date) async throws -> RefreshOutcome {
        let nowMs = StoredTime.ms(now)
        return try await database.transaction { connection in
            // The token's row is locked: of two presentations at once, one rotates and the other
            // finds it used.
            guard let token = try await connection.row("SELECT * FROM refresh_tokens WHERE token_hash = \(tokenHash) FOR UPDATE"),
                  var session = try await connection.row("SELECT * FROM sessions WHERE id = \(try token.get("session_id", as: String.self)) FOR UPDATE")
                      .map(sessionRecord)
            else { return .unknown }
            if try token.get("used_at_ms", as: Int64?.self) != nil {
                // A used token again: someone holds a copy. End the whole family.
                if session.revokedAt == nil {
                    try await connection.run("""
                        UPDATE sessions SET revoked_at_ms = \(nowMs), revoke_reason = 'refresh-token-reuse' WHERE id = \(session.id)
                        """)
                    session.revokedAt = now
                    session.revokeReason = "refresh-token-reuse"
                }
                return .reused(session)
            }
            let expiresAt = expiresAt(session)
            guard session.isActive(at: now), expiresAt > now else { return .ended(session) }
            let expiresMs = StoredTime.ms(expiresAt)
            try await connection.run("UPDATE refresh_tokens SET used_at_ms = \(nowMs) WHERE token_hash = \(tokenHash)")
            try await connection.run("INSERT INTO refresh_tokens (token_hash, session_id, created_at_ms) VALUES (\(successorHash), \(session.id), \(nowMs))")
            try await connection.run("UPDATE sessions SET last_used_at_ms = \(nowMs), expires_at_ms = \(expiresMs) WHERE id = \(session.id)")
            session.lastUsedAt = now
            session.expiresAt = expiresAt
            return .rotated(session)
        }
    }

    func revoke(sessionId: String, reason: String, at now: Date) async throws -> Bool {
        let nowMs = StoredTime.ms(now)
        return try await database.read { connection in
            try await connection.row("""
                UPDATE sessions SET revoked_at_ms = \(nowMs), revoke_reason = \(reason)
                WHERE id = \(sessionId) AND revoked_at_ms IS NULL AND expires_at_ms > \(nowMs) RETURNING id
                """) != nil
        }
    }

    func revokeAll(userId: String, except: String?, reason: String, at now: Date) async throws -> Int {
        let nowMs = StoredTime.ms(now)
        let kept = except ?? ""
        return try await database.read { connection in
            try await connection.rows("""
                UPDATE sessions SET revoked_at_ms = \(nowMs), revoke_reason = \(reason)
                WHERE user_id = \(userId) AND id != \(kept) AND revoked_at_ms IS NULL AND expires_at_ms > \(nowMs) RETURNING id
                """).count
        }
    }

    func activeSessions(userId: String, at now: Date) async throws -> [SessionRecord] {
        let nowMs = StoredTime.ms(now)
        return try await database.read { connection in
            try await connection.rows("""
                SELECT * FROM sessions WHERE user_id = \(userId) AND revoked_at_ms IS NULL AND expires_at_ms > \(nowMs)
                ORDER BY created_at_ms DESC, id LIMIT 200
                """).map(sessionRecord)
        }
    }
}

/// An audit event as stored; its details do not read when they are not a JSON object of strings.
private struct PostgresAuditRow {
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

    init(_ row: PostgresRandomAccessRow) throws {
        sequence = try row.get("sequence")
        atMs = try row.get("at_ms")
        action = try row.get("action")
        actor = try row.get("actor")
        target = try row.get("target")
        address = try row.get("address")
        requestId = try row.get("request_id")
        details = try row.get("details")
        previousHash = try row.get("previous_hash")
        hash = try row.get("hash")
    }

    func record() throws -> AuditEvent {
        AuditEvent(sequence: sequence, at: StoredTime.date(atMs), action: action, actor: actor, target: target, address: address, requestId: requestId,
                   details: try StoredJSON.value([String: String].self, from: details, table: "audit_events", column: "details"),
                   previousHash: previousHash, hash: hash)
    }
}

struct PostgresAuditStore: AuditStore {
    let database: PostgresPool

    func append(_ event: NewAuditEvent) async throws -> AuditEvent {
        let details = AuditChain.detailsJSON(event.details)
        return try await database.transaction { connection in
            // One writer of the chain at a time, across every instance, until this commits.
            try await connection.lock(PostgresStorage.LockKey.audit)
            let last = try await connection.row("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1")
            let (sequence, overflow) = (try last?.get("sequence", as: Int64.self) ?? 0).addingReportingOverflow(1)
            guard !overflow else { throw StoreError.exhausted(field: "sequence") }
            let previous = try last?.get("hash", as: String.self) ?? AuditChain.genesis
            let atMs = StoredTime.ms(Date())
            let hash = AuditChain.hash(previous: previous, canonical: AuditChain.canonical(sequence: sequence, atMs: atMs, event))
            try await connection.run("""
                INSERT INTO audit_events (sequence, at_ms, action, actor, target, address, request_id, details, previous_hash, hash)
                VALUES (\(sequence), \(atMs), \(event.action), \(event.actor), \(event.target), \(event.address), \(event.requestId), \(details),
                        \(previous), \(hash))
                """)
            return AuditEvent(sequence: sequence, at: StoredTime.date(atMs), action: event.action, actor: event.actor, target: event.target,
                              address: event.address, requestId: event.requestId, details: event.details, previousHash: previous, hash: hash)
        }
    }

    func events(_ filter: AuditFilter, after cursor: Int64?, limit: Int) async throws -> [AuditEvent] {
        var statement = PostgresStatement()
        var clauses = ["sequence > \(statement.bind(cursor ?? 0))"]
        if let action = filter.action { clauses.append("action = \(statement.bind(action))") }
        if let actor = filter.actor { clauses.append("actor = \(statement.bind(actor))") }
        if let since = filter.since { clauses.append("at_ms >= \(statement.bind(StoredTime.ms(since)))") }
        if let until = filter.until { clauses.append("at_ms < \(statement.bind(StoredTime.ms(until)))") }
        statement.append("SELECT * FROM audit_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY sequence LIMIT \(statement.bind(max(0, limit)))")
        let query = statement.query
        return try await database.read { connection in try await connection.rows(query).map { try PostgresAuditRow($0).record() } }
    }

    func verify() async throws -> AuditVerification {
        try await database.read { connection in
            var check = AuditChain.Check()
            // In pages, oldest first, so that a long log is not read into memory at once.
            var after: Int64?
            while true {
                let rows = try await connection.rows(after.map { "SELECT * FROM audit_events WHERE sequence > \($0) ORDER BY sequence LIMIT 1000" }
                                                     ?? "SELECT * FROM audit_events ORDER BY sequence LIMIT 1000")
                for row in rows {
                    let event = try PostgresAuditRow(row)
                    let details = try? JSONDecoder().decode([String: String].self, from: Data(event.details.utf8))
                    check.add(sequence: event.sequence, atMs: event.atMs, action: event.action, actor: event.actor, target: event.target,
                              address: event.address, requestId: event.requestId, details: details, previousHash: event.previousHash,
                              hash: event.hash)
                    after = event.sequence
                }
                if rows.count < 1000 { break }
            }
            return check.result
        }
    }
}
