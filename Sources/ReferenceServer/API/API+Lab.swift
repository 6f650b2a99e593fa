import ContentPacks
import Foundation
import OpenAPIRuntime

/// The dice lab (a static page that works through the API) and what it asks that campaigns do
/// not: a pack's catalog, and rolls stored nowhere.
extension API {
    func getLab(_ input: Operations.GetLab.Input) async throws -> Operations.GetLab.Output {
        .ok(.init(body: .html(HTTPBody(services.lab["index.html"] ?? []))))
    }

    func getLabAsset(_ input: Operations.GetLabAsset.Input) async throws -> Operations.GetLabAsset.Output {
        switch input.path.asset {
        case .lab_js: .ok(.init(body: .textJavascript(HTTPBody(services.lab["lab.js"] ?? []))))
        case .lab_css: .ok(.init(body: .textCss(HTTPBody(services.lab["lab.css"] ?? []))))
        }
    }

    func getPackCatalog(_ input: Operations.GetPackCatalog.Input) async throws -> Operations.GetPackCatalog.Output {
        let record = try await storedPack(input.path.packId, input.path.version)
        let loaded: LoadedRuleset
        do {
            // The version itself, even retired, with the newest versions of what it requires.
            loaded = try await services.packs.ruleset(try await services.packs.closure(of: record))
        } catch let problem as PackLibrary.ResolutionProblem {
            throw Problem.unprocessable("/", .packsUnresolved, ["reason": problem.message])
        }
        return .ok(.init(body: .json(try catalogs(loaded, input.query.lang))))
    }
}
