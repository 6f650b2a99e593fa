import Crypto
import Foundation
import JWTKit
import Logging
import Synchronization

/// The claims of an access token: who (`sub`), which session (`sid`), for whom (`iss`, `aud`),
/// until when (`exp`), and an id (`jti`).
package struct AccessClaims: JWTPayload, Equatable {
    package var sub: SubjectClaim
    package var sid: String
    package var iss: IssuerClaim
    package var aud: AudienceClaim
    package var exp: ExpirationClaim
    package var iat: IssuedAtClaim
    package var jti: IDClaim

    package func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Why an access token is refused; the message is for logs, clients get one generic answer.
package struct TokenRejection: Error, CustomStringConvertible, Sendable {
    package let description: String
}

/// One ES256 key: the private key when it still signs, its id (the RFC 7638 thumbprint) and its
/// public half as a JWK.
struct SigningKey: Sendable {
    let kid: String
    let privateKey: P256.Signing.PrivateKey
    /// Base64url coordinates of the public key.
    let x: String
    let y: String

    init(_ privateKey: P256.Signing.PrivateKey) {
        self.privateKey = privateKey
        let point = privateKey.publicKey.x963Representation  // 0x04 || X || Y
        x = Base64URL.encode(point[1..<33])
        y = Base64URL.encode(point[33..<65])
        // RFC 7638: the members crv, kty, x, y in that order, without spaces.
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        kid = Base64URL.encode(Data(SHA256.hash(data: Data(canonical.utf8))))
    }
}

enum Base64URL {
    static func encode(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Signs and verifies access tokens. Only ES256 is accepted, only with the key ids it knows: a
/// token naming another algorithm (`none`, `HS256`) or an unknown key is refused before its
/// signature is looked at.
package final class TokenService: Sendable {
    private let keys: JWTKeyCollection
    private let signing: SigningKey
    private let known: [String: SigningKey]
    let issuer: String
    let audience: String
    package let lifetime: Int
    /// Tokens whose signature, issuer and audience were checked, with their claims: a client
    /// presents the same token on every request until it expires, and its signature cannot
    /// change, so it is verified once. Expiry is checked on every use; revocation is the
    /// session's, looked up by the caller on every request. Bounded: emptied when full.
    private let verified = Mutex<[String: AccessClaims]>([:])
    private let verifiedCapacity: Int

    /// How many verified tokens are remembered now.
    var rememberedTokens: Int { verified.withLock { $0.count } }

    init(signing: SigningKey, retired: [SigningKey], issuer: String, audience: String, lifetime: Int, remembering capacity: Int = 10_000) async throws {
        self.signing = signing
        verifiedCapacity = max(1, capacity)
        var known: [String: SigningKey] = [:]
        for key in [signing] + retired { known[key.kid] = key }
        self.known = known
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        keys = JWTKeyCollection()
        for key in known.values {
            await keys.add(ecdsa: try ES256PrivateKey(backing: key.privateKey), kid: JWKIdentifier(string: key.kid))
        }
    }

    /// The id of the key that signs new tokens.
    package var currentKeyId: String { signing.kid }

    /// A new access token for a session, and the seconds it lasts.
    package func issue(userId: String, sessionId: String, now: Date = Date()) async throws -> String {
        // NumericDates in whole seconds, which every verifier reads.
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessClaims(
            sub: .init(value: userId), sid: sessionId, iss: .init(value: issuer), aud: .init(value: [audience]),
            exp: .init(value: now.addingTimeInterval(Double(lifetime))), iat: .init(value: now), jti: .init(value: UUID().uuidString.lowercased()))
        var header = JWTHeader()
        header.typ = "JWT"
        return try await keys.sign(claims, kid: JWKIdentifier(string: signing.kid), header: header)
    }

    /// The claims of a valid token, or a rejection saying why.
    package func verify(_ token: String, now: Date = Date()) async throws(TokenRejection) -> AccessClaims {
        if let claims = verified.withLock({ $0[token] }) {
            guard claims.exp.value > now else {
                _ = verified.withLock { $0.removeValue(forKey: token) }
                throw TokenRejection(description: "expired")
            }
            return claims
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 4096 else { throw TokenRejection(description: "not a compact JWS") }
        struct Header: Decodable { var alg: String?; var kid: String? }
        guard let headerData = Base64URL.decode(parts[0]), let header = try? JSONDecoder().decode(Header.self, from: headerData) else {
            throw TokenRejection(description: "unreadable header")
        }
        guard header.alg == "ES256" else { throw TokenRejection(description: "algorithm \(header.alg ?? "missing") is not ES256") }
        guard let kid = header.kid, known[kid] != nil else { throw TokenRejection(description: "unknown key id") }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch {
            throw TokenRejection(description: "\(error)")
        }
        guard claims.iss.value == issuer else { throw TokenRejection(description: "wrong issuer") }
        guard claims.aud.value.contains(audience) else { throw TokenRejection(description: "wrong audience") }
        verified.withLock { cache in
            if cache.count >= verifiedCapacity { cache.removeAll(keepingCapacity: true) }
            cache[token] = claims
        }
        return claims
    }

    /// The JSON Web Key Set of every key that verifies tokens (RFC 7517).
    package var jwks: [[String: String]] {
        known.values.sorted { $0.kid == signing.kid ? true : $1.kid == signing.kid ? false : $0.kid < $1.kid }.map { key in
            ["kty": "EC", "crv": "P-256", "kid": key.kid, "use": "sig", "alg": "ES256", "x": key.x, "y": key.y]
        }
    }
}

/// The signing keys on disk: `keys/signing.pem` signs; `keys/retired/*.pem` only verify, until
/// the tokens they signed have expired. Files are written with mode 0600 in a 0700 folder.
package struct KeyStore: Sendable {
    package let folder: String
    /// A signing key given by configuration instead of the folder's.
    package let signingFile: String?

    package init(dataDirectory: String, signingFile: String?) {
        folder = dataDirectory + "/keys"
        self.signingFile = signingFile
    }

    var signingPath: String { signingFile ?? folder + "/signing.pem" }
    var retiredFolder: String { folder + "/retired" }

    /// The keys, making the signing key when there is none (and saying so in the log).
    func load(logger: Logger) throws -> (signing: SigningKey, retired: [SigningKey]) {
        let manager = FileManager.default
        let signing: SigningKey
        if manager.fileExists(atPath: signingPath) {
            signing = try Self.read(signingPath)
        } else if signingFile != nil {
            throw ConfigurationError("RFL_JWT_KEY_FILE: \(signingPath) does not exist")
        } else {
            signing = try generate()
            logger.warning("no signing key was configured: generated one", metadata: ["path": "\(signingPath)", "kid": "\(signing.kid)"])
        }
        var retired: [SigningKey] = []
        if let names = try? manager.contentsOfDirectory(atPath: retiredFolder) {
            for name in names.sorted() where name.hasSuffix(".pem") {
                retired.append(try Self.read(retiredFolder + "/" + name))
            }
        }
        return (signing, retired)
    }

    static func read(_ path: String) throws -> SigningKey {
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else { throw ConfigurationError("cannot read the signing key \(path)") }
        do {
            return SigningKey(try P256.Signing.PrivateKey(pemRepresentation: pem))
        } catch {
            throw ConfigurationError("\(path): not a P-256 private key in PEM (\(error))")
        }
    }

    /// Makes and saves a new signing key.
    @discardableResult
    func generate() throws -> SigningKey {
        let key = P256.Signing.PrivateKey()
        try Self.writePrivately(key.pemRepresentation, to: signingPath)
        return SigningKey(key)
    }

    /// Retires the current signing key (it keeps verifying) and makes a new one. Returns the
    /// retired and the new key ids.
    package func rotate() throws -> (retired: String, current: String) {
        guard signingFile == nil else { throw ConfigurationError("RFL_JWT_KEY_FILE is set: rotate that key where it is managed") }
        guard FileManager.default.fileExists(atPath: signingPath) else {
            throw ConfigurationError("there is no signing key at \(signingPath) yet: the server makes one when it first starts")
        }
        let old = try Self.read(signingPath)
        try Self.makeFolder(retiredFolder)
        let retiredPath = retiredFolder + "/\(old.kid).pem"
        try FileManager.default.moveItem(atPath: signingPath, toPath: retiredPath)
        // The file's modification time records when it was retired.
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: retiredPath)
        let new = try generate()
        return (old.kid, new.kid)
    }

    /// Deletes retired keys retired longer ago than `age` seconds; returns their ids.
    package func prune(olderThan age: TimeInterval, now: Date = Date()) throws -> [String] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: retiredFolder) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where name.hasSuffix(".pem") {
            let path = retiredFolder + "/" + name
            let modified = (try? manager.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? now
            if now.timeIntervalSince(modified) > age {
                try manager.removeItem(atPath: path)
                removed.append(String(name.dropLast(4)))
            }
        }
        return removed
    }

    static func makeFolder(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    static func writePrivately(_ text: String, to path: String) throws {
        try makeFolder((path as NSString).deletingLastPathComponent)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write \(path)")
        }
        // createFile keeps an existing file's mode: set it in any case.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
