import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Blobs in an S3-compatible store (AWS S3, Backblaze B2, MinIO), by path-style URLs
/// (`ENDPOINT/BUCKET/KEY`), each request signed with ``SigV4Signer``, through AsyncHTTPClient.
package struct S3BlobStore: BlobStore {
    package struct Configuration: Sendable {
        /// `https://s3.us-west-004.backblazeb2.com`, `http://127.0.0.1:9000`…
        package var endpoint: String
        package var bucket: String
        package var region: String
        package var credentials: SigV4Signer.Credentials
        /// How long one request may take, connecting included (AsyncHTTPClient keeps trying to
        /// connect until then).
        package var timeout: TimeAmount = .seconds(30)
        package init(endpoint: String, bucket: String, region: String, credentials: SigV4Signer.Credentials) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.credentials = credentials
        }
    }

    package let configuration: Configuration
    let signer: SigV4Signer
    let scheme: String
    /// `host` or `host:port`, as the Host header and the signature have it.
    let host: String
    let client: HTTPClient

    package init(_ configuration: Configuration, client: HTTPClient = .shared) throws {
        guard let url = URL(string: configuration.endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host,
              url.path.isEmpty || url.path == "/", url.query == nil else {
            throw MediaError.io("RFL_S3_ENDPOINT: '\(configuration.endpoint)' is not an http or https URL of a host (such as https://s3.us-west-004.backblazeb2.com)")
        }
        // S3's rule for bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, from
        // and to a letter or digit.
        let bucket = configuration.bucket
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }),
              bucket.first!.isLetter || bucket.first!.isNumber, bucket.last!.isLetter || bucket.last!.isNumber else {
            throw MediaError.io("RFL_S3_BUCKET: '\(bucket)' is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)")
        }
        self.configuration = configuration
        self.scheme = scheme
        self.host = url.port.map { "\(host):\($0)" } ?? host
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3")
        self.client = client
    }

    /// One signed request: the status, the headers and the body. A store that cannot be reached
    /// within the timeout is `MediaError.io`.
    func send(_ method: HTTPMethod, path: String, query: String = "", headers extra: [(String, String)] = [], body: [UInt8] = []) async throws -> (status: UInt, headers: HTTPHeaders, body: [UInt8]) {
        let signed = signer.sign(SigV4Signer.Request(method: method.rawValue, path: path, query: query, headers: [("Host", host)] + extra, body: body), at: Date())
        var request = HTTPClientRequest(url: "\(scheme)://\(host)\(path)" + (query.isEmpty ? "" : "?\(query)"))
        request.method = method
        for (name, value) in signed.headers { request.headers.replaceOrAdd(name: name, value: value) }
        if !body.isEmpty || method == .PUT { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: configuration.timeout)
            let collected = try await response.body.collect(upTo: 1 << 30)
            return (response.status.code, response.headers, Array(buffer: collected))
        } catch {
            throw MediaError.io("S3 \(method.rawValue) \(path): \(configuration.endpoint) does not answer: \(error)")
        }
    }

    var bucketPath: String { "/" + configuration.bucket }
    func objectPath(_ key: String) throws -> String {
        guard key.count == 64, key.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { throw MediaError.badKey }
        return "\(bucketPath)/\(key)"
    }

    package var description: String { "the S3 bucket \(configuration.bucket) at \(configuration.endpoint)" }

    /// What the store said, for an error: the status and the start of its XML error.
    static func failure(_ what: String, _ status: UInt, _ body: [UInt8]) -> MediaError {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return .io("\(what): HTTP \(status)" + (text.isEmpty ? "" : " \(text)"))
    }

    /// Checks that the bucket answers to these credentials, creating it when missing (outside
    /// us-east-1 with the location constraint S3 asks for).
    package func prepare() async throws {
        let (status, _, body) = try await send(.HEAD, path: bucketPath)
        switch status {
        case 200: return
        case 404:
            let constraint = configuration.region == "us-east-1" ? [] : Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>").utf8)
            let (created, _, answer) = try await send(.PUT, path: bucketPath, body: constraint)
            guard created == 200 else { throw Self.failure("cannot create the S3 bucket \(configuration.bucket)", created, answer) }
        case 301, 400:
            throw Self.failure("the S3 bucket \(configuration.bucket) is not in the region \(configuration.region)", status, body)
        case 403:
            throw Self.failure("the S3 bucket \(configuration.bucket) refuses these credentials", status, body)
        default:
            throw Self.failure("the S3 bucket \(configuration.bucket)", status, body)
        }
    }

    package func put(_ bytes: [UInt8], key: String, contentType: String) async throws {
        let (status, _, body) = try await send(.PUT, path: try objectPath(key), headers: [("Content-Type", contentType)], body: bytes)
        guard status == 200 else { throw Self.failure("S3 PUT \(key)", status, body) }
    }

    package func get(key: String, range: ClosedRange<Int>?) async throws -> [UInt8]? {
        let headers = range.map { [("Range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let (status, _, body) = try await send(.GET, path: try objectPath(key), headers: headers)
        switch status {
        case 200 where range == nil, 206: return body
        case 404: return nil
        default: throw Self.failure("S3 GET \(key)", status, body)
        }
    }

    package func contains(key: String) async throws -> Bool {
        let (status, _, body) = try await send(.HEAD, path: try objectPath(key))
        switch status {
        case 200: return true
        case 404: return false
        default: throw Self.failure("S3 HEAD \(key)", status, body)
        }
    }

    package func delete(key: String) async throws {
        let (status, _, body) = try await send(.DELETE, path: try objectPath(key))
        guard status == 204 || status == 200 || status == 404 else { throw Self.failure("S3 DELETE \(key)", status, body) }
    }

    /// A URL that fetches the object, served as `contentType`, without credentials until it
    /// expires; the store checks the signature and the time.
    package func presignedURL(key: String, contentType: String, expires seconds: Int, at date: Date) throws -> String {
        signer.presignedURL(scheme: scheme, host: host, path: try objectPath(key), parameters: [("response-content-type", contentType)],
                            expires: seconds, at: date)
    }

    package func link(key: String, contentType: String, expires seconds: Int, at date: Date) throws -> String? {
        try presignedURL(key: key, contentType: contentType, expires: seconds, at: date)
    }
}
