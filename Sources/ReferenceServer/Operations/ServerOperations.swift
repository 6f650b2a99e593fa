import Foundation
import GRDB
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The operations of `rfl-server`'s subcommands, beside serving: migrations, demonstration data,
/// the first admin, the audit check, online backup and restore, signing-key rotation.
public enum ServerOperations {
    /// Opens (and so migrates) the database; returns the migrations it holds.
    public static func migrate(_ configuration: ServerConfiguration) async throws -> [String] {
        if let url = configuration.databaseURL {
            let database = try await PostgresStorage.connect(url: url).database
            defer { database.close() }
            return try await PostgresMigrations.migrate(database)
        }
        try KeyStore.makeFolder(configuration.dataDirectory)
        let (_, pool) = try SQLiteStorage.open(path: configuration.databasePath)
        defer { try? pool.close() }
        return try pool.readHere { db in try SQLiteStorage.migrator.appliedIdentifiers(db) }.sorted()
    }

    /// Creates an account with one role (for the first admin), its password checked by the
    /// policy; the audit log records it as done from the command line.
    public static func addUser(_ configuration: ServerConfiguration, username: String, role: Role, email: String?, password: String) async throws -> String {
        guard (3...32).contains(username.count), username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
            throw OperationError("a username is 3 to 32 letters, digits, '_', '.' or '-'")
        }
        if let refusal = PasswordPolicy(minimumLength: configuration.passwordMinimumLength).check(password, username: username) {
            throw OperationError("the password is refused: \(refusal)")
        }
        let id = UUID().uuidString.lowercased()
        let hash = try await PasswordHasher(cost: configuration.bcryptCost).hash(password)
        return try await withStorage(configuration) { storage in
            do {
                try await storage.users.create(UserRecord(id: id, username: username, email: email, passwordHash: hash, roles: [role], createdAt: Date()))
            } catch StoreError.conflict {
                throw OperationError("the username '\(username)' is taken")
            }
            try await storage.audit.append(NewAuditEvent(action: "user.created", actor: "cli", target: id, address: "local",
                                                         details: ["username": username, "roles": role.rawValue]))
            return id
        }
    }

    /// Demonstration accounts, one per role but admin, with random passwords returned once.
    /// Existing accounts are left as they are.
    public static func seed(_ configuration: ServerConfiguration) async throws -> [(username: String, role: Role, password: String?)] {
        var created: [(String, Role, String?)] = []
        for (name, role) in [("demo-gm", Role.gameMaster), ("demo-player", .player), ("demo-player-2", .player), ("demo-designer", .contentDesigner)] {
            let password = randomPassword()
            do {
                _ = try await addUser(configuration, username: name, role: role, email: nil, password: password)
                created.append((name, role, password))
            } catch let error as OperationError where error.description.contains("is taken") {
                created.append((name, role, nil))
            }
        }
        return created
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// Loads content from a JSON file, `{"entries":[{"model","entry"},…]}` (or the bare list), the
    /// entry shapes of the CMS webhook. Every entry is checked first: one refusal stores nothing.
    /// Returns how many entries were stored, and how many were older than the stored ones (by
    /// their `updatedAt`) and left.
    public static func importContent(_ configuration: ServerConfiguration, from path: String) async throws -> (stored: Int, older: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw OperationError("\(path) cannot be read") }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw OperationError("\(path) is not JSON: \(error.localizedDescription)")
        }
        let prefix: String
        let items: [Any]
        if let object = root as? [String: Any], let list = object["entries"] as? [Any] {
            (prefix, items) = ("/entries", list)
        } else if let list = root as? [Any] {
            (prefix, items) = ("", list)
        } else {
            throw OperationError("\(path): expected {\"entries\":[…]} or a list of {\"model\",\"entry\"}")
        }
        var entries: [ContentEntry] = []
        entries.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let pointer = "\(prefix)/\(index)"
            guard let object = item as? [String: Any], let model = object["model"] as? String, let entry = object["entry"] as? [String: Any] else {
                throw OperationError("\(path) \(pointer): expected {\"model\",\"entry\"}")
            }
            do {
                entries.append(try ContentEntry.from(model: model, entry: entry, at: "\(pointer)/entry"))
            } catch {
                throw OperationError("\(path) \(error.field.replacingOccurrences(of: "/model", with: "\(pointer)/model")): \(error.reason)")
            }
        }
        return try await withStorage(configuration) { storage in
            let older = try await storage.content.upsert(entries)
            try await storage.audit.append(NewAuditEvent(action: "content.imported", details: [
                "entries": String(entries.count - older), "older_left": String(older), "file": path,
            ]))
            return (entries.count - older, older)
        }
    }

    /// Makes the search index again from the stored content and packs; returns the rows indexed.
    public static func rebuildSearch(_ configuration: ServerConfiguration) async throws -> Int {
        try await withStorage(configuration) { storage in
            try await storage.content.rebuildIndex(packs: try await PackLibrary(store: storage.packs).searchable())
        }
    }

    public static func verifyAudit(_ configuration: ServerConfiguration) async throws -> AuditVerification {
        try await withStorage(configuration) { storage in try await storage.audit.verify() }
    }

    /// A consistent copy of the live database, taken with SQLite's backup API while the server
    /// may be serving, written to `path` through a temporary file and checked.
    public static func backup(_ configuration: ServerConfiguration, to path: String) throws {
        try refusePostgres(configuration, "backup")
        guard !FileManager.default.fileExists(atPath: path) else { throw OperationError("\(path) exists; choose a new file") }
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw OperationError("there is no database at \(configuration.databasePath)")
        }
        let source = try DatabasePool(path: configuration.databasePath, configuration: SQLiteStorage.configuration())
        defer { try? source.close() }
        let temporary = path + ".partial"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            let destination = try DatabaseQueue(path: temporary)
            try source.backup(to: destination)
            try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try check(destination, name: temporary)
            try destination.close()
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Replaces the database with a backup after checking it (integrity, and migrations this
    /// version knows). The server must be stopped: its lock is taken for the duration.
    public static func restore(_ configuration: ServerConfiguration, from path: String) throws {
        try refusePostgres(configuration, "restore")
        guard FileManager.default.fileExists(atPath: path) else { throw OperationError("there is no backup at \(path)") }
        try KeyStore.makeFolder(configuration.dataDirectory)
        let lock = try ServerLock(dataDirectory: configuration.dataDirectory)
        defer { lock.release() }
        var readOnly = GRDB.Configuration()
        readOnly.readonly = true
        let backup: DatabaseQueue
        do {
            backup = try DatabaseQueue(path: path, configuration: readOnly)
            try check(backup, name: path)
        } catch let error as OperationError {
            throw error
        } catch {
            throw OperationError("\(path) is not a readable SQLite database: \(error)")
        }
        defer { try? backup.close() }
        let known = Set(SQLiteStorage.migrator.migrations)
        let applied = try backup.read { db in try SQLiteStorage.migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(known)
        guard unknown.isEmpty else { throw OperationError("\(path) comes from a newer version (migrations \(unknown.sorted().joined(separator: ", ")))") }
        let destination = try DatabaseQueue(path: configuration.databasePath)
        try backup.backup(to: destination)
        try destination.close()
        // Bring it to the current schema.
        let pool = try DatabasePool(path: configuration.databasePath, configuration: SQLiteStorage.configuration())
        try SQLiteStorage.migrator.migrate(pool)
        try pool.close()
    }

    static func check(_ database: some DatabaseReader, name: String) throws {
        let result = try database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        guard result == ["ok"] else { throw OperationError("\(name) fails SQLite's integrity check: \(result.prefix(5).joined(separator: "; "))") }
    }

    /// What ``copyMedia(_:from:)`` did.
    public struct MediaCopy: Sendable, Equatable {
        /// Contents written to the configured store.
        public var copied = 0
        /// Contents it already had.
        public var present = 0
        /// Contents neither store has, or whose bytes in the source are not what their SHA-256
        /// says, by SHA-256 with the reason.
        public var failed: [String: String] = [:]
    }

    /// Copies every media content the database names from the `source` store into the
    /// configured one (RFL_MEDIA_BACKEND), checking each by its SHA-256 before writing it.
    /// Contents the configured store has are skipped, so it may be run again, and nothing is
    /// deleted from the source. The way to move media from the local disk to an S3-compatible
    /// store, or back (docs/media.md).
    public static func copyMedia(_ configuration: ServerConfiguration, from source: ServerConfiguration.MediaBackend,
                                 progress: (String) -> Void = { _ in }) async throws -> MediaCopy {
        guard source != configuration.mediaBackend else {
            throw OperationError("the media are already in \(source.rawValue) storage (RFL_MEDIA_BACKEND); set RFL_MEDIA_BACKEND to the store to copy into")
        }
        let target: any BlobStore
        let origin: any BlobStore
        do {
            target = try await configuration.openMediaStore(configuration.mediaBackend)
            origin = try await configuration.openMediaStore(source)
        } catch let error as ConfigurationError {
            throw OperationError(error.description)
        }
        return try await withStorage(configuration) { storage in try await copyMedia(storage, from: source, into: configuration.mediaBackend,
                                                                                  origin: origin, target: target, progress: progress) }
    }

    private static func copyMedia(_ storage: Storage, from source: ServerConfiguration.MediaBackend, into destination: ServerConfiguration.MediaBackend,
                                  origin: any BlobStore, target: any BlobStore, progress: (String) -> Void) async throws -> MediaCopy {
        var result = MediaCopy()
        for content in try await storage.media.contents() {
            do {
                if try await target.contains(key: content.sha256) {
                    result.present += 1
                    continue
                }
                guard let bytes = try await origin.get(key: content.sha256, range: nil) else {
                    result.failed[content.sha256] = "missing from \(origin.description)"
                    progress("missing: \(content.sha256)")
                    continue
                }
                guard Hex.sha256(bytes) == content.sha256 else {
                    result.failed[content.sha256] = "its bytes in \(origin.description) do not match its SHA-256"
                    progress("damaged: \(content.sha256)")
                    continue
                }
                try await target.put(bytes, key: content.sha256, contentType: content.contentType)
                result.copied += 1
                progress("copied: \(content.sha256) (\(content.contentType), \(bytes.count) bytes)")
            } catch MediaError.io(let reason) {
                throw OperationError("\(content.sha256): \(reason) (\(result.copied) copied so far; run it again to go on)")
            }
        }
        try await storage.audit.append(NewAuditEvent(action: "media.copied", details: [
            "from": source.rawValue, "to": destination.rawValue, "copied": String(result.copied),
            "present": String(result.present), "failed": String(result.failed.count),
        ]))
        return result
    }

    /// Runs `body` on the configured database (SQLite in the data folder, or PostgreSQL with
    /// `RFL_DATABASE_URL`), closed after it.
    static func withStorage<T>(_ configuration: ServerConfiguration, _ body: (Storage) async throws -> T) async throws -> T {
        try KeyStore.makeFolder(configuration.dataDirectory)
        let storage = try await StorageEngine.open(configuration, logger: Logger(label: "rfl-server"))
        let value: T
        do {
            value = try await body(storage)
        } catch {
            try? await storage.close()
            throw error
        }
        try? await storage.close()
        return value
    }

    /// Backups and restores copy the SQLite file; a PostgreSQL database is backed up with its
    /// own tools.
    static func refusePostgres(_ configuration: ServerConfiguration, _ operation: String) throws {
        guard configuration.databaseURL == nil else {
            throw OperationError("\(operation) copies the SQLite database in RFL_DATA_DIR; with RFL_DATABASE_URL, use PostgreSQL's pg_dump and pg_restore")
        }
    }

    /// The SQLite database of the data folder and its pool (for tests that read its tables).
    static func open(_ configuration: ServerConfiguration) throws -> (Storage, DatabasePool) {
        try KeyStore.makeFolder(configuration.dataDirectory)
        let opened = try SQLiteStorage.open(path: configuration.databasePath)
        return (opened.storage, opened.pool)
    }
}

/// An operation that cannot be done, with the reason for the operator.
public struct OperationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An exclusive lock on the data folder while the server runs, so that a restore cannot
/// replace the database under it (and two servers cannot share one folder).
public final class ServerLock: Sendable {
    private let descriptor: Int32

    public init(dataDirectory: String) throws {
        let path = dataDirectory + "/server.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw OperationError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw OperationError("another rfl-server process is using \(dataDirectory); stop it first")
        }
        self.descriptor = descriptor
    }

    public func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
