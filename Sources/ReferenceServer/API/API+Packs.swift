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
        let xml = Array(try await Data(collecting: body, upTo: configuration.maxPackBytes))
        let language = try info.language.rawValue
        switch try await services.publishedPacks.publish(xml: xml, by: try caller) {
        case .created(let record, let warnings):
            return .created(.init(body: .json(Self.packVersion(record, language: language, warnings: warnings))))
        case .unchanged(let record):
            return .ok(.init(body: .json(Self.packVersion(record, language: language))))
        }
    }

    func listPacks(_ input: Operations.ListPacks.Input) async throws -> Operations.ListPacks.Output {
        let language = try info.language.rawValue
        let records = try await services.publishedPacks.packs(id: input.query.id, includeRetired: input.query.includeRetired ?? false)
        return .ok(.init(body: .json(.init(items: records.map { Self.packVersion($0, language: language) }))))
    }

    func storedPack(_ id: String, _ version: String) async throws -> PackRecord {
        try await services.publishedPacks.pack(id: id, version: version)
    }

    func getPack(_ input: Operations.GetPack.Input) async throws -> Operations.GetPack.Output {
        let record = try await storedPack(input.path.packId, input.path.version)
        return .ok(.init(body: .json(Self.packVersion(record, language: try info.language.rawValue))))
    }

    func getPackXML(_ input: Operations.GetPackXML.Input) async throws -> Operations.GetPackXML.Output {
        let (record, xml) = try await services.publishedPacks.xml(id: input.path.packId, version: input.path.version)
        return .ok(.init(headers: .init(eTag: "\"\(record.sha256)\""), body: .xml(HTTPBody(xml))))
    }

    func retirePack(_ input: Operations.RetirePack.Input) async throws -> Operations.RetirePack.Output {
        let record = try await services.publishedPacks.retire(id: input.path.packId, version: input.path.version, by: try caller)
        return .ok(.init(body: .json(Self.packVersion(record, language: try info.language.rawValue))))
    }
}
