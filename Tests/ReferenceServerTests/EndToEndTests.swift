import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
@testable import ReferenceServer
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `rfl-server` binary, started on a free port in a temporary folder, spoken to over
/// HTTP, and stopped with SIGTERM.
@Suite struct EndToEndTests {
    static var binary: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("rfl-server")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/rfl-server")
    }

    /// Waits until `condition` holds, checking every 20 ms, for at most `seconds`.
    static func wait(_ seconds: Double, until condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    @Test func theBinaryServesAndStopsCleanly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--env-file", folder + "/.env"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RFL_") }
        environment["RFL_PORT"] = "0"
        environment["RFL_DATA_DIR"] = folder + "/data"
        environment["RFL_BCRYPT_COST"] = "4"
        environment["RFL_LOG_FORMAT"] = "json"
        environment["RFL_RULESETS_DIR"] = TestServer.rulesets
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let log = Mutex("")
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            log.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // The port it chose, from its JSON log line.
        var port: Int?
        let started = try await Self.wait(60) {
            let text = log.withLock { $0 }
            if let match = text.firstMatch(of: /"address":"127\.0\.0\.1:(\d+)"/) { port = Int(match.1) }
            return port != nil || !process.isRunning
        }
        let port1 = try #require(port, "started: \(started); log:\n\(log.withLock { $0 })")
        #expect(log.withLock { $0 }.contains(#""message":"no signing key was configured: generated one""#))

        let client = TestClient(host: "127.0.0.1", port: port1)
        client.connect()
        func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            if json != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(.init(path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }))
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body ?? ByteBuffer()))) as? [String: Any] ?? [:]
            return (response.status, object)
        }
        #expect(try await call(.get, "/readyz").0 == .ok)
        #expect(try await call(.post, "/v1/auth/register", json: #"{"username":"ana","password":"a long enough passphrase"}"#).0 == .created)
        let (status, tokens) = try await call(.post, "/v1/auth/login", json: #"{"username":"ana","password":"a long enough passphrase"}"#)
        #expect(status == .ok)
        let (meStatus, me) = try await call(.get, "/v1/me", token: tokens["access_token"] as? String)
        #expect(meStatus == .ok && me["username"] as? String == "ana")
        try await client.shutdown()

        // A second instance over the same folder is refused while the first runs.
        let second = Process()
        second.executableURL = Self.binary
        second.arguments = ["serve"]
        second.environment = environment
        second.standardError = FileHandle.nullDevice
        try second.run()
        second.waitUntilExit()
        #expect(second.terminationStatus != 0)

        // SIGTERM: requests finish, the database closes, the exit status is 0.
        kill(process.processIdentifier, SIGTERM)
        #expect(try await Self.wait(30) { !process.isRunning })
        #expect(process.terminationStatus == 0, "\(log.withLock { $0 })")
        errors.fileHandleForReading.readabilityHandler = nil
        #expect(log.withLock { $0 }.contains(#""message":"database closed""#))
        let lines = log.withLock { $0 }.split(separator: "\n")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "every log line is JSON")
        #expect(!log.withLock { $0 }.contains("a long enough passphrase"), "no password in the logs")
    }

    @Test func operationsFromTheCommandLine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func run(_ arguments: [String], input: String? = nil, configured: Bool = true) throws -> (Int32, String, String) {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = arguments + (configured ? ["--env-file", folder + "/none.env"] : [])
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RFL_") }
            environment["RFL_DATA_DIR"] = folder + "/data"
            environment["RFL_BCRYPT_COST"] = "4"
            process.environment = environment
            let out = Pipe(), err = Pipe(), stdin = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = stdin
            try process.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try stdin.fileHandleForWriting.close()
            let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output, error)
        }
        let migrated = try run(["migrate"])
        #expect(migrated.0 == 0 && migrated.1.contains("applied: 1-accounts-sessions-audit"))
        let admin = try run(["user", "add", "root", "--role", "admin"], input: "a long enough passphrase\n")
        #expect(admin.0 == 0 && admin.1.hasPrefix("created root (admin)"), "\(admin)")
        let weak = try run(["user", "add", "weak", "--role", "player"], input: "password\n")
        #expect(weak.0 == 1 && weak.2.contains("error: ") && weak.2.contains("the password is refused"), "\(weak)")
        let badRole = try run(["user", "add", "x", "--role", "emperor"], input: "a long enough passphrase\n")
        #expect(badRole.0 == 64 && badRole.2.contains("--role must be one of"), "\(badRole)")
        let seeded = try run(["seed"])
        #expect(seeded.0 == 0 && seeded.1.contains("demo-gm (game_master): password "))
        let again = try run(["seed"])
        #expect(again.1.contains("demo-gm (game_master): exists, left as it is"))
        let audit = try run(["audit", "verify"])
        #expect(audit.0 == 0 && audit.1.contains("5 events") && audit.1.contains("intact"))
        let backup = try run(["backup", folder + "/copy.sqlite"])
        #expect(backup.0 == 0)
        let restore = try run(["restore", folder + "/copy.sqlite"])
        #expect(restore.0 == 0 && restore.1.contains("restored"))
        let noKey = try run(["keys", "rotate"])
        #expect(noKey.0 == 1 && noKey.2.contains("there is no signing key"), "\(noKey)")
        try KeyStore(dataDirectory: folder + "/data", signingFile: nil).generate()
        let rotate = try run(["keys", "rotate"])
        #expect(rotate.0 == 0 && rotate.1.hasPrefix("retired "))
        #expect(try run(["keys", "prune"]).1.isEmpty)
        // Media copies: into the store in use, from a store not configured, from no store at all.
        let sameStore = try run(["media", "copy", "--from", "local"])
        #expect(sameStore.0 == 1 && sameStore.2.contains("the media are already in local storage"), "\(sameStore)")
        let noS3 = try run(["media", "copy", "--from", "s3"])
        #expect(noS3.0 == 1 && noS3.2.contains("RFL_S3_ENDPOINT, RFL_S3_BUCKET, RFL_S3_ACCESS_KEY_ID and RFL_S3_SECRET_ACCESS_KEY are needed"), "\(noS3)")
        let badSource = try run(["media", "copy", "--from", "floppy"])
        #expect(badSource.0 == 64 && badSource.2.contains("--from must be local or s3"), "\(badSource)")
        let example = try run(["env-example"], configured: false)
        #expect(example.1 == ServerConfiguration.environmentExample)
        let badConfig = Process()
        badConfig.executableURL = Self.binary
        badConfig.arguments = ["migrate", "--env-file", folder + "/none.env"]
        badConfig.environment = ["RFL_PORT": "eighty", "RFL_DATA_DIR": folder + "/data"]
        let badErrors = Pipe()
        badConfig.standardError = badErrors
        try badConfig.run()
        let message = String(decoding: badErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        badConfig.waitUntilExit()
        #expect(badConfig.terminationStatus == 1 && message.contains("RFL_PORT: 'eighty' is not a whole number from 0 to 65535"))
    }
}

