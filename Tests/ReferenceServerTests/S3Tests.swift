import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
@testable import ReferenceServer
import Synchronization
import Testing

/// A real S3-compatible server for the tests: moto's server (`make deps` installs moto[server]
/// from PyPI), run by Tests/Data/moto_s3.py on a port of the system's choosing, with
/// authentication enforced from its first request (INITIAL_NO_AUTH_ACTION_COUNT=0) and an access
/// key made for the tests. One serves the whole test run; it stops when the test process's end
/// of its standard input closes, so it never outlives the tests.
final class MotoServer: Sendable {
    let endpoint: String
    let credentials: SigV4Signer.Credentials
    private let process: Process
    private let input: Pipe

    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    private static let started = Mutex<Task<MotoServer, any Error>?>(nil)

    /// The test run's server, started by the first caller.
    static func shared() async throws -> MotoServer {
        let task = started.withLock { task in
            if let task { return task }
            let new = Task { try await start() }
            task = new
            return new
        }
        return try await task.value
    }

    /// Processes are started and read on a thread of their own, never on the tasks' shared threads.
    private static func start() async throws -> MotoServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try MotoServer() }) }
        }
    }

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    private init() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repository.appendingPathComponent("Tests/Data/moto_s3.py").path]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // Its first line: the endpoint and the key, once moto serves.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: String], let endpoint = object["endpoint"],
              let id = object["access_key_id"], let secret = object["secret_access_key"] else {
            process.terminate()
            process.waitUntilExit()
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw StartFailure(description: "Tests/Data/moto_s3.py did not start moto (`make deps` installs moto[server]): \(errors.suffix(2000))")
        }
        self.endpoint = endpoint
        credentials = .init(accessKeyId: id, secretAccessKey: secret)
    }

    /// A store in a bucket of this server (made by `prepare()`).
    func store(bucket: String, region: String = "us-east-1") -> S3BlobStore.Configuration {
        .init(endpoint: endpoint, bucket: bucket, region: region, credentials: credentials)
    }
}

