import Foundation

/// What a contract's sha256 is taken over (edgemef.runtime.contract.artifact_sha256): a single file's bytes,
/// or for a folder bundle (`.mlpackage`) each file's relative path (POSIX, UTF-8) + NUL + its bytes, files in
/// sorted order of their relative paths. The app feeds these chunks to CryptoKit's SHA256.
public enum ArtifactDigest {
    /// Calls `consume` with the digest's input, chunk by chunk.
    public static func feed(_ url: URL, _ consume: (Data) throws -> Void) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw ContractError("\(url.lastPathComponent): no such model file")
        }
        if !isFolder.boolValue {
            try consume(try Data(contentsOf: url))
            return
        }
        for relative in try files(in: url) {
            try consume(Data(relative.utf8) + Data([0]))
            try consume(try Data(contentsOf: url.appendingPathComponent(relative)))
        }
    }

    /// The regular files under `folder`, as relative POSIX paths, sorted as Python sorts their paths: by
    /// their components, each compared by code point.
    public static func files(in folder: URL) throws -> [String] {
        let base = folder.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else {
            throw ContractError("\(folder.lastPathComponent): cannot list the bundle")
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isFolder),
                !isFolder.boolValue
            {
                found.append(relative)
            }
        }
        func key(_ path: String) -> [[UInt32]] {
            path.split(separator: "/").map { $0.unicodeScalars.map(\.value) }
        }
        return found.sorted { key($0).lexicographicallyPrecedes(key($1)) { $0.lexicographicallyPrecedes($1) } }
    }
}