@Suite struct ConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() async throws {
        let configuration = try await ServerConfiguration.load(environmentFile: nil, environment: [:])
        let documented = Dictionary(ServerConfiguration.keys.map { ($0.key, $0.default) }, uniquingKeysWith: { a, _ in a })
        #expect(documented["RFL_PORT"] == String(configuration.port))
        #expect(documented["RFL_HOST"] == configuration.host)
        #expect(documented["RFL_DATA_DIR"] == configuration.dataDirectory)
        #expect(documented["RFL_ACCESS_TOKEN_TTL"] == String(configuration.accessTokenLifetime))
        #expect(documented["RFL_REFRESH_TOKEN_TTL"] == String(configuration.refreshTokenLifetime))
        #expect(documented["RFL_BCRYPT_COST"] == String(configuration.bcryptCost))
        #expect(documented["RFL_PASSWORD_MIN_LENGTH"] == String(configuration.passwordMinimumLength))
        #expect(documented["RFL_RATE_LIMIT_PER_MINUTE"] == String(configuration.rateLimit.perMinute))
        #expect(documented["RFL_RATE_LIMIT_BURST"] == String(configuration.rateLimit.burst))
        #expect(documented["RFL_AUTH_RATE_LIMIT_PER_MINUTE"] == String(configuration.authRateLimit.perMinute))
        #expect(documented["RFL_AUTH_RATE_LIMIT_BURST"] == String(configuration.authRateLimit.burst))
        #expect(documented["RFL_ACCOUNT_RATE_LIMIT_PER_MINUTE"] == String(configuration.accountRateLimit.perMinute))
        #expect(documented["RFL_ACCOUNT_RATE_LIMIT_BURST"] == String(configuration.accountRateLimit.burst))
        #expect(documented["RFL_LOGIN_FAILURES_BEFORE_BACKOFF"] == String(configuration.loginFailuresBeforeBackoff))
        #expect(documented["RFL_LOGIN_BACKOFF_MAX"] == String(configuration.loginBackoffMaximum))
        #expect(documented["RFL_MAX_BODY_BYTES"] == String(configuration.maxBodyBytes))
        #expect(documented["RFL_LOG_LEVEL"] == configuration.logLevel.rawValue)
        #expect(documented["RFL_LOG_FORMAT"] == configuration.logFormat.rawValue)
    }

    @Test func theEnvironmentWinsOverTheFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-\(UUID().uuidString).env").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "RFL_PORT=1234\nRFL_HOST=0.0.0.0\n# a comment\nRFL_TRUSTED_PROXIES=10.0.0.0/8, ::1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try await ServerConfiguration.load(environmentFile: file, environment: ["RFL_PORT": "4321", "RFL_LOG_LEVEL": "DEBUG"])
        #expect(configuration.port == 4321 && configuration.host == "0.0.0.0" && configuration.logLevel == .debug)
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8", "::1"])
    }

    @Test func badValuesNameTheirKey() async throws {
        let cases: [([String: String], String)] = [
            (["RFL_PORT": "70000"], "RFL_PORT: '70000' is not a whole number from 0 to 65535"),
            (["RFL_BCRYPT_COST": "3"], "RFL_BCRYPT_COST: '3' is not a whole number from 4 to 16"),
            (["RFL_LOG_LEVEL": "loud"], "RFL_LOG_LEVEL: 'loud' is not one of"),
            (["RFL_LOG_FORMAT": "xml"], "RFL_LOG_FORMAT: 'xml' is not text or json"),
            (["RFL_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"], "RFL_TRUSTED_PROXIES: 'proxy.local' is not an IP address or CIDR range"),
            (["RFL_PASSWORD_MIN_LENGTH": "6"], "RFL_PASSWORD_MIN_LENGTH: '6' is not a whole number from 8 to 64"),
            (["RFL_MEDIA_BACKEND": "b2"], "RFL_MEDIA_BACKEND: 'b2' is not local or s3"),
            (["RFL_MEDIA_BACKEND": "s3", "RFL_S3_BUCKET": "rfl-media"],
             "the S3 media store needs RFL_S3_ENDPOINT, RFL_S3_ACCESS_KEY_ID, RFL_S3_SECRET_ACCESS_KEY"),
            (["RFL_S3_ENDPOINT": "https://s3.example.com"], "the S3 media store needs RFL_S3_BUCKET, RFL_S3_ACCESS_KEY_ID, RFL_S3_SECRET_ACCESS_KEY"),
            (["RFL_MEDIA_BACKEND": "s3", "RFL_S3_ENDPOINT": "ftp://files.example.com", "RFL_S3_BUCKET": "rfl-media", "RFL_S3_ACCESS_KEY_ID": "K004", "RFL_S3_SECRET_ACCESS_KEY": "secret"],
             "RFL_S3_ENDPOINT: 'ftp://files.example.com' is not an http or https URL of a host"),
            (["RFL_MEDIA_BACKEND": "s3", "RFL_S3_ENDPOINT": "https://s3.us-west-004.backblazeb2.com", "RFL_S3_BUCKET": "Media_Files", "RFL_S3_ACCESS_KEY_ID": "K004", "RFL_S3_SECRET_ACCESS_KEY": "secret"],
             "RFL_S3_BUCKET: 'Media_Files' is not a bucket name"),
            (["RFL_MEDIA_BACKEND": "s3", "RFL_S3_REGION": "us west", "RFL_S3_ENDPOINT": "https://s3.us-west-004.backblazeb2.com", "RFL_S3_BUCKET": "rfl-media", "RFL_S3_ACCESS_KEY_ID": "K004", "RFL_S3_SECRET_ACCESS_KEY": "secret"], "RFL_S3_REGION: 'us west' is not a region name"),
            (["RFL_MEDIA_BACKEND": "s3", "RFL_S3_TIMEOUT": "0", "RFL_S3_ENDPOINT": "https://s3.us-west-004.backblazeb2.com", "RFL_S3_BUCKET": "rfl-media", "RFL_S3_ACCESS_KEY_ID": "K004", "RFL_S3_SECRET_ACCESS_KEY": "secret"], "RFL_S3_TIMEOUT: '0' is not a whole number from 1 to 600"),
            (["RFL_MEDIA_LINK_TTL": "604801"], "RFL_MEDIA_LINK_TTL: '604801' is not a whole number from 1 to 604800"),
        ]
        for (environment, message) in cases {
            await #expect { try await ServerConfiguration.load(environmentFile: nil, environment: environment) } throws: { error in
                "\(error)".hasPrefix(message)
            }
        }
    }

    @Test func anS3StoreIsReadFromItsKeys() async throws {
        let configuration = try await ServerConfiguration.load(environmentFile: nil, environment: [
            "RFL_MEDIA_BACKEND": "S3", "RFL_S3_REGION": "us-west-004", "RFL_S3_TIMEOUT": "5", "RFL_S3_ENDPOINT": "https://s3.us-west-004.backblazeb2.com", "RFL_S3_BUCKET": "rfl-media", "RFL_S3_ACCESS_KEY_ID": "K004", "RFL_S3_SECRET_ACCESS_KEY": "secret",
        ])
        #expect(configuration.mediaBackend == .s3 && configuration.s3?.bucket == "rfl-media" && configuration.s3?.region == "us-west-004")
        #expect(configuration.s3?.endpoint == "https://s3.us-west-004.backblazeb2.com" && configuration.s3?.timeout == .seconds(5))
        #expect(configuration.s3?.credentials.accessKeyId == "K004" && configuration.s3?.credentials.secretAccessKey == "secret")
        // The keys without the backend: read (for `media copy --from s3`), the media stay local.
        let local = try await ServerConfiguration.load(environmentFile: nil, environment: [
            "RFL_S3_ENDPOINT": "https://s3.us-west-004.backblazeb2.com", "RFL_S3_BUCKET": "rfl-media", "RFL_S3_ACCESS_KEY_ID": "K004", "RFL_S3_SECRET_ACCESS_KEY": "secret",
        ])
        #expect(local.mediaBackend == .local && local.s3?.region == "us-east-1")
    }

    /// With PostgreSQL (several instances, each its own data folder), local media need a folder
    /// named explicitly, to be shared; S3 needs nothing more. SQLite keeps the default folder.
    @Test func mediaOnPostgreSQLAreWhereEveryInstanceFindsThem() async throws {
        let database = ["RFL_DATABASE_URL": "postgres://rfl:secret@127.0.0.1:5432/rfl"]
        await #expect { try await ServerConfiguration.load(environmentFile: nil, environment: database) } throws: { error in
            "\(error)".hasPrefix("with RFL_DATABASE_URL, media files must be where every instance finds them")
                && !"\(error)".contains("secret")
        }
        let shared = try await ServerConfiguration.load(environmentFile: nil, environment: database.merging(["RFL_MEDIA_DIR": "/srv/rfl-media"]) { a, _ in a })
        #expect(shared.mediaPath == "/srv/rfl-media")
        let s3 = try await ServerConfiguration.load(environmentFile: nil, environment: database.merging([
            "RFL_MEDIA_BACKEND": "s3", "RFL_S3_ENDPOINT": "http://127.0.0.1:9000", "RFL_S3_BUCKET": "media", "RFL_S3_ACCESS_KEY_ID": "k",
            "RFL_S3_SECRET_ACCESS_KEY": "s",
        ]) { a, _ in a })
        #expect(s3.mediaBackend == .s3)
        #expect(try await ServerConfiguration.load(environmentFile: nil, environment: [:]).mediaBackend == .local)
    }

    @Test func packsThatDoNotLoadStopTheStart() async throws {
        let server = try TestServer { $0.rulesetsDirectory = "/nonexistent/rulesets" }
        await #expect { _ = try await server.application() } throws: { error in
            "\(error)".contains("RFL_RULESETS_DIR: the packs in /nonexistent/rulesets do not load") && "\(error)".contains("cannot read")
        }
    }

    @Test func theExampleFileListsEveryKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent(".env.example"), encoding: .utf8)
        #expect(example == ServerConfiguration.environmentExample, "regenerate with: swift run rfl-server env-example > .env.example")
        // And the guide documents every key.
        let guide = try String(contentsOf: root.appendingPathComponent("docs/server.md"), encoding: .utf8)
        for entry in ServerConfiguration.keys { #expect(guide.contains("`\(entry.key)`"), "\(entry.key) in docs/server.md") }
    }
}
