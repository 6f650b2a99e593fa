import ContentPacks
import Foundation
import GRDB
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle

/// What the handlers and middlewares share, built once at start.
struct Services: Sendable {
    let configuration: ServerConfiguration
    let storage: Storage
    /// The packs loaded at start, composed.
    let rulesets: LoadedRuleset
    /// Published packs, and the rulesets campaigns pin.
    let packs: PackLibrary
    /// Where the campaigns' events reach live sockets.
    let live: any LiveHub
    let tokens: TokenService
    let contract: APIContract
    let localizer: Localizer
    let metrics: ServerMetrics
    let documentationPage: String
    /// The dice lab's files, by name.
    let lab: [String: [UInt8]]
    let addressLimiter: RateLimiter
    let authenticationLimiter: RateLimiter
    let accountLimiter: RateLimiter
    /// The game's services.
    let rules: CampaignRules
    let play: PlayService
    let campaigns: CampaignService
    let characters: CharacterService
    /// Accounts, sessions and users; the audit log as admins read it.
    let accounts: AccountService
    let auditLog: AuditService
    /// Publishing packs (``packs`` checks and composes them).
    let publishedPacks: PackService
    let content: ContentService
    let media: MediaService
    /// Exact odds and sample rolls.
    let odds: OddsService
}

/// The reference server: ``build(configuration:logger:)`` makes the application (used by
/// `rfl-server` and by the tests); ``run(configuration:logger:)`` also runs it until SIGINT or
/// SIGTERM, letting requests in flight finish and closing the database.
public enum ServerApplication {
    /// Options for tests: a clock for the rate limiters, a callback with the bound port.
    public struct Hooks: Sendable {
        public var rateLimitClock: (@Sendable () -> Double)?
        /// The time the accounts read (the login backoff, the sessions).
        public var wallClock: (@Sendable () -> Date)?
        public var onServerRunning: (@Sendable (Int) async -> Void)?
        public init(rateLimitClock: (@Sendable () -> Double)? = nil, wallClock: (@Sendable () -> Date)? = nil,
                    onServerRunning: (@Sendable (Int) async -> Void)? = nil) {
            self.rateLimitClock = rateLimitClock
            self.wallClock = wallClock
            self.onServerRunning = onServerRunning
        }
    }

    /// Opens the data folder and the database (migrating it), loads the signing keys, the
    /// contract and the catalogs, and assembles the middleware stack and the routes.
    public static func build(configuration: ServerConfiguration, logger: Logger, hooks: Hooks = Hooks()) async throws -> some ApplicationProtocol {
        let services = try await services(configuration: configuration, logger: logger, hooks: hooks)
        let router = try router(services)
        let onRunning = hooks.onServerRunning
        var app = Application(
            router: router,
            server: .guardedHTTP1WebSocketUpgrade(
                webSocketRouter: router,
                configuration: .init(
                    // A request's head: 16 KiB a line (a URL, a header), 32 KiB in all, 100 header fields.
                    http1: .init(httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 << 10, maxHeaderListSize: 32 << 10, maxHeaderFieldCount: 100)),
                    ws: .init(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(Int64(configuration.liveHeartbeatSeconds * 2))))),
                headTimeout: .seconds(Int64(configuration.headTimeoutSeconds)), bodyTimeout: .seconds(Int64(configuration.bodyTimeoutSeconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rfl-server"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("rfl-server listening", metadata: ["address": "\(configuration.host):\(port)"])
                await onRunning?(port)
            },
            logger: logger)
        app.addServices(DatabaseCloser(storage: services.storage, logger: logger))
        // Added after the database's closer, so stopped before it.
        if let doorbell = services.storage.doorbell {
            app.addServices(LiveRelay(doorbell: doorbell, hub: services.live, play: services.play, logger: logger))
        }
        return app
    }

