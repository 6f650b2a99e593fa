import ContentPacks
import Foundation
import Mechanics
import OpenAPIRuntime

/// Packs as content: publish, list, fetch, retire.
extension API {
    static func packVersion(_ record: PackRecord, language: String, warnings: [Diagnostic] = []) -> Components.Schemas.PackVersion {
        Components.Schemas.PackVersion(
            id: record.id, version: record.version, title: LocalizedText.pick(record.titles, language, fallback: record.language) ?? record.id,
            titles: .init(additionalProperties: record.titles), language: record.language, sha256: record.sha256, size: record.size,
            requires: record.requires, uploadedBy: record.uploadedBy, uploadedAt: record.uploadedAt, retired: record.retiredAt != nil,
            retiredAt: record.retiredAt, bundled: record.bundled, warnings: warnings.isEmpty ? nil : warnings.map(diagnostic))
    }

    static func diagnostic(_ diagnostic: Diagnostic) -> Components.Schemas.Diagnostic {
        Components.Schemas.Diagnostic(path: diagnostic.path, line: diagnostic.line, column: diagnostic.column,
                                      severity: diagnostic.severity == .error ? .error : .warning, code: diagnostic.code, message: diagnostic.message)
    }

    func publishPack(_ input: Operations.PublishPack.Input) async throws -> Operations.PublishPack.Output {
        guard case .xml(let body) = input.body else { throw Problem.unsupportedMediaType("application/xml") }
        let principal = try principal
        let xml = Array(try await Data(collecting: body, upTo: configuration.maxPackBytes))
        let path = "upload.xml"
        let check = try await services.packs.check(upload: xml, path: path)
        guard check.isValid, let packInfo = check.info else {
            var problem = Problem(.unprocessableContent, "pack-invalid", title: .titleUnprocessable, detail: .packInvalid)
            problem.diagnostics = check.diagnostics.map { diagnostic in
                Problem.PackDiagnostic(path: diagnostic.path, line: diagnostic.line, column: diagnostic.column, severity: diagnostic.severity.rawValue,
                                       code: diagnostic.code, message: diagnostic.message)
            }
            try await audit("pack.rejected", target: nil, ["errors": String(check.diagnostics.filter { $0.severity == .error }.count),
                                                           "sha256": Hex.sha256(xml)])
            throw problem
        }
        let record = PackLibrary.record(packInfo, xml: xml, uploadedBy: principal.user.id, at: Date(), bundled: false)
        let language = try info.language
        do {
            try await storage.packs.publish(record, xml: xml)
        } catch StoreError.conflict {
            if let stored = try await storage.packs.pack(id: record.id, version: record.version), stored.sha256 == record.sha256 {
                return .ok(.init(body: .json(Self.packVersion(stored, language: language.rawValue))))
            }
            throw Problem.conflict(.packVersionExists, field: "/", ["pack": record.id, "version": record.version])
        }
        try await audit("pack.published", target: "\(record.id)@\(record.version)", ["sha256": record.sha256, "size": String(record.size)])
        try await services.packs.reindex(packId: record.id, content: storage.content)
        let warnings = check.diagnostics.filter { $0.severity == .warning }
        return .created(.init(body: .json(Self.packVersion(record, language: language.rawValue, warnings: warnings))))
    }

    func listPacks(_ input: Operations.ListPacks.Input) async throws -> Operations.ListPacks.Output {
        let language = try info.language.rawValue
        let records = try await storage.packs.packs(id: input.query.id, includeRetired: input.query.includeRetired ?? false)
        return .ok(.init(body: .json(.init(items: records.map { Self.packVersion($0, language: language) }))))
    }

    func storedPack(_ id: String, _ version: String) async throws -> PackRecord {
        guard let record = try await storage.packs.pack(id: id, version: version) else {
            throw Problem.notFound(.packNotFound, ["pack": id, "version": version])
        }
        return record
    }

    func getPack(_ input: Operations.GetPack.Input) async throws -> Operations.GetPack.Output {
        let record = try await storedPack(input.path.packId, input.path.version)
        return .ok(.init(body: .json(Self.packVersion(record, language: try info.language.rawValue))))
    }

    func getPackXML(_ input: Operations.GetPackXML.Input) async throws -> Operations.GetPackXML.Output {
        let record = try await storedPack(input.path.packId, input.path.version)
        guard let xml = try await storage.packs.xml(id: record.id, version: record.version) else {
            throw Problem.notFound(.packNotFound, ["pack": record.id, "version": record.version])
        }
        return .ok(.init(headers: .init(eTag: "\"\(record.sha256)\""), body: .xml(HTTPBody(xml))))
    }

    func retirePack(_ input: Operations.RetirePack.Input) async throws -> Operations.RetirePack.Output {
        let before = try await storedPack(input.path.packId, input.path.version)
        let record = try await storage.packs.retire(id: before.id, version: before.version, at: Date())
        if before.retiredAt == nil {
            try await audit("pack.retired", target: "\(record.id)@\(record.version)")
            try await services.packs.reindex(packId: record.id, content: storage.content)
        }
        return .ok(.init(body: .json(Self.packVersion(record, language: try info.language.rawValue))))
    }
}
