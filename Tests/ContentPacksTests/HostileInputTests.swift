import ContentPacks
import Foundation
import Mechanics
import Testing

/// Hostile files are refused with a clear error: never a hang, a crash, or unbounded memory.
@Suite struct HostileInputTests {
    func refuse(_ bytes: [UInt8], _ message: String, limits: PackLimits = .default, line: Int? = nil, column: Int? = nil,
                sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try PackLoader(limits: limits).load(sources: [("hostile.xml", bytes)])
            Issue.record("loaded a hostile file", sourceLocation: sourceLocation)
        } catch {
            let first = error.errors.first
            #expect(first?.message.contains(message) == true, "\(error)", sourceLocation: sourceLocation)
            if let line { #expect(first?.line == line, "\(error)", sourceLocation: sourceLocation) }
            if let column { #expect(first?.column == column, "\(error)", sourceLocation: sourceLocation) }
        }
    }

    @Test func entityExpansionBomb() {
        let bomb = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
            ]>
            <pack xmlns="urn:roll-for-language:pack:1" id="x" version="1.0.0"><title>&lol9;</title></pack>
            """
        refuse(Array(bomb.utf8), "a DOCTYPE is not allowed in a pack", line: 2, column: 1)
    }

    @Test func externalEntities() {
        let xxe = """
            <?xml version="1.0"?>
            <!-- a comment first -->
            <!DOCTYPE pack [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <pack xmlns="urn:roll-for-language:pack:1" id="x" version="1.0.0"><title>&xxe;</title></pack>
            """
        refuse(Array(xxe.utf8), "a DOCTYPE is not allowed", line: 3)
        let network = #"<!DOCTYPE pack SYSTEM "http://example.com/pack.dtd"><pack/>"#
        refuse(Array(network.utf8), "a DOCTYPE is not allowed")
        // An entity reference without a DTD is simply undefined.
        let undefined = #"<pack xmlns="urn:roll-for-language:pack:1" id="x" version="1.0.0"><title>&xxe;</title></pack>"#
        refuse(Array(undefined.utf8), "Entity 'xxe' not defined", line: 1)
    }

    @Test func xincludeIsNotProcessed() {
        let xml = """
            <pack xmlns="urn:roll-for-language:pack:1" xmlns:xi="http://www.w3.org/2001/XInclude" id="x" version="1.0.0">
              <title>X</title>
              <xi:include href="/etc/passwd" parse="text"/>
            </pack>
            """
        refuse(Array(xml.utf8), "This element is not expected", line: 3)
    }

    @Test func deepNesting() {
        // Megabytes of nesting: refused by the prescan at the depth limit, before any parser.
        let depth = 500_000
        let xml = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        refuse(Array(xml.utf8), "elements nested deeper than 32; the limit maxDepth is 32", line: 1, column: 97)
    }

    @Test func tooManyElements() {
        let xml = "<pack>" + String(repeating: "<b/>", count: 600_000) + "</pack>"
        refuse(Array(xml.utf8), "more than 500000 elements; the limit maxElements is 500000")
        var limits = PackLimits()
        limits.maxElements = 10
        refuse(Array(("<pack>" + String(repeating: "<b/>", count: 10) + "</pack>").utf8), "the limit maxElements is 10", limits: limits)
    }

    @Test func invalidUTF8AndBinaryData() {
        var bytes = Array("<pack id=\"x\">\n  <title>caf".utf8)
        bytes += [0xC3, 0x28]  // a broken two-byte sequence
        bytes += Array("</title></pack>".utf8)
        refuse(bytes, "invalid UTF-8", line: 2, column: 13)
        var random = RNG(seed: 1)
        let binary = (0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        refuse(binary, "packs must be saved as UTF-8")
        refuse(Array("<pack>\u{0}</pack>".utf8), "control character U+0000", line: 1, column: 7)
        refuse(Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><pack/>"#.utf8), "packs must be UTF-8")
    }

    @Test func emptyAndNotXML() {
        refuse([], "the file is empty")
        refuse(Array(" \n".utf8), "the file is empty")
        refuse(Array("just some text".utf8), "Start tag expected", line: 1)
        refuse(Array("<pack".utf8), "Couldn't find end of Start Tag pack", line: 1)
    }

    @Test func hugeFilesAreRefusedBeforeReading() throws {
        // A sparse 100 MB file: refused from its size alone.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-huge-\(getpid()).xml").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 100 << 20)
        try handle.close()
        let diagnostics = PackLoader().validate(paths: [path])
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.message == "the pack is 104857600 bytes; the limit maxFileSize is 16777216")
        do {
            _ = try PackLoader().load(paths: [path])
        } catch {
            #expect(error.code == .limit)
        }
        // The same through memory.
        var limits = PackLimits()
        limits.maxFileSize = 100
        refuse(Array(repeating: UInt8(ascii: " "), count: 101), "the limit maxFileSize is 100", limits: limits)
    }

    @Test func manyAttributesOnOneElement() {
        // libxml2 checks attributes for duplicates pairwise: 100,000 of them would take minutes.
        let attributes = (0..<100_000).map { " a\($0)=\"1\"" }.joined()
        refuse(Array("<pack\(attributes)/>".utf8), "more than 64 attributes on one element; the limit maxAttributes is 64", line: 1)
    }

    @Test func longFormulasHitTheExpressionLimit() {
        let formula = String(repeating: "1+", count: 5000) + "1"
        let xml = Fixtures.pack("f", "  <title>F</title>\n  <derived><value id=\"v\" formula=\"\(formula)\"/></derived>")
        refuse(Array(xml.utf8), "the limit maxExpressionLength is 1000")
    }

    @Test func unreadablePaths() {
        let diagnostics = PackLoader().validate(paths: ["/nonexistent/pack.xml"])
        #expect(diagnostics.first?.message.hasPrefix("cannot read '/nonexistent/pack.xml'") == true)
        do {
            _ = try PackLoader().load(paths: ["/nonexistent/pack.xml"])
        } catch {
            #expect(error.code == .io)
        }
    }

    /// A folder to work in, removed afterwards.
    func withFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    @Test func namedPipesAreNotRead() throws {
        try withFolder { folder in
            try Fixtures.pack("p", Fixtures.title()).write(toFile: folder + "/p.xml", atomically: true, encoding: .utf8)
            #expect(mkfifo(folder + "/pipe.xml", 0o600) == 0)
            // In a folder, the pipe is skipped: the pack next to it loads.
            let loaded = try PackLoader().load(paths: [folder])
            #expect(loaded.packs.map(\.id) == ["p"])
            // Named on its own, it is refused, without waiting for a writer.
            let diagnostics = PackLoader().validate(paths: [folder + "/pipe.xml"])
            #expect(diagnostics.map(\.message) == ["cannot read '\(folder)/pipe.xml': not a regular file"])
        }
    }

    @Test func symbolicLinkLoopsAreFollowedOnce() throws {
        try withFolder { folder in
            try FileManager.default.createDirectory(atPath: folder + "/a/b", withIntermediateDirectories: true)
            try Fixtures.pack("p", Fixtures.title()).write(toFile: folder + "/a/b/p.xml", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: folder + "/a/b/up", withDestinationPath: folder + "/a")
            try FileManager.default.createSymbolicLink(atPath: folder + "/a/self", withDestinationPath: ".")
            let loaded = try PackLoader().load(paths: [folder])
            #expect(loaded.packs.map(\.id) == ["p"])
        }
    }

    @Test func aPackOnOneLongLineStillGetsColumns() throws {
        // 20,000 unknown references on a single line: every diagnostic has its exact column,
        // and finding them does not rescan the line from its start each time.
        let count = 20_000
        let refs = (0..<count).map { "<modifier target=\"nowhere\(String(repeating: "x", count: $0 % 7))\" value=\"1\"/>" }
        let body = "<title>T</title><items><item id=\"i\"><name>I</name>" + refs.joined() + "</item></items>"
        let xml = "<?xml version=\"1.0\"?><pack xmlns=\"urn:roll-for-language:pack:1\" id=\"p\" version=\"1.0.0\">" + body + "</pack>"
        let diagnostics = PackLoader().validate(sources: [("line.xml", Array(xml.utf8))])
        let unknown = diagnostics.filter { $0.message.contains("nowhere") }
        #expect(!unknown.isEmpty)
        for diagnostic in unknown.prefix(50) + unknown.suffix(50) {
            #expect(diagnostic.line == 1)
            let utf8 = Array(xml.utf8)
            let column = diagnostic.column
            // The column points at the reference's value (ASCII, so columns are bytes).
            #expect(String(decoding: utf8[(column - 1)...].prefix(7), as: UTF8.self) == "nowhere", "\(diagnostic)")
        }
    }
}