@Suite(.serialized) struct S3Tests {
    static func fetch(_ url: String) async throws -> (status: UInt, bytes: [UInt8]) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        return (response.status.code, Array(buffer: try await response.body.collect(upTo: 1 << 24)))
    }

    static func key(_ bytes: [UInt8]) -> String { Hex.sha256(bytes) }

    /// A server (with Alice and Bruno) whose media are in `s3`, its links lasting two minutes.
    static func server(_ s3: S3BlobStore.Configuration) async throws -> TestServer {
        try await MediaTests.server { configuration in
            configuration.mediaBackend = .s3
            configuration.s3 = s3
            configuration.mediaLinkLifetime = 120
        }
    }

    /// A bucket name no other test uses.
    static func bucket(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func theStoreRefusesWhatIsNotSignedWithTheKey() async throws {
        let moto = try await MotoServer.shared()
        let configuration = moto.store(bucket: Self.bucket("signed"))
        try await S3BlobStore(configuration).prepare()
        // Unsigned: not served (moto answers 500 where S3 answers 403: it looks for an
        // Authorization header that is not there).
        let unsigned = try await Self.fetch("\(moto.endpoint)/\(configuration.bucket)")
        #expect(unsigned.status == 403 || unsigned.status == 500)
        // Signed with a wrong secret, or by a key that does not exist: refused, and said so.
        var forged = configuration
        forged.credentials.secretAccessKey = "not the secret"
        await #expect {
            try await S3BlobStore(forged).prepare()
        } throws: { error in
            "\(error)".contains("refuses these credentials") && "\(error)".contains("403")
        }
        var stranger = configuration
        stranger.credentials.accessKeyId = "AKIANOBODY0000000000"
        await #expect(throws: MediaError.self) { try await S3BlobStore(stranger).put([1, 2, 3], key: Self.key([1, 2, 3]), contentType: "image/png") }
        // A store that does not answer at all is an error of its own.
        var nowhere = configuration
        nowhere.endpoint = "http://127.0.0.1:1"
        nowhere.timeout = .seconds(2)
        await #expect {
            try await S3BlobStore(nowhere).prepare()
        } throws: { error in
            "\(error)".contains("does not answer")
        }
    }

    @Test func blobsGoInAndOutOfTheBucket() async throws {
        let moto = try await MotoServer.shared()
        let store = try S3BlobStore(moto.store(bucket: Self.bucket("blobs")))
        // The bucket is made when missing; preparing again finds it.
        try await store.prepare()
        try await store.prepare()
        let bytes = MediaTests.png
        let key = Self.key(bytes)
        #expect(try await store.contains(key: key) == false)
        #expect(try await store.get(key: key, range: nil) == nil)
        try await store.put(bytes, key: key, contentType: "image/png")
        try await store.put(bytes, key: key, contentType: "image/png")
        #expect(try await store.contains(key: key))
        #expect(try await store.get(key: key, range: nil) == bytes)
        #expect(try await store.get(key: key, range: 2...5) == Array(bytes[2...5]))
        #expect(try await store.get(key: key, range: 1000...1007) == Array(bytes[1000...1007]))
        // The object keeps the type it was stored as.
        let stored = try await store.send(.HEAD, path: "/\(store.configuration.bucket)/\(key)")
        #expect(stored.status == 200 && stored.headers["Content-Type"] == ["image/png"])
        try await store.delete(key: key)
        #expect(try await store.contains(key: key) == false)
        // Deleting what is gone is no error; a key that is not a SHA-256 never reaches the store.
        try await store.delete(key: key)
        await #expect(throws: MediaError.badKey) { try await store.put(bytes, key: "../../etc/passwd", contentType: "image/png") }
        await #expect(throws: MediaError.badKey) { try await store.get(key: key.uppercased(), range: nil) }
    }

    @Test func aBucketOutsideUSEast1IsMadeInItsRegion() async throws {
        let moto = try await MotoServer.shared()
        let store = try S3BlobStore(moto.store(bucket: Self.bucket("eu"), region: "eu-west-1"))
        try await store.prepare()
        try await store.put([9, 9, 9], key: Self.key([9, 9, 9]), contentType: "audio/ogg")
        #expect(try await store.get(key: Self.key([9, 9, 9]), range: nil) == [9, 9, 9])
        // Its location, as S3 reports it.
        let location = try await store.send(.GET, path: "/\(store.configuration.bucket)", query: "location")
        #expect(location.status == 200 && String(decoding: location.body, as: UTF8.self).contains("eu-west-1"))
    }

    @Test func theServerKeepsMediaInTheBucket() async throws {
        let moto = try await MotoServer.shared()
        let s3 = moto.store(bucket: Self.bucket("server"))
        let server = try await Self.server(s3)
        let store = try S3BlobStore(s3)
        try await server.test { client in
            let alice = try await client.login("alice").access
            let bruno = try await client.login("bruno").access
            let first = try await MediaTests.upload(client, MediaTests.png, token: alice)
            let second = try await MediaTests.upload(client, MediaTests.png, token: bruno)
            #expect(first.status == .created && second.status == .created, "\(first.text)")
            let sha = first.json["sha256"] as? String ?? ""
            // In the bucket under its SHA-256, once, with its type; nothing on the local disk.
            #expect(try await store.get(key: sha, range: nil) == MediaTests.png)
            #expect(try await store.send(.HEAD, path: "/\(s3.bucket)/\(sha)").headers["Content-Type"] == ["image/png"])
            #expect(!FileManager.default.fileExists(atPath: server.configuration.mediaPath))
            // Served through the server, with ranges and conditional requests.
            let path = first.json["path"] as? String ?? ""
            let whole = try await MediaTests.download(client, path, token: alice)
            #expect(whole.status == .ok && whole.bytes == MediaTests.png && whole.headers[.contentType] == "image/png")
            #expect(whole.headers[.xContentTypeOptions] == "nosniff")
            let part = try await MediaTests.download(client, path, token: alice, headers: [.range: "bytes=2-5"])
            #expect(part.status == .partialContent && part.bytes == Array(MediaTests.png[2...5]) && part.headers[.contentRange] == "bytes 2-5/1008")
            #expect(try await MediaTests.download(client, path, token: alice, headers: [.ifNoneMatch: "\"\(sha)\""]).status == .notModified)
            // Deleting one upload keeps the object the other uses; deleting both removes it.
            #expect(try await client.call(.delete, path, token: alice).status == .noContent)
            #expect(try await store.contains(key: sha))
            #expect(try await client.call(.delete, second.json["path"] as? String ?? "", token: bruno).status == .noContent)
            #expect(try await store.contains(key: sha) == false)
        }
    }

    /// Links are presigned GETs that expire. moto does not check the signatures of presigned
    /// URLs (with authentication enforced it answers them 500), so each link is compared with
    /// the one botocore's own presigner makes for the same object, key, lifetime and time.
    @Test func linksArePresignedAsBotocoreSignsThem() async throws {
        let moto = try await MotoServer.shared()
        let s3 = moto.store(bucket: Self.bucket("links"))
        let server = try await Self.server(s3)
        try await server.test { client in
            let alice = try await client.login("alice").access
            let uploaded = try await MediaTests.upload(client, MediaTests.png, token: alice)
            let sha = uploaded.json["sha256"] as? String ?? ""
            let link = try await client.call(.get, (uploaded.json["path"] as? String ?? "") + "/link", token: alice)
            #expect(link.status == .ok, "\(link.text)")
            let url = try #require(URLComponents(string: link.json["url"] as? String ?? ""))
            let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(url.path == "/\(s3.bucket)/\(sha)" && query["X-Amz-Expires"] == "120" && query["response-content-type"] == "image/png")
            // expires_at is the signing time plus the lifetime.
            let signed = try #require(SigV4Signer.parseAmzDate(query["X-Amz-Date"] ?? ""))
            let expiresAt = try #require(ISO8601DateFormatter().date(from: link.json["expires_at"] as? String ?? ""))
            #expect(expiresAt == signed.addingTimeInterval(120))
            let reference = try Self.botocorePresigned(s3, key: sha, contentType: "image/png", expires: 120, amzDate: query["X-Amz-Date"] ?? "")
            let expected = Dictionary(uniqueKeysWithValues: (reference.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(query == expected, "\(url) ≠ \(reference)")
            #expect(url.host == reference.host && url.port == reference.port && url.path == reference.path)
            // Another lifetime or another time is another signature.
            let other = try Self.botocorePresigned(s3, key: sha, contentType: "image/png", expires: 600, amzDate: query["X-Amz-Date"] ?? "")
            #expect(other.queryItems?.first { $0.name == "X-Amz-Signature" }?.value != query["X-Amz-Signature"])
            #expect(try await client.call(.get, "/v1/media/m_nothing/link", token: alice).status == .notFound)
        }
    }

    /// botocore's presigned GET URL (Tests/Data/presign.py).
    static func botocorePresigned(_ s3: S3BlobStore.Configuration, key: String, contentType: String, expires: Int, amzDate: String) throws -> URLComponents {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", MotoServer.repository.appendingPathComponent("Tests/Data/presign.py").path,
                             s3.endpoint, s3.region, s3.bucket, key, String(expires), amzDate, contentType]
        var environment = ProcessInfo.processInfo.environment
        environment["RFL_S3_ACCESS_KEY_ID"] = s3.credentials.accessKeyId
        environment["RFL_S3_SECRET_ACCESS_KEY"] = s3.credentials.secretAccessKey
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, let url = URLComponents(string: text) else { throw MotoServer.StartFailure(description: "presign.py: \(text)") }
        return url
    }

    @Test func aStoreThatFailsIsAnswered503AndNothingIsRecorded() async throws {
        let moto = try await MotoServer.shared()
        let s3 = moto.store(bucket: Self.bucket("gone"))
        let server = try await Self.server(s3)
        try await server.test { client in
            let alice = try await client.login("alice").access
            // The bucket disappears under the running server.
            let store = try S3BlobStore(s3)
            #expect(try await store.send(.DELETE, path: "/\(s3.bucket)").status == 204)
            let refused = try await MediaTests.upload(client, MediaTests.png, token: alice)
            #expect(refused.status == .serviceUnavailable && refused.json["detail"] as? String == "The media store is not answering; try again later.")
            let list = try await client.call(.get, "/v1/media", token: alice)
            #expect(list.json["used_bytes"] as? Int == 0 && (list.json["items"] as? [Any])?.isEmpty == true)
        }
        // A server whose store does not answer does not start.
        var nowhere = s3
        nowhere.endpoint = "http://127.0.0.1:1"
        nowhere.timeout = .seconds(2)
        let stopped = try TestServer { configuration in
            configuration.mediaBackend = .s3
            configuration.s3 = nowhere
        }
        await #expect {
            _ = try await stopped.application()
        } throws: { error in
            (error as? ConfigurationError)?.description.contains("RFL_S3_") == true
        }
    }

    @Test func mediaMoveFromTheLocalDiskToTheBucketAndBack() async throws {
        let moto = try await MotoServer.shared()
        let s3 = moto.store(bucket: Self.bucket("move"))
        let local = try await MediaTests.server()
        let (first, second) = try await local.test { client in
            let alice = try await client.login("alice").access
            let first = try await MediaTests.upload(client, MediaTests.png, token: alice)
            let second = try await MediaTests.upload(client, MediaTests.png + [1], token: alice)
            _ = try await MediaTests.upload(client, MediaTests.png, token: alice)
            return (first.json["path"] as? String ?? "", second.json["path"] as? String ?? "")
        }
        // The same data folder, now with the media in S3: copied once, then found there.
        let moved = try TestServer(sharing: local) { configuration in
            configuration.mediaBackend = .s3
            configuration.s3 = s3
        }
        #expect(try await ServerOperations.copyMedia(moved.configuration, from: .local) == .init(copied: 2, present: 0))
        #expect(try await ServerOperations.copyMedia(moved.configuration, from: .local) == .init(copied: 0, present: 2))
        try await moved.test { client in
            let alice = try await client.login("alice").access
            #expect(try await MediaTests.download(client, first, token: alice).bytes == MediaTests.png)
            #expect(try await MediaTests.download(client, second, token: alice).bytes == MediaTests.png + [1])
        }
        // Copying into the store in use is refused.
        await #expect(throws: OperationError.self) { try await ServerOperations.copyMedia(moved.configuration, from: .s3) }
        // Back to another local folder: copied from the bucket.
        let back = try TestServer(sharing: local) { configuration in
            configuration.mediaDirectory = local.folder + "/media-back"
            configuration.s3 = s3
        }
        #expect(try await ServerOperations.copyMedia(back.configuration, from: .s3) == .init(copied: 2, present: 0))
        // A file damaged on the disk is not copied, and is named.
        let damaged = Self.key(MediaTests.png + [1])
        let blob = try LocalBlobStore(root: back.configuration.mediaPath).path(damaged)
        try Data([0, 0, 0]).write(to: URL(fileURLWithPath: blob))
        let again = try TestServer(sharing: local) { configuration in
            configuration.mediaBackend = .s3
            configuration.s3 = moto.store(bucket: Self.bucket("damaged"))
            configuration.mediaDirectory = local.folder + "/media-back"
        }
        let result = try await ServerOperations.copyMedia(again.configuration, from: .local)
        #expect(result.copied == 1 && result.failed.keys.sorted() == [damaged] && result.failed[damaged]?.contains("do not match") == true)
    }
}
