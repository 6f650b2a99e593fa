import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ReferenceServer

/// `rfl-server`: reads the configuration, then serves or runs one operation. Everything it does
/// is in the ReferenceServer library.
@main
struct RFLServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfl-server",
        abstract: "The Roll for Language reference server.",
        discussion: "Configuration comes from the environment and ./.env (see .env.example and docs/server.md).",
        subcommands: [Serve.self, Migrate.self, Seed.self, UserCommand.self, AuditCommand.self, ContentCommand.self, SearchCommand.self, MediaCommand.self, Backup.self,
                      Restore.self, Keys.self, EnvExample.self],
        defaultSubcommand: Serve.self)

    /// Swift concurrency's tasks run on the server's event loops (NIO's singleton group, which
    /// Hummingbird serves on), so a request's handler, its middlewares and its I/O stay on one
    /// thread instead of hopping between the event loop and the concurrency pool at every
    /// `await`. What holds a thread for long does not run there: the database has its own
    /// queues, and the engine's odds, packs, media files and password hashing NIO's thread pool.
    static func main() async {
        if !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
            FileHandle.standardError.write(Data("warning: Swift concurrency runs on its own pool, not on the event loops\n".utf8))
        }
        await main(nil)
    }
}

/// A failure at run time, not of usage: `error: <message>` on standard error and exit status 1.
/// (ArgumentParser's `ValidationError`, status 64, is for what the command line itself gets
/// wrong: an unknown option, a role or a store that does not exist.)
func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(1)
}

/// Options every subcommand takes.
struct Common: ParsableArguments {
    @Option(name: .customLong("env-file"), help: "The .env file to read, besides the environment.")
    var environmentFile = ".env"

    func load() async throws -> ServerConfiguration {
        do {
            let configuration = try await ServerConfiguration.load(environmentFile: environmentFile)
            ServerLogging.bootstrap(configuration)
            return configuration
        } catch let error as ConfigurationError {
            // Not a usage error: say what is wrong and stop.
            throw failure("configuration: \(error.description)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve HTTP until SIGINT or SIGTERM (the default).")
    @OptionGroup var common: Common

    func run() async throws {
        let configuration = try await common.load()
        ServerMetrics.bootstrapMetricsSystem()
        do {
            try await ServerApplication.run(configuration: configuration, logger: Logger(label: "rfl-server"))
        } catch let error as ConfigurationError {
            // Found at start (packs that do not load, a media store that does not answer).
            throw failure("configuration: \(error.description)")
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or bring the database to the current schema.")
    @OptionGroup var common: Common

    func run() async throws {
        let configuration = try await common.load()
        for migration in try await ServerOperations.migrate(configuration) { print("applied: \(migration)") }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create demonstration accounts (a game master, players, a designer).")
    @OptionGroup var common: Common

    func run() async throws {
        let configuration = try await common.load()
        for account in try await ServerOperations.seed(configuration) {
            print("\(account.username) (\(account.role.rawValue)): " + (account.password.map { "password \($0)" } ?? "exists, left as it is"))
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage accounts.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account; its password is read from standard input.")
        @OptionGroup var common: Common
        @Argument(help: "The username.") var name: String
        @Option(help: "player, game_master, content_designer or admin.") var role: String = "player"
        @Option(help: "An email address.") var email: String?

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))") }
            let configuration = try await common.load()
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("give the password on standard input") }
            do {
                let id = try await ServerOperations.addUser(configuration, username: name, role: role, email: email, password: line)
                print("created \(name) (\(role.rawValue)), id \(id)")
            } catch let error as OperationError {
                throw failure(error.description)
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; exit 1 when an event was altered or removed.")
        @OptionGroup var common: Common

        func run() async throws {
            let verification = try await ServerOperations.verifyAudit(try await common.load())
            for problem in verification.problems { print("broken: \(problem)") }
            print("\(verification.events) events, head \(verification.head): \(verification.isIntact ? "intact" : "BROKEN")")
            if !verification.isIntact { throw ExitCode(1) }
        }
    }
}

struct ContentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "content", abstract: "Game content (vocabulary, lore, lessons).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load content from a JSON file: {\"entries\":[{\"model\":\"vocabulary\",\"entry\":{…}}]}, as the CMS webhook sends it (docs/content.md).")
        @Argument(help: "The JSON file.") var file: String
        @OptionGroup var common: Common

        func run() async throws {
            let count = try await ServerOperations.importContent(try await common.load(), from: file)
            print("\(count.stored) entries imported and indexed" + (count.older == 0 ? "" : "; \(count.older) older than the stored ones left as they are"))
        }
    }
}

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "The search index.", subcommands: [Rebuild.self])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the search index again from the stored content and packs.")
        @OptionGroup var common: Common

        func run() async throws {
            print("\(try await ServerOperations.rebuildSearch(try await common.load())) rows indexed")
        }
    }
}

