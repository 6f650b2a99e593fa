import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import ReferenceServer
import Synchronization
import Testing

/// A server in a temporary data folder, with fast bcrypt and generous limits unless a test sets
/// its own, and a clock the test moves by hand for the rate limiters. Its database is SQLite in
/// that folder, or, when the run sets `RFL_TEST_SERVER_ENGINE=postgresql` beside
/// `RFL_TEST_DATABASE_URL`, a new PostgreSQL database of its own (`make postgres-test` runs the
/// play and live tests so).
final class TestServer: Sendable {
    let configuration: ServerConfiguration
    let folder: String
    let clock = ManualClock()
    private let ownsFolder: Bool

    /// A server over a new temporary folder, removed with the server; or over `sharing`'s.
    init(sharing other: TestServer? = nil, _ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws {
        folder = other?.folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("rfl-server-\(UUID().uuidString)").path
        ownsFolder = other == nil
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = ServerConfiguration()
        configuration.dataDirectory = folder
        configuration.databaseURL = try other?.configuration.databaseURL ?? TestServer.newPostgresDatabase()
        configuration.port = 0
        configuration.bcryptCost = 4
        configuration.passwordMinimumLength = 12
        configuration.rateLimit = .init(perMinute: 100_000, burst: 100_000)
        configuration.authRateLimit = .init(perMinute: 100_000, burst: 100_000)
        configuration.accountRateLimit = .init(perMinute: 100_000, burst: 100_000)
        configuration.logLevel = .warning
        // The test clients keep one connection for a whole test, which may wait on a socket for
        // longer than the head timeout: no test here is about that timeout (the hostile suite is).
        configuration.headTimeoutSeconds = 600
        configuration.rulesetsDirectory = TestServer.rulesets
        adjust(&configuration)
        self.configuration = configuration
    }

    deinit {
        if ownsFolder { try? FileManager.default.removeItem(atPath: folder) }
    }

    func application() async throws -> some ApplicationProtocol {
        // As rfl-server does at start: Hummingbird's request metrics into the server's registry.
        ServerMetrics.bootstrapMetricsSystem()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let clock = self.clock
        return try await ServerApplication.build(configuration: configuration, logger: logger,
                                               hooks: .init(rateLimitClock: { clock.now }, wallClock: { Date(timeIntervalSince1970: 1_800_000_000 + clock.now) }))
    }

    /// Runs `body` against the application through Hummingbird's router test framework.
    func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await application().test(.router, body)
    }

    /// The same over real TCP (for client addresses and the like).
    func testLive<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await application().test(.live, body)
    }

    /// An account made directly, as `rfl-server user add` does.
    @discardableResult
    func addUser(_ name: String, role: Role = .player, password: String = TestServer.password) async throws -> String {
        try await ServerOperations.addUser(configuration, username: name, role: role, email: nil, password: password)
    }

    /// A new, empty database beside `RFL_TEST_DATABASE_URL`'s when the run asks for PostgreSQL
    /// servers, made with `psql` (the initializer is synchronous; the cluster is thrown away
    /// with its databases after the run); nil otherwise.
    static func newPostgresDatabase() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["RFL_TEST_SERVER_ENGINE"] == "postgresql" else { return nil }
        guard let server = environment[StoreEngine.urlVariable], var components = URLComponents(string: server) else {
            throw ConfigurationError("RFL_TEST_SERVER_ENGINE=postgresql needs \(StoreEngine.urlVariable)")
        }
        let name = "rfl_server_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", "--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1", server, "--command=CREATE DATABASE \(name)"]
        try psql.run()
        psql.waitUntilExit()
        guard psql.terminationStatus == 0 else { throw ConfigurationError("psql could not create the test database \(name)") }
        components.path = "/" + name
        return components.string
    }

    static let password = "a long enough passphrase"
    static let rulesets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("rulesets").path
}

/// A clock for the rate limiters that moves only when told.
final class ManualClock: Sendable {
    private let value = Mutex<Double>(1000)
    var now: Double { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
}

/// The parts of a response the tests read.
struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    /// The `errors` of a problem, as field → message.
    var fieldErrors: [String: String] {
        Dictionary(((json["errors"] as? [[String: Any]]) ?? []).map { ($0["field"] as? String ?? "", $0["message"] as? String ?? "") },
                   uniquingKeysWith: { a, _ in a })
    }
    var problemType: String? { (json["type"] as? String)?.replacingOccurrences(of: Problem.typePrefix, with: "") }
}

extension TestClientProtocol {
    /// A request with an optional bearer token and JSON body.
    func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Logs in and returns the access and refresh tokens.
    func login(_ username: String, _ password: String = TestServer.password) async throws -> (access: String, refresh: String) {
        let reply = try await call(.post, "/v1/auth/login", json: #"{"username":"\#(username)","password":"\#(password)"}"#)
        #expect(reply.status == .ok, "\(reply.text)")
        return (reply.json["access_token"] as? String ?? "", reply.json["refresh_token"] as? String ?? "")
    }

    func register(_ username: String, _ password: String = TestServer.password) async throws -> Reply {
        try await call(.post, "/v1/auth/register", json: #"{"username":"\#(username)","password":"\#(password)"}"#)
    }
}
