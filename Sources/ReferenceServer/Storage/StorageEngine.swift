import Foundation
import Logging

/// The engine the configuration selects: PostgreSQL when `RFL_DATABASE_URL` is given, SQLite in
/// the data folder otherwise.
package enum StorageEngine {
    /// Opens and migrates the configured database. A PostgreSQL schema newer than this server
    /// knows, or a PostgreSQL server that does not answer within 30 seconds, is a
    /// `ConfigurationError` (the server does not start).
    package static func open(_ configuration: ServerConfiguration, logger: Logger) async throws -> Storage {
        guard let url = configuration.databaseURL else {
            return try SQLiteStorage.open(path: configuration.databasePath).storage
        }
        do {
            let storage = try await PostgresStorage.open(url: url, logger: logger)
            logger.info("database: PostgreSQL", metadata: ["schema": "\(PostgresMigrations.known)"])
            return storage
        } catch let error as PostgresMigrations.SchemaTooNew {
            throw ConfigurationError("RFL_DATABASE_URL: \(error.description)")
        } catch let error as PostgresStorage.Unreachable {
            throw ConfigurationError("RFL_DATABASE_URL: \(error.description)")
        }
    }
}
