import ContentPacks
import Mechanics

/// C string arrays as Swift strings; NULL entries or invalid UTF-8 are misuses.
private func paths(_ list: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) throws(EngineError) -> [String] {
    guard count > 0 else { throw EngineError(.misuse, "count is 0: give at least one pack file or folder") }
    guard let list else { throw EngineError(.misuse, "paths is NULL") }
    var result: [String] = []
    for index in 0..<count { result.append(try text(list[index], "paths[\(index)]")) }
    return result
}

@_cdecl("rfl_ruleset_load")
public func rfl_ruleset_load(_ list: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let target = try output(out, "out")
        let files = try paths(list, count)
        do throws(PackError) {
            target.pointee = Handles.make(RulesetHandle.self, try PackLoader().load(paths: files))
        } catch {
            throw error.engineError
        }
    }
}

@_cdecl("rfl_ruleset_load_xml")
public func rfl_ruleset_load_xml(_ xml: UnsafePointer<CChar>?, _ length: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let target = try output(out, "out")
        guard let xml else { throw EngineError(.misuse, "xml is NULL") }
        guard length >= 0 else { throw EngineError(.misuse, "length is negative") }
        let bytes = UnsafeRawBufferPointer(start: xml, count: length)
        do throws(PackError) {
            target.pointee = Handles.make(RulesetHandle.self, try PackLoader().load(sources: [("<memory>", Array(bytes))]))
        } catch {
            throw error.engineError
        }
    }
}

@_cdecl("rfl_ruleset_validate_json")
public func rfl_ruleset_validate_json(_ list: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                                      _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ errors: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(EngineError) in
        let files = try paths(list, count)
        let target = try output(json, "json")
        let errorCount = try output(errors, "errors")
        let diagnostics = PackLoader().validate(paths: files)
        var writer = JSONWriter()
        writer.beginArray()
        for diagnostic in diagnostics {
            writer.beginObject()
            writer.field("path", diagnostic.path)
            writer.field("line", diagnostic.line)
            writer.field("column", diagnostic.column)
            writer.field("severity", diagnostic.severity.rawValue)
            writer.field("code", diagnostic.code)
            writer.field("message", diagnostic.message)
            writer.endObject()
        }
        writer.endArray()
        try handOut(writer.output, to: target)
        errorCount.pointee = diagnostics.filter { $0.severity == .error }.count
    }
}

@_cdecl("rfl_ruleset_name")
public func rfl_ruleset_name(_ ruleset: OpaquePointer?, _ id: UnsafePointer<CChar>?, _ language: UnsafePointer<CChar>?,
                             _ name: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let loaded = try Handles.open(ruleset, RulesetHandle.self, "ruleset").pointee.value
        let key = try text(id, "id")
        let lang = try text(language, "language")
        let target = try output(name, "name")
        guard let found = loaded.name(of: key, language: lang) else {
            throw EngineError(.notFound, "no stat, skill, derived value, check or source '\(key)' with a name")
        }
        try handOut(found, to: target)
    }
}

@_cdecl("rfl_ruleset_catalog_json")
public func rfl_ruleset_catalog_json(_ ruleset: OpaquePointer?, _ language: UnsafePointer<CChar>?,
                                     _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let loaded = try Handles.open(ruleset, RulesetHandle.self, "ruleset").pointee.value
        let lang = try text(language, "language")
        let target = try output(json, "json")
        try handOut(loaded.catalogJSON(language: lang), to: target)
    }
}

@_cdecl("rfl_ruleset_free")
public func rfl_ruleset_free(_ ruleset: OpaquePointer?) {
    Handles.free(ruleset, RulesetHandle.self)
}
