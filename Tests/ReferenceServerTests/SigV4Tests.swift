import Foundation
@testable import ReferenceServer
import Testing

/// The SigV4 signer against AWS's test suite (Tests/Data/aws4_testsuite, from botocore's
/// source distribution) and the S3 documentation's examples.
@Suite struct SigV4Tests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Data/aws4_testsuite")
    static let credentials = SigV4Signer.Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z

    /// Every case of the suite: a folder holding NAME.req and the expected NAME.creq, .sts and
    /// .authz. The cases botocore skips are skipped here for the same reasons: several query
    /// parameters of one name, which no SDK sends.
    static var cases: [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix(".req") { found.append(String(item.dropLast(4))) }
        }
        let skipped: Set = ["get-vanilla-query-order-key-case/get-vanilla-query-order-key-case", "get-vanilla-query-order-key/get-vanilla-query-order-key",
                            "get-vanilla-query-order-value/get-vanilla-query-order-value"]
        return found.filter { !skipped.contains($0) }.sorted()
    }

    /// A raw request of the suite: `METHOD PATH HTTP/1.1`, headers (continuation lines start
    /// with spaces), a blank line, the body.
    static func parse(_ raw: String) -> SigV4Signer.Request {
        let (head, body) = raw.range(of: "\n\n").map { (String(raw[..<$0.lowerBound]), String(raw[$0.upperBound...])) } ?? (raw, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
        }
        return SigV4Signer.Request(method: method, path: path, query: query, headers: headers, body: Array(body.utf8))
    }

    @Test func theWholeSuite() throws {
        let cases = Self.cases
        #expect(cases.count >= 28, "\(cases)")
        for name in cases {
            func file(_ suffix: String) throws -> String { try String(contentsOf: Self.folder.appendingPathComponent(name + suffix), encoding: .utf8) }
            var credentials = Self.credentials
            if name.hasSuffix("get-vanilla-with-session-token") {
                credentials.sessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
            }
            let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
            var request = Self.parse(try file(".req"))
            if let token = credentials.sessionToken { request.headers.append(("X-Amz-Security-Token", token)) }
            let canonical = signer.canonicalRequest(request, payloadHash: Hex.sha256(request.body))
            #expect(canonical.text == (try file(".creq")), "\(name): canonical request")
            let stringToSign = signer.stringToSign(canonicalRequest: canonical.text, amzDate: "20150830T123600Z")
            #expect(stringToSign == (try file(".sts")), "\(name): string to sign")
            var unsigned = Self.parse(try file(".req"))
            unsigned.headers.removeAll { $0.name.lowercased() == "authorization" }
            let signed = signer.sign(unsigned, at: Self.date)
            #expect(signed.headers.last?.value == (try file(".authz")), "\(name): authorization")
        }
    }

    /// The S3 documentation's examples ("Signature Calculations for the Authorization Header"
    /// and "Authenticating Requests: Using Query Parameters").
    @Test func theS3DocumentationExamples() {
        let credentials = SigV4Signer.Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z
        let get = signer.sign(SigV4Signer.Request(method: "GET", path: "/test.txt", headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")]),
                              at: date)
        #expect(get.headers.first { $0.name == "Authorization" }?.value == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let url = signer.presignedURL(host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: 86_400, at: date)
        #expect(url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        // S3 signs the path as given: no normalization.
        #expect(signer.canonicalURI("/a/./b//c") == "/a/./b//c")
        #expect(SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").canonicalURI("/a/./b//c/../d") == "/a/b/d")
    }

    /// Credentials printed, alone or in a store's configuration (a log line, an error), show
    /// their id and never their secret.
    @Test func theSecretIsNeverPrinted() throws {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let credentials = SigV4Signer.Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret)
        let configuration = S3BlobStore.Configuration(endpoint: "http://127.0.0.1:9000", bucket: "rfl-media", region: "us-east-1", credentials: credentials)
        let store = try S3BlobStore(configuration)
        for text in ["\(credentials)", String(reflecting: credentials), "\(configuration)", String(reflecting: configuration), "\(store)"] {
            #expect(!text.contains(secret) && !text.contains("wJalr"), "\(text)")
        }
        #expect("\(credentials)".contains("AKIAIOSFODNN7EXAMPLE"))
    }
}