struct MediaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "media", abstract: "Uploaded media (images, recordings).", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every stored media file from another store into the configured one (RFL_MEDIA_BACKEND), each checked by its SHA-256.",
            discussion: "Files the configured store has are skipped, so it may be run again; nothing is deleted from the source. Exit 1 when a file is missing or damaged in the source (docs/media.md).")
        @OptionGroup var common: Common
        @Option(help: "The store to copy from: local (RFL_MEDIA_DIR) or s3 (RFL_S3_*).") var from: String

        func run() async throws {
            guard let source = ServerConfiguration.MediaBackend(rawValue: from) else { throw ValidationError("--from must be local or s3") }
            let configuration = try await common.load()
            let result: ServerOperations.MediaCopy
            do {
                result = try await ServerOperations.copyMedia(configuration, from: source) { print($0) }
            } catch let error as OperationError {
                throw failure(error.description)
            }
            for (sha256, reason) in result.failed.sorted(by: { $0.key < $1.key }) { print("failed: \(sha256): \(reason)") }
            print("\(result.copied) copied, \(result.present) already there, \(result.failed.count) failed")
            if !result.failed.isEmpty { throw ExitCode(1) }
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Copy the database, consistently, while the server may be serving.")
    @OptionGroup var common: Common
    @Argument(help: "The new backup file.") var path: String

    func run() async throws {
        let configuration = try await common.load()
        do {
            try ServerOperations.backup(configuration, to: path)
        } catch let error as OperationError {
            throw failure(error.description)
        }
        print("backed up to \(path)")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replace the database with a checked backup (the server must be stopped).")
    @OptionGroup var common: Common
    @Argument(help: "The backup file.") var path: String

    func run() async throws {
        let configuration = try await common.load()
        do {
            try ServerOperations.restore(configuration, from: path)
        } catch let error as OperationError {
            throw failure(error.description)
        }
        print("restored from \(path)")
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The signing keys of access tokens.", subcommands: [Rotate.self, Prune.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new signing key; the old one keeps verifying until pruned.")
        @OptionGroup var common: Common

        func run() async throws {
            let configuration = try await common.load()
            let store = KeyStore(dataDirectory: configuration.dataDirectory, signingFile: configuration.signingKeyFile)
            do {
                let (retired, current) = try store.rotate()
                print("retired \(retired); signing with \(current). Restart the server to use it.")
            } catch let error as ConfigurationError {
                throw failure(error.description)
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete retired keys older than the access-token lifetime.")
        @OptionGroup var common: Common

        func run() async throws {
            let configuration = try await common.load()
            let store = KeyStore(dataDirectory: configuration.dataDirectory, signingFile: configuration.signingKeyFile)
            for kid in try store.prune(olderThan: Double(configuration.accessTokenLifetime)) { print("deleted \(kid)") }
        }
    }
}

struct EnvExample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env-example", abstract: "Print .env.example: every setting with its default.")

    func run() async throws {
        print(ServerConfiguration.environmentExample, terminator: "")
    }
}
