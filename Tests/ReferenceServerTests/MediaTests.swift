import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
@testable import ReferenceServer
import Testing

@Suite struct MediaTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 1000)

    static func server(_ adjust: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let server = try TestServer(adjust)
        try await server.addUser("alice")
        try await server.addUser("bruno")
        return server
    }

    static func upload(_ client: any TestClientProtocol, _ bytes: [UInt8], token: String, type: String = "application/octet-stream") async throws -> Reply {
        try await client.execute(uri: "/v1/media", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: type],
                                 body: ByteBuffer(bytes: bytes)) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    static func download(_ client: any TestClientProtocol, _ path: String, token: String, headers: HTTPFields = [:]) async throws
        -> (status: HTTPResponse.Status, headers: HTTPFields, bytes: [UInt8]) {
        var all = headers
        all[.authorization] = "Bearer \(token)"
        return try await client.execute(uri: path, method: .get, headers: all, body: nil) { response in
            (response.status, response.headers, Array(buffer: response.body))
        }
    }

    @Test func filesAreTypedByTheirBytesAndServedWithRanges() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let alice = try await client.login("alice").access
            // The client says HTML; the bytes say PNG, and PNG it is.
            let uploaded = try await Self.upload(client, Self.png, token: alice, type: "text/html")
            #expect(uploaded.status == .created && uploaded.json["type"] as? String == "image/png" && uploaded.json["size"] as? Int == 1008, "\(uploaded.text)")
            let path = uploaded.json["path"] as? String ?? ""
            #expect((uploaded.json["id"] as? String)?.hasPrefix("m_") == true)
            let whole = try await Self.download(client, path, token: alice)
            #expect(whole.status == .ok && whole.bytes == Self.png)
            #expect(whole.headers[.contentType] == "image/png" && whole.headers[.xContentTypeOptions] == "nosniff")
            let etag = whole.headers[.eTag] ?? ""
            #expect(etag == "\"\(uploaded.json["sha256"] as? String ?? "")\"" && whole.headers[.acceptRanges] == "bytes")
            #expect(try await Self.download(client, path, token: alice, headers: [.ifNoneMatch: etag]).status == .notModified)
            let first = try await Self.download(client, path, token: alice, headers: [.range: "bytes=0-7"])
            #expect(first.status == .partialContent && first.bytes == Array(Self.png.prefix(8)) && first.headers[.contentRange] == "bytes 0-7/1008")
            let last = try await Self.download(client, path, token: alice, headers: [.range: "bytes=-2"])
            #expect(last.status == .partialContent && last.bytes == [7, 7] && last.headers[.contentRange] == "bytes 1006-1007/1008")
            let open = try await Self.download(client, path, token: alice, headers: [.range: "bytes=1000-"])
            #expect(open.bytes.count == 8 && open.headers[.contentRange] == "bytes 1000-1007/1008")
            let outside = try await Self.download(client, path, token: alice, headers: [.range: "bytes=5000-"])
            #expect(outside.status == .rangeNotSatisfiable && outside.headers[.contentRange] == "bytes */1008")
            // A range the server does not serve (several) gets the whole file, as RFC 9110 allows.
            #expect(try await Self.download(client, path, token: alice, headers: [.range: "bytes=0-1,4-5"]).bytes.count == 1008)
            // Another user may fetch it by its id (shared as an avatar, a map) but not delete it.
            let bruno = try await client.login("bruno").access
            #expect(try await Self.download(client, path, token: bruno).status == .ok)
            #expect(try await client.call(.delete, path, token: bruno).status == .notFound)
            #expect(try await Self.download(client, "/v1/media/m_nothing", token: alice).status == .notFound)
            let text = try await Self.upload(client, Array("<html><script>alert(1)</script>".utf8), token: alice, type: "image/png")
            #expect(text.status == .unsupportedMediaType && text.problemType == "unsupported-media-type")
            #expect(try await server.auditEvents().contains { $0.action == "media.uploaded" && $0.details["type"] == "image/png" })
            // Files on the server's disk have no links of their own: they are fetched through it.
            let link = try await client.call(.get, path + "/link", token: alice)
            #expect(link.status == .conflict && link.json["detail"] as? String == "Files on the server's own disk are downloaded through the server; links need S3 storage.")
        }
    }

    @Test func sizesQuotasAndOneCopyOfEachContent() async throws {
        let server = try await Self.server { $0.maxMediaBytes = 4096; $0.mediaQuotaBytes = 2500 }
        try await server.test { client in
            let alice = try await client.login("alice").access
            let bruno = try await client.login("bruno").access
            let big = try await Self.upload(client, Self.png + Array(repeating: 1, count: 5000), token: alice)
            #expect(big.status == .contentTooLarge && big.json["detail"] as? String == "The body is larger than 4096 bytes.")
            // The same bytes from two users: two files, one copy on disk.
            let first = try await Self.upload(client, Self.png, token: alice)
            let second = try await Self.upload(client, Self.png, token: bruno)
            #expect(first.status == .created && second.status == .created && first.json["id"] as? String != second.json["id"] as? String)
            let blobs = { () -> [String] in
                let root = server.configuration.mediaPath
                return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0.split(separator: "/").count == 3 }
            }
            #expect(blobs().count == 1)
            // Alice's quota: 2500 bytes; 1008 used, 1008 more fit, a third does not.
            #expect(try await Self.upload(client, Self.png + [1], token: alice).status == .created)
            let over = try await Self.upload(client, Self.png + [2], token: alice)
            #expect(over.status == .contentTooLarge && over.json["detail"] as? String == "Your uploads would take more than your 2500 bytes.")
            let list = try await client.call(.get, "/v1/media", token: alice)
            #expect(list.json["used_bytes"] as? Int == 2017 && list.json["quota_bytes"] as? Int == 2500 && (list.json["items"] as? [Any])?.count == 2)
            // Deleting one keeps the copy the other still uses; deleting both removes it.
            #expect(try await client.call(.delete, first.json["path"] as? String ?? "", token: alice).status == .noContent)
            #expect(try await Self.download(client, second.json["path"] as? String ?? "", token: bruno).bytes == Self.png)
            #expect(try await client.call(.delete, second.json["path"] as? String ?? "", token: bruno).status == .noContent)
            #expect(blobs().count == 1) // the 1009-byte one of Alice's remains
        }
    }

    @Test func theListComesAPageAtATime() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let alice = try await client.login("alice").access
            var uploaded: [String] = []
            for index in 0..<7 {
                uploaded.append(try await Self.upload(client, Self.png + [UInt8(index)], token: alice).json["id"] as? String ?? "")
            }
            // Newest first, three at a time, each upload once, the quota over all of them.
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await client.call(.get, "/v1/media?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: alice)
                #expect(page.status == .ok && page.json["used_bytes"] as? Int == (pages == 0 ? 7 : 6) * 1009, "\(page.text)")
                seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json["next"] as? String
                pages += 1
                // The last of a page deleted before the next is asked for: the next still follows.
                if pages == 1, let last = seen.last { #expect(try await client.call(.delete, "/v1/media/\(last)", token: alice).status == .noContent) }
            } while cursor != nil && pages < 10
            #expect(pages == 3 && seen.count == 7 && Set(seen) == Set(uploaded))
            let stored = try await client.call(.get, "/v1/media?limit=100", token: alice).json["items"] as? [[String: Any]] ?? []
            #expect(stored.compactMap { $0["id"] as? String } == uploaded.reversed().filter { $0 != seen[2] })
            #expect(try await client.call(.get, "/v1/media?cursor=yesterday", token: alice).status == .badRequest)
        }
    }

    /// An upload of some content racing the deletion of its last other upload: whichever comes
    /// first, every record left names bytes that are there.
    @Test func anUploadRacingTheDeletionOfTheLastCopyKeepsItsBytes() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let alice = try await client.login("alice").access
            let bruno = try await client.login("bruno").access
            for round in 0..<40 {
                let bytes = Self.png + [UInt8(round)]
                let old = try await Self.upload(client, bytes, token: bruno).json["path"] as? String ?? ""
                async let deleted = client.call(.delete, old, token: bruno)
                async let uploaded = Self.upload(client, bytes, token: alice)
                let (deletion, upload) = try await (deleted, uploaded)
                #expect(deletion.status == .noContent && upload.status == .created)
                let path = upload.json["path"] as? String ?? ""
                let fetched = try await Self.download(client, path, token: alice)
                #expect(fetched.status == .ok && fetched.bytes == bytes, "round \(round)")
                #expect(try await client.call(.delete, path, token: alice).status == .noContent)
            }
        }
    }

    @Test func theKeyedLockLetsOneHolderOfAKeyAtATime() async throws {
        let lock = KeyedLock()
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let key = "k\(index % 4)"
                    await lock.withLock(key) {
                        await tally.enter(key)
                        await Task.yield()
                        await tally.leave(key)
                    }
                }
            }
        }
        #expect(await tally.most == 1 && lock.count == 0)
        // An error thrown inside releases the key.
        await #expect(throws: MediaError.self) { try await lock.withLock("k") { throw MediaError.badKey } }
        #expect(lock.count == 0)
    }

    /// Holders of each key at a time, and the most ever seen.
    actor Tally {
        var inside: [String: Int] = [:]
        var most = 0
        func enter(_ key: String) {
            inside[key, default: 0] += 1
            most = max(most, inside[key, default: 0])
        }
        func leave(_ key: String) { inside[key, default: 0] -= 1 }
    }

    @Test func typesComeFromMagicBytes() {
        let ascii = { (text: String) in Array(text.utf8) }
        #expect(MediaType.detect([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(MediaType.detect(ascii("GIF89a....")) == "image/gif")
        #expect(MediaType.detect(ascii("RIFF") + [0, 0, 0, 0] + ascii("WEBPVP8 ")) == "image/webp")
        #expect(MediaType.detect(ascii("RIFF") + [0, 0, 0, 0] + ascii("WAVEfmt ")) == "audio/wav")
        #expect(MediaType.detect(ascii("OggS\0\u{2}")) == "audio/ogg")
        #expect(MediaType.detect(ascii("fLaC")) == "audio/flac")
        #expect(MediaType.detect(ascii("ID3\u{4}")) == "audio/mpeg")
        #expect(MediaType.detect([0xFF, 0xFB, 0x90, 0x00]) == "audio/mpeg")
        #expect(MediaType.detect([0, 0, 0, 0x20] + ascii("ftypM4A ")) == "audio/mp4")
        #expect(MediaType.detect([0, 0, 0, 0x20] + ascii("ftypisom")) == nil) // a video
        #expect(MediaType.detect(ascii("%PDF-1.7")) == nil)
        #expect(MediaType.detect([]) == nil)
        #expect(API.range("bytes=0-", size: 0) == .unsatisfiable)
        #expect(API.range("bytes=5-2", size: 10) == .whole)
        #expect(API.range("items=0-1", size: 10) == .whole)
        #expect(API.range("bytes=2-100", size: 10) == .range(2...9))
    }

    /// Byte ranges and cursors at and past the largest numbers: answered, never a trap (a
    /// trap ends the process, and every player's connection with it).
    @Test func hostileRangesAndCursorsAreAnswered() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let alice = try await client.login("alice").access
            let path = try await Self.upload(client, Self.png, token: alice).json["path"] as? String ?? ""
            func get(_ range: String) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, bytes: [UInt8]) {
                try await Self.download(client, path, token: alice, headers: [.range: range])
            }
            let past = try await get("bytes=9223372036854775807-")
            #expect(past.status == .rangeNotSatisfiable && past.headers[.contentRange] == "bytes */1008")
            #expect(try await get("bytes=9223372036854775807-9223372036854775807").status == .rangeNotSatisfiable)
            let suffix = try await get("bytes=-9223372036854775807")
            #expect(suffix.status == .partialContent && suffix.bytes == Self.png && suffix.headers[.contentRange] == "bytes 0-1007/1008")
            let long = try await get("bytes=1000-9223372036854775807")
            #expect(long.status == .partialContent && long.bytes.count == 8 && long.headers[.contentRange] == "bytes 1000-1007/1008")
            // Numbers beyond 64 bits are not a range: the whole file, as RFC 9110 allows.
            #expect(try await get("bytes=99999999999999999999-").status == .ok)
            #expect(try await get("bytes=0-99999999999999999999").status == .ok)
            #expect(try await get("bytes=-99999999999999999999").status == .rangeNotSatisfiable)
            // Cursors: the largest time is a cursor (every upload is older: all of them); past
            // 64 bits or below zero it is not.
            let largest = try await client.call(.get, "/v1/media?cursor=9223372036854775807.m_x", token: alice)
            #expect(largest.status == .ok && (largest.json["items"] as? [Any])?.count == 1, "\(largest.text)")
            #expect(try await client.call(.get, "/v1/media?cursor=99999999999999999999.m_x", token: alice).status == .badRequest)
            #expect(try await client.call(.get, "/v1/media?cursor=-1.m_x", token: alice).status == .badRequest)
            #expect(try await client.call(.get, "/v1/media?limit=9223372036854775807", token: alice).status == .badRequest)
        }
    }

    /// The handler's own bounds, should a value reach it unchecked: a page size within the
    /// contract's 1 to 100, a range within the file whatever its stored size, a read within
    /// the file on disk whatever the range.
    @Test func handlersBoundWhatTheContractBounds() async throws {
        #expect(API.pageLimit(nil) == 50 && API.pageLimit(nil, default: 20) == 20 && API.pageLimit(7) == 7)
        #expect(API.pageLimit(Int.max) == 100 && API.pageLimit(101) == 100 && API.pageLimit(0) == 1 && API.pageLimit(Int.min) == 1)
        #expect(API.range("bytes=-5", size: -1) == .unsatisfiable)
        #expect(API.range("bytes=0-", size: Int.min) == .unsatisfiable)
        #expect(API.range("bytes=-9223372036854775807", size: Int.max) == .range(0...(Int.max - 1)))
        #expect(API.range("bytes=9223372036854775806-", size: Int.max) == .range((Int.max - 1)...(Int.max - 1)))
        #expect(API.range("bytes=0-9223372036854775807", size: 10) == .range(0...9))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-blobs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = LocalBlobStore(root: folder)
        let key = Hex.sha256(Self.png)
        try await store.put(Self.png, key: key, contentType: "image/png")
        #expect(try await store.get(key: key, range: 0...Int.max) == Self.png)
        #expect(try await store.get(key: key, range: 1000...Int.max) == Array(Self.png.suffix(8)))
        #expect(try await store.get(key: key, range: Int.max...Int.max) == [])
        await #expect(throws: MediaError.self) { try await store.get(key: key, range: -1...3) }
    }
}
