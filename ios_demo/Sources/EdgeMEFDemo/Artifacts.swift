#if canImport(CryptoKit)
    import CryptoKit
    import EdgeMEFCore
    import Foundation

    /// A model file and its contract, checked to belong together.
    public struct OpenedArtifact {
        public let url: URL
        public let contract: Contract
    }

    /// Where the app finds artifacts: the ones bundled in the app (the `Artifacts` folder that
    /// `edgemef convert --target ios --out ios_demo/Artifacts` fills before the build) and the ones put in its
    /// Documents folder (Finder, `xcrun devicectl device copy to`). Every artifact is opened through its
    /// contract, which must name it and carry its sha256.
    public enum Artifacts {
        public static var documents: URL {
            FileManager.default.urls(for: .documentDirectory, in: .userDomainMask)[0]
        }

        /// The Core ML artifacts (`.mlpackage` with a contract beside them) in the bundle and in Documents.
        public static func available() -> [URL] {
            var folders = [documents]
            if let bundled = Bundle.main.url(forResource: "Artifacts", withExtension: nil) {
                folders.insert(bundled, at: 0)
            }
            return folders.flatMap { folder in
                ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
                    .filter {
                        $0.pathExtension == "mlpackage" && FileManager.default.fileExists(atPath: contractURL($0).path)
                    }
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
            }
        }

        /// The contract of `artifact`: same folder, same stem, `.json`.
        public static func contractURL(_ artifact: URL) -> URL {
            artifact.deletingPathExtension().appendingPathExtension("json")
        }

        /// The artifact with its contract, after checking the contract names this file and its sha256 matches.
        public static func open(_ artifact: URL) throws -> OpenedArtifact {
            let contractData: Data
            do {
                contractData = try Data(contentsOf: contractURL(artifact))
            } catch {
                throw ContractError(
                    "\(artifact.lastPathComponent): no contract beside it (\(contractURL(artifact).lastPathComponent))")
            }
            let contract = try Contract.parse(contractData)
            guard contract.artifact == artifact.lastPathComponent else {
                throw ContractError("the contract describes \(contract.artifact), not \(artifact.lastPathComponent)")
            }
            var hash = SHA256()
            try ArtifactDigest.feed(artifact) { hash.update(data: $0) }
            let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
            guard digest == contract.sha256 else {
                throw ContractError(
                    "\(artifact.lastPathComponent) does not match its contract's sha256 (edited or truncated?)")
            }
            return OpenedArtifact(url: artifact, contract: contract)
        }

        /// Bytes of a file, or of every file in a bundle folder together (the contract's size_bytes).
        public static func size(_ url: URL) throws -> Int {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
            let files =
                isFolder.boolValue ? try ArtifactDigest.files(in: url).map { url.appendingPathComponent($0) } : [url]
            return try files.reduce(0) { total, file in
                total
                    + ((try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0)
            }
        }
    }
#endif