    /// What the handlers share: the storage, the packs, the media store, the signing keys, the
    /// contract, the catalogs, the rate limiters and the game's services.
    static func services(configuration: ServerConfiguration, logger: Logger, hooks: Hooks) async throws -> Services {
        try KeyStore.makeFolder(configuration.dataDirectory)
        let storage = try await StorageEngine.open(configuration, logger: logger)
        let keys = try KeyStore(dataDirectory: configuration.dataDirectory, signingFile: configuration.signingKeyFile).load(logger: logger)
        let tokens = try await TokenService(signing: keys.signing, retired: keys.retired, issuer: configuration.tokenIssuer,
                                            audience: configuration.tokenAudience, lifetime: configuration.accessTokenLifetime)
        let rulesets: LoadedRuleset
        do {
            rulesets = try PackLoader().load(paths: [configuration.rulesetsDirectory])
        } catch {
            throw ConfigurationError("RFL_RULESETS_DIR: the packs in \(configuration.rulesetsDirectory) do not load:\n"
                                     + error.diagnostics.map(\.description).joined(separator: "\n"))
        }
        logger.info("rulesets loaded", metadata: ["packs": "\(rulesets.packs.map { "\($0.id) \($0.version)" }.joined(separator: ", "))"])
        let blobs = try await configuration.openMediaStore(configuration.mediaBackend)
        logger.info("media store", metadata: ["store": "\(blobs.description)"])
        let packs = PackLibrary(store: storage.packs, indexing: storage.locks)
        for record in try await packs.installBundled(directory: configuration.rulesetsDirectory, logger: logger) {
            logger.notice("bundled pack installed", metadata: ["pack": "\(record.id) \(record.version)"])
            try await packs.reindex(packId: record.id, content: storage.content)
        }
        let contract = try APIContract(document: try ServerResources.openAPIDocument(), passwordMinimumLength: configuration.passwordMinimumLength)
        let clock = hooks.rateLimitClock ?? RateLimiter.monotonicSeconds
        // The game's services take their clock; the server gives them the system's (their tests
        // give them others).
        let systemClock: @Sendable () -> Date = { Date() }
        let live = InProcessLiveHub()
        let events = LiveEventPublisher(hub: live, doorbell: storage.doorbell, logger: logger)
        let audit = AuditTrail(store: storage.audit)
        let rules = CampaignRules(packs: packs, characters: storage.characters)
        // The accounts read the test's wall clock, when one is given, for the login backoff
        // and the sessions' times alike.
        let accounts = AccountService(
            userStore: storage.users, sessionStore: storage.sessions, tokens: tokens, hasher: PasswordHasher(cost: configuration.bcryptCost),
            policy: PasswordPolicy(minimumLength: configuration.passwordMinimumLength),
            limits: .init(failuresBeforeBackoff: configuration.loginFailuresBeforeBackoff, backoffMaximum: configuration.loginBackoffMaximum,
                          refreshTokenLifetime: configuration.refreshTokenLifetime, sessionLifetime: configuration.sessionLifetime),
            audit: audit, now: hooks.wallClock ?? systemClock)
        let media = MediaService(store: storage.media, blobs: blobs, locks: storage.locks,
                                 limits: .init(maxBytes: configuration.maxMediaBytes, quotaBytes: configuration.mediaQuotaBytes,
                                               linkLifetime: configuration.mediaLinkLifetime),
                                 audit: audit, logger: logger, now: systemClock)
        return Services(
            configuration: configuration, storage: storage, rulesets: rulesets, packs: packs, live: live, tokens: tokens,
            contract: contract, localizer: try Localizer.load(from: try ServerResources.catalogs()), metrics: ServerMetrics.shared,
            documentationPage: DocumentationPage.render(contract), lab: try ServerResources.lab(),
            addressLimiter: RateLimiter(configuration.rateLimit, clock: clock),
            authenticationLimiter: RateLimiter(configuration.authRateLimit, clock: clock),
            accountLimiter: RateLimiter(configuration.accountRateLimit, clock: clock),
            rules: rules,
            play: PlayService(store: storage.play, rules: rules, events: events, audit: audit, now: systemClock),
            campaigns: CampaignService(store: storage.campaigns, packs: packs, events: events, audit: audit, now: systemClock),
            characters: CharacterService(store: storage.characters, rules: rules, events: events, audit: audit, now: systemClock),
            accounts: accounts, auditLog: AuditService(store: storage.audit),
            publishedPacks: PackService(store: storage.packs, library: packs, content: storage.content, audit: audit, now: systemClock),
            content: ContentService(store: storage.content, webhook: .init(secret: configuration.cmsWebhookSecret, authentication: configuration.cmsWebhookAuth),
                                    audit: audit, now: systemClock),
            media: media,
            odds: OddsService(campaigns: storage.campaigns, rules: rules, packs: packs, maxOddsWork: configuration.oddsMaxWork))
    }

    /// The path of a request: the router chooses the route, and so the operation, once;
    /// everything after it is keyed by that operation (ScopeMiddleware names it).
    static func router(_ services: Services) throws -> Router<ServerContext> {
        let configuration = services.configuration
        let router = Router(context: ServerContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ScopeMiddleware(localizer: services.localizer, trustedProxies: configuration.trustedProxies, contract: services.contract))
        router.add(middleware: LogRequestsMiddleware(.info, includeHeaders: .none))
        router.add(middleware: AddressRateLimitMiddleware(general: services.addressLimiter, authentication: services.authenticationLimiter))
        let authenticator = Authenticator(tokens: services.tokens, sessions: services.storage.sessions)
        let contractCheck = ContractMiddleware(contract: services.contract)
        router.add(middleware: AuthenticationMiddleware(authenticator: authenticator, accountLimiter: services.accountLimiter))
        router.add(middleware: LiveUpgradeMiddleware(live: LiveSocket(services: services, authenticator: authenticator), contract: contractCheck))
        router.add(middleware: AccessMiddleware())
        router.add(middleware: BodyLimitMiddleware(limits: .init(json: configuration.maxBodyBytes, pack: configuration.maxPackBytes,
                                                                 media: configuration.maxMediaBytes)))
        router.add(middleware: contractCheck)
        router.add(middleware: CampaignAccessMiddleware(campaigns: services.storage.campaigns))
        try API(services: services).registerHandlers(
            on: router, configuration: .init(dateTranscoder: .rfc3339, jsonEncodingOptions: [.sortedKeys]),
            middlewares: [ResponseOverridesMiddleware(), EntityTagMiddleware(), EmptyBodyMiddleware()])
        return router
    }

    /// Builds the application and runs it until SIGINT or SIGTERM.
    public static func run(configuration: ServerConfiguration, logger: Logger) async throws {
        try KeyStore.makeFolder(configuration.dataDirectory)
        let lock = try ServerLock(dataDirectory: configuration.dataDirectory)
        defer { lock.release() }
        let app = try await build(configuration: configuration, logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// Closes the database after the HTTP server has stopped (services shut down in reverse order
/// of their start, and this one starts before the server).
struct DatabaseCloser: Service {
    let storage: Storage
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        try await storage.close()
        logger.info("database closed")
    }
}
