import Crypto
import Foundation

/// AWS Signature Version 4, on swift-crypto: signs requests to S3-compatible stores (AWS S3,
/// Backblaze B2, MinIO) in the `Authorization` header, or in the query string for presigned
/// URLs. Checked against AWS's published SigV4 test suite (Tests/Data/aws4_testsuite) and the
/// S3 documentation's examples.
package struct SigV4Signer: Sendable {
    /// An access key. Printed (in a log, an error), it shows its id only.
    package struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        package var accessKeyId: String
        package var secretAccessKey: String
        /// Temporary credentials' token, sent as `X-Amz-Security-Token` and signed.
        package var sessionToken: String?
        package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        package var description: String { "access key \(accessKeyId) (secret not shown)" }
        package var debugDescription: String { description }
    }

    /// A request to sign. `path` is as it goes on the wire (percent-encoded); `query` is the raw
    /// query string without `?`.
    package struct Request: Sendable {
        package var method: String
        package var path: String
        package var query: String
        /// Names as given; several with one name are joined with commas, as the suite expects.
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]
        package init(method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    package var credentials: Credentials
    package var region: String
    package var service: String
    /// S3 signs the path as it is: no removal of `.` and `..` segments or double slashes, and
    /// no second encoding. Every other service normalizes.
    package var isS3: Bool { service == "s3" }

    package init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC: ISO 8601's basic format (a value, so shared freely).
    static let amzDateStyle = Date.ISO8601FormatStyle(dateSeparator: .omitted, dateTimeSeparator: .standard, timeSeparator: .omitted,
                                                      timeZone: .gmt)

    /// `20130524T000000Z`, the form of `X-Amz-Date`.
    package static func amzDate(_ date: Date) -> String {
        amzDateStyle.format(date)
    }

    /// The time of an `X-Amz-Date` (`20130524T000000Z`), nil when it is not one.
    package static func parseAmzDate(_ text: String) -> Date? {
        try? amzDateStyle.parse(text)
    }

    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    /// RFC 3986 percent-encoding of everything but the unreserved characters (and `/` where kept).
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                result.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    /// `/a/./b/../c//d` as `/a/c/d` (RFC 3986 §5.2.4, and empty segments dropped).
    static func normalize(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        let trailing = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        let joined = "/" + segments.joined(separator: "/")
        return trailing && joined != "/" ? joined + "/" : joined
    }

    func canonicalURI(_ path: String) -> String {
        let raw = path.isEmpty ? "/" : path
        // S3: the path as sent, already encoded once. Others: normalized, and encoded (again).
        return isS3 ? raw : Self.encode(Self.normalize(raw), keepSlash: true)
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            pairs.append((encode(key), encode(value)))
        }
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0)=\($1)" }.joined(separator: "&")
    }

    /// Lowercased names, values trimmed with inner runs of spaces made one, repeated names joined
    /// with commas, sorted by name.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (text: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed)
        }
        let names = merged.keys.sorted()
        return (names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined(), names.joined(separator: ";"))
    }

    /// The canonical request and the signed headers' names, for `request` as it will be sent.
    package func canonicalRequest(_ request: Request, payloadHash: String) -> (text: String, signedHeaders: String) {
        let headers = Self.canonicalHeaders(request.headers)
        let text = [request.method, canonicalURI(request.path), Self.canonicalQuery(request.query), headers.text, headers.signed, payloadHash]
            .joined(separator: "\n")
        return (text, headers.signed)
    }

    func scope(_ day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    package func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope(String(amzDate.prefix(8))), Hex.sha256(canonicalRequest)].joined(separator: "\n")
    }

    func signature(_ stringToSign: String, day: String) -> String {
        func mac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
        }
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] { key = mac(key, part) }
        return Hex.string(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    /// Signs `request` at `date`: adds `X-Amz-Date` (when missing), the session token, and for
    /// S3 `X-Amz-Content-SHA256`, then `Authorization`. Returns the signed request.
    package func sign(_ request: Request, at date: Date, unsignedPayload: Bool = false) -> Request {
        var request = request
        let names = Set(request.headers.map { $0.name.lowercased() })
        var amzDate = request.headers.first { $0.name.lowercased() == "x-amz-date" }?.value ?? ""
        if amzDate.isEmpty {
            amzDate = Self.amzDate(date)
            request.headers.append(("X-Amz-Date", amzDate))
        }
        if let token = credentials.sessionToken, !names.contains("x-amz-security-token") {
            request.headers.append(("X-Amz-Security-Token", token))
        }
        let payloadHash = unsignedPayload ? "UNSIGNED-PAYLOAD" : Hex.sha256(request.body)
        if isS3, !names.contains("x-amz-content-sha256") { request.headers.append(("X-Amz-Content-SHA256", payloadHash)) }
        let canonical = canonicalRequest(request, payloadHash: payloadHash)
        let day = String(amzDate.prefix(8))
        let signature = signature(stringToSign(canonicalRequest: canonical.text, amzDate: amzDate), day: day)
        request.headers.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(day)), "
                                    + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"))
        return request
    }

    /// A presigned URL: anyone holding it may make this request until it expires. `parameters`
    /// are signed with it (S3's `response-content-type`, for one).
    package func presignedURL(method: String = "GET", scheme: String = "https", host: String, path: String, parameters: [(String, String)] = [],
                             expires seconds: Int, at date: Date) -> String {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var query = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(day))"),
                     ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(seconds)), ("X-Amz-SignedHeaders", "host")]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query += parameters
        let queryText = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let request = Request(method: method, path: path, query: queryText, headers: [("host", host)])
        let canonical = canonicalRequest(request, payloadHash: "UNSIGNED-PAYLOAD")
        let signature = signature(stringToSign(canonicalRequest: canonical.text, amzDate: amzDate), day: day)
        return "\(scheme)://\(host)\(path)?\(Self.canonicalQuery(queryText))&X-Amz-Signature=\(signature)"
    }
}
