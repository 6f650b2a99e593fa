import Configuration
import Foundation
import Logging
import NIOCore
import SystemPackage

/// Everything the server can be told, with the defaults a public deployment would use. Read from
/// the environment and an optional `.env` file (the environment wins); `.env.example` lists
/// every key. Values are checked when read: a bad one stops the start with a message naming the
/// key, never a silent default.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (`RFL_HOST`, `RFL_PORT`; port 0 picks a free one).
    public var host = "127.0.0.1"
    public var port = 8080
    /// Where the database, the signing keys and backups live (`RFL_DATA_DIR`).
    public var dataDirectory = "data"
    /// A PostgreSQL database, `postgres://USER:PASSWORD@HOST:PORT/DB` (`RFL_DATABASE_URL`), for
    /// several instances; without it, SQLite in the data folder.
    public var databaseURL: String?
    /// The packs loaded at start (`RFL_RULESETS_DIR`).
    public var rulesetsDirectory = "rulesets"
    /// `trace` … `critical` (`RFL_LOG_LEVEL`), and `json` or `text` lines (`RFL_LOG_FORMAT`).
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text

    /// Seconds an access token lasts (`RFL_ACCESS_TOKEN_TTL`, 60 to 86400).
    public var accessTokenLifetime = 900
    /// Seconds a session lasts without being refreshed (`RFL_REFRESH_TOKEN_TTL`).
    public var refreshTokenLifetime = 30 * 86_400
    /// Seconds a session lasts at most from its sign-in, however often it is refreshed
    /// (`RFL_SESSION_LIFETIME`): then its refresh fails and its user signs in again.
    public var sessionLifetime = 90 * 86_400
    /// The `iss` and `aud` of access tokens (`RFL_JWT_ISSUER`, `RFL_JWT_AUDIENCE`).
    public var tokenIssuer = "roll-for-language"
    public var tokenAudience = "roll-for-language"
    /// A PEM file with the ES256 signing key (`RFL_JWT_KEY_FILE`); without it, a key is made
    /// in the data folder on first start.
    public var signingKeyFile: String?

    /// bcrypt's cost (`RFL_BCRYPT_COST`, 4 to 16); passwords shorter than
    /// `RFL_PASSWORD_MIN_LENGTH` characters are refused.
    public var bcryptCost = 12
    public var passwordMinimumLength = 12

    /// Token buckets: requests a minute with the burst they allow, per client address on every
    /// route, per client address on the authentication routes, and per account.
    public var rateLimit = RateLimit(perMinute: 300, burst: 60)
    public var authRateLimit = RateLimit(perMinute: 30, burst: 30)
    public var accountRateLimit = RateLimit(perMinute: 600, burst: 120)
    /// Failed logins of one account before each further attempt must wait, and the longest wait.
    public var loginFailuresBeforeBackoff = 5
    public var loginBackoffMaximum = 900
    /// The largest request body accepted, in bytes (`RFL_MAX_BODY_BYTES`).
    public var maxBodyBytes = 1 << 20
    /// The largest pack accepted by `POST /v1/packs`, in bytes (`RFL_MAX_PACK_BYTES`).
    public var maxPackBytes = 4 << 20
    /// Most elementary steps `POST /v1/odds` may take for an expression (`RFL_ODDS_MAX_WORK`).
    public var oddsMaxWork = 20_000_000
    /// Seconds an invitation lasts when its game master gives no time (`RFL_INVITATION_TTL`).
    public var invitationLifetime = 7 * 86_400
    /// Live sockets: messages one client may fall behind before it is cut off
    /// (`RFL_LIVE_BUFFER`), seconds between heartbeats (`RFL_LIVE_HEARTBEAT`), and the
    /// messages a client may send (`RFL_LIVE_MESSAGES_PER_MINUTE`, `RFL_LIVE_MESSAGES_BURST`).
    public var liveBufferLimit = 256
    public var liveHeartbeatSeconds = 20
    public var liveMessagesPerMinute = 60
    public var liveMessagesBurst = 10
    /// The CMS webhook's shared secret (`RFL_CMS_WEBHOOK_SECRET`; without one the hook refuses
    /// every event) and how it is presented (`RFL_CMS_WEBHOOK_AUTH`): `token`, as
    /// `Authorization: Bearer <secret>`, or `hmac`, as `X-Webhook-Signature: sha256=<hex>` of
    /// the body.
    public var cmsWebhookSecret: String?
    public var cmsWebhookAuth = CMSWebhookAuth.token
    public enum CMSWebhookAuth: String, Sendable { case token, hmac }
    /// Media: the largest upload (`RFL_MAX_MEDIA_BYTES`), the bytes one user's uploads may take
    /// (`RFL_MEDIA_QUOTA_BYTES`), and where the files live (`RFL_MEDIA_DIR`, default
    /// `<RFL_DATA_DIR>/media`).
    public var maxMediaBytes = 10 << 20
    public var mediaQuotaBytes = 100 << 20
    public var mediaDirectory: String?
    /// `local` or `s3` (`RFL_MEDIA_BACKEND`); for `s3`, the store (`RFL_S3_ENDPOINT`,
    /// `RFL_S3_BUCKET`, `RFL_S3_REGION`, `RFL_S3_ACCESS_KEY_ID`, `RFL_S3_SECRET_ACCESS_KEY`).
    public var mediaBackend = MediaBackend.local
    public enum MediaBackend: String, Sendable { case local, s3 }
    package var s3: S3BlobStore.Configuration?
    /// Seconds a download link lasts (`RFL_MEDIA_LINK_TTL`).
    public var mediaLinkLifetime = 300
    /// Seconds a client has to send a request's head, from the connection's start or the end of
    /// the previous answer (`RFL_HEAD_TIMEOUT`; an idle connection is closed after it too), and
    /// its whole body, from the end of the head (`RFL_BODY_TIMEOUT`).
    public var headTimeoutSeconds = 10
    public var bodyTimeoutSeconds = 60
    /// Proxies whose `X-Forwarded-For` is believed (`RFL_TRUSTED_PROXIES`, addresses or CIDR
    /// ranges, comma-separated). Empty: the connection's address is the client's.
    public var trustedProxies: [AddressRange] = []

    public enum LogFormat: String, Sendable { case text, json }

    public struct RateLimit: Sendable, Equatable {
        public var perMinute: Int
        public var burst: Int
        public init(perMinute: Int, burst: Int) {
            self.perMinute = perMinute
            self.burst = burst
        }
    }

    public init() {}

    /// The media folder.
    public var mediaPath: String { mediaDirectory ?? dataDirectory + "/media" }

    /// The database file.
    public var databasePath: String { dataDirectory + "/rfl.sqlite" }

    /// Every key, its default and its meaning, from ``settings``: the source of `.env.example`
    /// (a test keeps the two equal) and of the guide's table (a test checks it names each key).
    public static var keys: [(key: String, default: String, meaning: String)] {
        let defaults = ServerConfiguration()
        return settings.map { ($0.key, $0.defaultText(defaults), $0.meaning) }
    }

    /// Every setting, once: its key, its meaning, and how a value is read and checked. The
    /// defaults are the properties' initial values above.
    static var settings: [Setting] {
        [
            .text("RFL_HOST", \.host, "Address to listen on."),
            .integer("RFL_PORT", \.port, 0...65_535, "Port to listen on (0 picks a free one and logs it)."),
            .text("RFL_DATA_DIR", \.dataDirectory, "Folder for the SQLite database, signing keys and backups."),
            Setting(key: "RFL_DATABASE_URL",
                    meaning: "PostgreSQL database as postgres://USER:PASSWORD@HOST:PORT/DB (optional ?sslmode=disable, prefer or require), for several instances; empty: SQLite in RFL_DATA_DIR.",
                    secret: true, defaultText: { _ in "" }) { configuration, raw in
                _ = try PostgresStorage.configuration(url: raw)
                configuration.databaseURL = raw
            },
            .text("RFL_RULESETS_DIR", \.rulesetsDirectory, "Folder of the content packs loaded at start."),
            .choice("RFL_LOG_LEVEL", \.logLevel, Logger.Level.allCases, "trace, debug, info, notice, warning, error or critical."),
            .choice("RFL_LOG_FORMAT", \.logFormat, [.text, .json], "text (key=value) or json (one object a line)."),
            .integer("RFL_ACCESS_TOKEN_TTL", \.accessTokenLifetime, 60...86_400, "Seconds an access token (JWT) lasts, 60 to 86400."),
            .integer("RFL_REFRESH_TOKEN_TTL", \.refreshTokenLifetime, 300...31_536_000, "Seconds a session lasts without a refresh, 300 to 31536000."),
            .integer("RFL_SESSION_LIFETIME", \.sessionLifetime, 300...31_536_000,
                     "Seconds a session lasts at most from its sign-in, however often it is refreshed, 300 to 31536000."),
            .text("RFL_JWT_ISSUER", \.tokenIssuer, "iss of access tokens."),
            .text("RFL_JWT_AUDIENCE", \.tokenAudience, "aud of access tokens."),
            .optionalText("RFL_JWT_KEY_FILE", \.signingKeyFile, secret: true,
                          "PEM file of the ES256 signing key; empty: data/keys/signing.pem, made on first start."),
            .integer("RFL_BCRYPT_COST", \.bcryptCost, 4...16, "bcrypt cost for passwords, 4 to 16 (each step doubles the work)."),
            .integer("RFL_PASSWORD_MIN_LENGTH", \.passwordMinimumLength, 8...64, "Shortest password accepted, in characters, 8 to 64."),
            .integer("RFL_RATE_LIMIT_PER_MINUTE", \.rateLimit.perMinute, 1...1_000_000, "Requests a minute per client address, on every route."),
            .integer("RFL_RATE_LIMIT_BURST", \.rateLimit.burst, 1...1_000_000, "Requests one client address may make at once."),
            .integer("RFL_AUTH_RATE_LIMIT_PER_MINUTE", \.authRateLimit.perMinute, 1...1_000_000,
                     "Requests a minute per client address on the authentication operations (register, login, refresh, logout, changePassword)."),
            .integer("RFL_AUTH_RATE_LIMIT_BURST", \.authRateLimit.burst, 1...1_000_000, "Burst on the authentication operations per client address."),
            .integer("RFL_ACCOUNT_RATE_LIMIT_PER_MINUTE", \.accountRateLimit.perMinute, 1...1_000_000, "Requests a minute per signed-in account."),
            .integer("RFL_ACCOUNT_RATE_LIMIT_BURST", \.accountRateLimit.burst, 1...1_000_000, "Burst per signed-in account."),
            .integer("RFL_LOGIN_FAILURES_BEFORE_BACKOFF", \.loginFailuresBeforeBackoff, 1...1000,
                     "Failed logins of one account before each next attempt must wait."),
            .integer("RFL_LOGIN_BACKOFF_MAX", \.loginBackoffMaximum, 1...86_400, "Longest wait after failed logins, in seconds."),
            .integer("RFL_MAX_BODY_BYTES", \.maxBodyBytes, 1024...(1 << 30), "Largest request body, in bytes."),
            .integer("RFL_MAX_PACK_BYTES", \.maxPackBytes, 1024...(16 << 20),
                     "Largest content pack accepted by POST /v1/packs, in bytes (at most 16777216)."),
            .integer("RFL_ODDS_MAX_WORK", \.oddsMaxWork, 1000...1_000_000_000,
                     "Most elementary steps POST /v1/odds may spend on an expression (about 50 ms at the default)."),
            .integer("RFL_INVITATION_TTL", \.invitationLifetime, 60...2_592_000,
                     "Seconds a campaign invitation lasts unless its game master says otherwise."),
            .integer("RFL_LIVE_BUFFER", \.liveBufferLimit, 1...1_000_000,
                     "Messages a live socket may fall behind before it is closed as a slow consumer."),
            .integer("RFL_LIVE_HEARTBEAT", \.liveHeartbeatSeconds, 1...3600, "Seconds between heartbeats on a live socket."),
            .integer("RFL_LIVE_MESSAGES_PER_MINUTE", \.liveMessagesPerMinute, 1...100_000, "Messages a minute one live socket's client may send."),
            .integer("RFL_LIVE_MESSAGES_BURST", \.liveMessagesBurst, 1...100_000, "Burst of messages one live socket's client may send."),
            .choice("RFL_MEDIA_BACKEND", \.mediaBackend, [.local, .s3],
                    "Where media files live: local (RFL_MEDIA_DIR) or s3 (an S3-compatible store: AWS S3, Backblaze B2, MinIO)."),
            // The S3 store's keys are read together, when any is given (readS3Store).
            .group("RFL_S3_ENDPOINT", "", "With s3: the store's URL, such as https://s3.us-west-004.backblazeb2.com (path-style requests)."),
            .group("RFL_S3_BUCKET", "", "With s3: the bucket (made at start when missing, where the key is allowed to)."),
            .group("RFL_S3_REGION", "us-east-1", "With s3: the region the signatures name."),
            .group("RFL_S3_ACCESS_KEY_ID", "", "With s3: the access key id."),
            .group("RFL_S3_SECRET_ACCESS_KEY", "", "With s3: the secret access key (never logged)."),
            .group("RFL_S3_TIMEOUT", "30", "With s3: seconds one request to the store may take, connecting included."),
            .integer("RFL_MEDIA_LINK_TTL", \.mediaLinkLifetime, 1...604_800, "Seconds a presigned download link lasts, 1 to 604800."),
            Setting(key: "RFL_CMS_WEBHOOK_SECRET", meaning: "Shared secret of the CMS webhook POST /v1/hooks/cms (at least 16 characters); empty: the hook refuses every event.",
                    secret: true, defaultText: { _ in "" }) { configuration, raw in
                guard raw.count >= 16 else { throw ConfigurationError("RFL_CMS_WEBHOOK_SECRET: at least 16 characters") }
                configuration.cmsWebhookSecret = raw
            },
            .choice("RFL_CMS_WEBHOOK_AUTH", \.cmsWebhookAuth, [.token, .hmac],
                    "token (Authorization: Bearer <secret>) or hmac (X-Webhook-Signature: sha256=<HMAC-SHA256 of the body>)."),
            .integer("RFL_MAX_MEDIA_BYTES", \.maxMediaBytes, 1024...(1 << 30), "Largest media upload (image or recording), in bytes."),
            .integer("RFL_MEDIA_QUOTA_BYTES", \.mediaQuotaBytes, 0...(1 << 40), "Bytes one user's uploads may take in all."),
            .optionalText("RFL_MEDIA_DIR", \.mediaDirectory, "Folder of the media files; empty: media/ in RFL_DATA_DIR."),
            .integer("RFL_HEAD_TIMEOUT", \.headTimeoutSeconds, 1...600,
                     "Seconds a client has to send a request's head (from connecting or the previous answer), 1 to 600; then the connection is closed."),
            .integer("RFL_BODY_TIMEOUT", \.bodyTimeoutSeconds, 1...3600,
                     "Seconds a client has to send a request's whole body, 1 to 3600; then it is answered 408 and the connection closed."),
            Setting(key: "RFL_TRUSTED_PROXIES", meaning: "Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges, comma-separated.",
                    defaultText: { _ in "" }) { configuration, raw in
                configuration.trustedProxies = try raw.split(separator: ",").map { item in
                    let entry = item.trimmingCharacters(in: .whitespaces)
                    guard let range = AddressRange(entry) else {
                        throw ConfigurationError("RFL_TRUSTED_PROXIES: '\(entry)' is not an IP address or CIDR range")
                    }
                    return range
                }
            },
        ]
    }

    /// The configuration from the environment and `envFile` (when it exists).
    public static func load(environmentFile envFile: String? = ".env", environment: [String: String]? = nil) async throws -> ServerConfiguration {
        var providers: [any ConfigProvider] = []
        if let environment {
            providers.append(EnvironmentVariablesProvider(environmentVariables: environment))
        } else {
            providers.append(EnvironmentVariablesProvider())
        }
        if let envFile {
            do {
                providers.append(try await EnvironmentVariablesProvider(environmentFilePath: FilePath(envFile), allowMissing: true))
            } catch {
                throw ConfigurationError("\(envFile): \(error)")
            }
        }
        return try ServerConfiguration(reader: ConfigReader(providers: providers))
    }

    init(reader: ConfigReader) throws {
        func text(_ key: String, secret: Bool = false) -> String? {
            let value = reader.string(forKey: ConfigKey(Self.path(of: key)), isSecret: secret)
            return value?.isEmpty == true ? nil : value
        }
        for setting in Self.settings {
            guard let read = setting.read, let raw = text(setting.key, secret: setting.secret) else { continue }
            try read(&self, raw)
        }
        try readS3Store(text)
        // PostgreSQL is the engine of several instances, each with its own data folder: media
        // kept in the default folder of one would be missing on the others.
        if databaseURL != nil, mediaBackend == .local, mediaDirectory == nil {
            throw ConfigurationError("with RFL_DATABASE_URL, media files must be where every instance finds them: "
                                     + "set RFL_MEDIA_BACKEND=s3, or RFL_MEDIA_DIR to a folder all instances share")
        }
    }

    /// The S3 store: needed with RFL_MEDIA_BACKEND=s3, and read whenever it is given (for
    /// `rfl-server media copy --from s3`).
    private mutating func readS3Store(_ text: (String, Bool) -> String?) throws {
        let s3Keys = ["RFL_S3_ENDPOINT", "RFL_S3_BUCKET", "RFL_S3_ACCESS_KEY_ID", "RFL_S3_SECRET_ACCESS_KEY"]
        let givenS3Keys = s3Keys.filter { text($0, $0.hasSuffix("SECRET_ACCESS_KEY")) != nil }
        guard mediaBackend == .s3 || !givenS3Keys.isEmpty else { return }
        let missing = s3Keys.filter { !givenS3Keys.contains($0) }
        guard missing.isEmpty else { throw ConfigurationError("the S3 media store needs \(missing.joined(separator: ", "))") }
        let region = text("RFL_S3_REGION", false) ?? "us-east-1"
        guard region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw ConfigurationError("RFL_S3_REGION: '\(region)' is not a region name")
        }
        var configuration = S3BlobStore.Configuration(
            endpoint: text("RFL_S3_ENDPOINT", false) ?? "", bucket: text("RFL_S3_BUCKET", false) ?? "", region: region,
            credentials: .init(accessKeyId: text("RFL_S3_ACCESS_KEY_ID", false) ?? "", secretAccessKey: text("RFL_S3_SECRET_ACCESS_KEY", true) ?? ""))
        var seconds = 30
        if let raw = text("RFL_S3_TIMEOUT", false) {
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), (1...600).contains(value) else {
                throw ConfigurationError("RFL_S3_TIMEOUT: '\(raw)' is not a whole number from 1 to 600")
            }
            seconds = value
        }
        configuration.timeout = .seconds(Int64(seconds))
        do {
            _ = try S3BlobStore(configuration)
        } catch MediaError.io(let reason) {
            throw ConfigurationError(reason)
        }
        s3 = configuration
    }

    /// `RFL_DATA_DIR` as the configuration key `rfl.data.dir`, which the environment provider
    /// encodes back to `RFL_DATA_DIR`.
    static func path(of key: String) -> String {
        key.lowercased().replacingOccurrences(of: "_", with: ".")
    }

    /// `.env.example`, generated from ``keys``.
    public static var environmentExample: String {
        var lines = ["# Roll for Language reference server: every setting, with its default.",
                     "# Copy to .env and change what you need; the environment wins over this file.", ""]
        for entry in keys {
            lines.append("# \(entry.meaning)")
            lines.append("\(entry.key)=\(entry.default)")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}

/// A configuration value that cannot be used; the message names the key.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
