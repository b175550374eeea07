import Foundation
import XCTest

@testable import EdgeMEFCore

/// EdgeMEFCore against golden files the Python side wrote from a real bracket (ios_demo/tools/make_golden.py;
/// the folder is the environment variable EDGEMEF_GOLDEN): within 1 grey level everywhere, the Core Image
/// LUT data byte for byte. Tests that need no golden files run without it.
final class GoldenTests: XCTestCase {
    var golden: URL!
    var meta: [String: JSONValue]!

    override func setUpWithError() throws {
        guard let folder = ProcessInfo.processInfo.environment["EDGEMEF_GOLDEN"] else {
            throw XCTSkip("EDGEMEF_GOLDEN is not set: run tests/test_ios_core.py, which writes the golden files")
        }
        golden = URL(fileURLWithPath: folder)
        meta = try JSONDecoder().decode([String: JSONValue].self, from: read("meta.json"))
    }

    func read(_ name: String) throws -> Data {
        try Data(contentsOf: golden.appendingPathComponent(name))
    }

    func int(_ key: String) -> Int {
        meta[key]!.intValue!
    }

    func floats(_ name: String) throws -> [Float] {
        let data = try read(name)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    func shuffled() throws -> [Frame] {
        try (0..<int("n_exposures")).map {
            try Frame(width: int("width"), height: int("height"), rgb: [UInt8](read("frame_\($0).rgb")))
        }
    }

    func ordered() throws -> [Frame] {
        let frames = try shuffled()
        return BracketOrder.order(frames).order.map { frames[$0] }
    }

    func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func testContractOfTheShippedArtifactParses() throws {
        let contract = try Contract.parse(read("contract.json"))
        XCTAssertEqual(contract.family, "lut-distill")
        XCTAssertEqual(contract.backend, .litert)
        XCTAssertEqual(contract.outputKind, .displaySRGB8)
        XCTAssertEqual(try contract.lutGrid(), int("grid"))
        XCTAssertEqual(try contract.thumbnailSize(), int("thumbnail_size"))
        XCTAssertNoThrow(try contract.checkLutDistill())
    }

    func testEditedContractsAreOneClearError() throws {
        let edits: [(String, JSONValue?)] = [
            ("graphs", nil), ("sha256", nil), ("sha256", .string("abc")), ("unknown", .number(1)),
            ("format_version", .number(1)), ("output_kind", .string("hdr")), ("n_exposures", .string("3")),
            ("n_exposures", .number(1)), ("inputs", .array([])), ("backend", .string("tensorrt")),
            ("artifact", .string("../model.mlpackage")), ("format", .string("onnx")), ("precision", .string("int4")),
        ]
        let original = try JSONDecoder().decode([String: JSONValue].self, from: read("contract.json"))
        for (key, value) in edits {
            var edited = original
            edited[key] = value
            let data = try JSONEncoder().encode(edited)
            XCTAssertThrowsError(try Contract.parse(data), "\(key) = \(String(describing: value))") { error in
                let message = (error as? ContractError)?.message ?? "not a ContractError: \(error)"
                XCTAssertFalse(message.contains("\n"), message)
                XCTAssertTrue(error is ContractError, message)
            }
        }
        XCTAssertThrowsError(try Contract.parse(Data("[1, 2]".utf8)))
        XCTAssertThrowsError(try Contract.parse(Data("{\"format\": \"edgemef-con".utf8)))
        var edited = original
        if case .object(var post)? = edited["postprocessing"] {
            post["grid_size"] = .number(9)
            edited["postprocessing"] = .object(post)
        }
        let contract = try Contract.parse(try JSONEncoder().encode(edited))
        XCTAssertThrowsError(try contract.lutGrid())
    }

    func testAdaptiveContractsNameTheirMaps() throws {
        var data = try JSONDecoder().decode([String: JSONValue].self, from: read("contract.json"))
        data["family"] = .string(Contract.adaptiveFamily)
        if case .array(var outputs)? = data["outputs"], case .object(var weights) = outputs[0] {
            weights["shape"] = .array([.number(1), .number(3), .number(16), .number(16)])
            outputs[0] = .object(weights)
            data["outputs"] = .array(outputs)
        }
        let withoutRule = try Contract.parse(try JSONEncoder().encode(data))
        XCTAssertThrowsError(try withoutRule.weightMapSize())
        if case .object(var post)? = data["postprocessing"] {
            post["weight_maps"] = .string("bilinear, half-pixel centres, clamp-to-edge")
            data["postprocessing"] = .object(post)
        }
        let adaptive = try Contract.parse(try JSONEncoder().encode(data))
        XCTAssertEqual(try adaptive.weightMapSize().rows, 16)
        XCTAssertNoThrow(try adaptive.checkLutDistill())
        XCTAssertEqual(try Contract.parse(read("contract.json")).weightMapSize().columns, 1)
    }

    func testCoreMLContractParsesAndItsDigestInputIsPythons() throws {
        let folder = golden.appendingPathComponent("coreml")
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw XCTSkip("no CoreML artifact among the golden files")
        }
        let contract = try Contract.parse(Data(contentsOf: folder.appendingPathComponent("contract.json")))
        XCTAssertEqual(contract.backend, .coreml)
        XCTAssertEqual(contract.target, "ios")
        XCTAssertNoThrow(try contract.checkLutDistill())
        XCTAssertTrue(contract.artifact.hasSuffix(".mlpackage"))
        // the bytes a sha256 is taken over: Python hashes this stream and compares it with the contract
        var stream = Data()
        try ArtifactDigest.feed(folder.appendingPathComponent(contract.artifact)) { stream.append($0) }
        try stream.write(to: golden.appendingPathComponent("coreml_digest_input.bin"))
        XCTAssertEqual(Int(stream.count) > contract.sizeBytes, true)
    }

    func testOrderIsPythonsOrder() throws {
        let (order, basis) = BracketOrder.order(try shuffled())
        XCTAssertEqual(
            order,
            meta["order"].flatMap { if case .array(let a) = $0 { return a.compactMap(\.intValue) } else { return nil } }
        )
        XCTAssertEqual(basis.rawValue, meta["ordered_by"]?.stringValue)
    }

    func testThumbnailsWithinOneGreyLevel() throws {
        let frames = try ordered()
        let size = int("thumbnail_size")
        let expected = [UInt8](try read("thumbnails.rgb"))
        let plane = size * size * 3
        for (k, frame) in frames.enumerated() {
            let mine = Thumbnails.thumbnail(frame, size: size)
            let theirs = Array(expected[(k * plane)..<((k + 1) * plane)])
            XCTAssertLessThanOrEqual(maxDifference(mine, theirs), 1, "frame \(k)")
        }
        guard case .array(let large)? = meta["large"] else {
            return XCTFail("meta.json has no large frame")
        }
        let frame = try Frame(width: large[0].intValue!, height: large[1].intValue!, rgb: [UInt8](read("large.rgb")))
        XCTAssertLessThanOrEqual(
            maxDifference(Thumbnails.thumbnail(frame, size: size), [UInt8](try read("large_thumbnail.rgb"))), 1)
        let input = Thumbnails.networkInput(frames, size: size)
        XCTAssertEqual(input.count, frames.count * 3 * size * size)
        XCTAssertEqual(input[0], Float(Thumbnails.thumbnail(frames[0], size: size)[0]) / 255)
    }

    func testFusedImageWithinOneGreyLevelOfPython() throws {
        let fused = try LutFusion.fuse(
            ordered(), weights: floats("weights.f32"), lut: floats("lut.f32"), size: int("grid"))
        XCTAssertLessThanOrEqual(maxDifference(fused, [UInt8](try read("fused_reference.rgb"))), 1)
        XCTAssertLessThanOrEqual(maxDifference(fused, [UInt8](try read("fused_runtime.rgb"))), 1)
    }

    func testWeightMapFusionWithinOneGreyLevelOfPython() throws {
        guard case .array(let shape)? = meta["maps"] else {
            return XCTFail("meta.json has no weight maps")
        }
        let fused = try LutFusion.fuse(
            ordered(), maps: floats("weight_maps.f32"), gridHeight: shape[1].intValue!,
            gridWidth: shape[2].intValue!, lut: floats("lut.f32"), size: int("grid"))
        XCTAssertLessThanOrEqual(maxDifference(fused, [UInt8](try read("fused_maps_reference.rgb"))), 1)
    }

    func testColorCubeDataIsPythonsByteForByte() throws {
        let data = try ColorCube.data(lut: floats("lut.f32"), size: int("grid"))
        XCTAssertEqual(data, try read("color_cube.bin"))
    }

    func testBenchmarkReportInTheProfileSchema() throws {
        let contract = try Contract.parse(read("contract.json"))
        let stages: [(String, [Double])] = [
            ("decode", [5, 6, 5]), ("thumbnails", [1, 1, 2]), ("predictor", [20, 21, 19]), ("apply", [3, 3, 4]),
            ("encode", [7, 8, 7]),
        ]
        let report = try ProfileReport(
            contract: contract, artifactFile: contract.artifact, sizeBytes: contract.sizeBytes, stages: stages,
            machineKind: "ios-simulator", machine: "XCTest on Linux, not an iPhone", computeUnits: "all",
            width: int("width"), height: int("height"), maxRssBytes: 0, inputBytes: 3 * 3 * int("width") * int("height")
        )
        XCTAssertEqual(report.endToEnd.medianMs, 37.0)  // runs 36, 39, 37
        XCTAssertEqual(report.stages.map(\.name), ["decode", "thumbnails", "predictor", "apply", "encode"])
        let json = try report.json()
        let decoded = try JSONDecoder().decode(ProfileReport.self, from: json)  // a JSON object has no order
        XCTAssertEqual(decoded.endToEnd, report.endToEnd)
        XCTAssertEqual(
            Dictionary(uniqueKeysWithValues: decoded.stages.map { ($0.name, $0.summary) }),
            Dictionary(uniqueKeysWithValues: report.stages.map { ($0.name, $0.summary) }))
        // the text keeps the order the stages ran in (the HTML report draws them in that order)
        let text = String(decoding: json, as: UTF8.self)
        let positions = report.stages.map { text.range(of: "\"\($0.name)\": {")!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
        try json.write(to: golden.appendingPathComponent("ios_report.json"), options: .atomic)
    }
}

/// The parts that need no golden files.
final class CoreTests: XCTestCase {
    func testSummaryIsNumpys() throws {
        let summary = try ProfileReport.Summary([12.0, 10.0, 11.0, 30.0, 9.0])
        XCTAssertEqual(summary.medianMs, 11.0)
        XCTAssertEqual(summary.p90Ms, 22.8, accuracy: 1e-9)  // numpy.percentile(runs, 90)
        XCTAssertEqual(summary.minMs, 9.0)
        XCTAssertEqual(summary.maxMs, 30.0)
        XCTAssertEqual(summary.runsMs, [12.0, 10.0, 11.0, 30.0, 9.0])
        XCTAssertThrowsError(try ProfileReport.Summary([]))
    }

    func testColorCubeIsTheCanonicalOrderWithAlpha() throws {
        let size = 2
        let lut = (0..<(size * size * size * 3)).map { Float($0) / 100 }
        let data = try ColorCube.data(lut: lut, size: size)
        XCTAssertEqual(data.count, size * size * size * 4 * 4)
        let texels = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(Array(texels[0..<8]), [0, 0.01, 0.02, 1, 0.03, 0.04, 0.05, 1])
        XCTAssertThrowsError(try ColorCube.data(lut: lut, size: 3))
    }

    func testIdentityLutGivesTheFusedImage() throws {
        let size = 5
        var lut = [Float]()
        for b in 0..<size {
            for g in 0..<size {
                for r in 0..<size {
                    lut += [Float(r), Float(g), Float(b)].map { $0 / Float(size - 1) }
                }
            }
        }
        let dark = try Frame(width: 2, height: 1, rgb: [0, 40, 80, 120, 160, 200])
        let bright = try Frame(width: 2, height: 1, rgb: [100, 140, 180, 220, 255, 254])
        let fused = try LutFusion.fuse([dark, bright], weights: [0.5, 0.5], lut: lut, size: size)
        XCTAssertEqual(fused, [50, 90, 130, 170, 208, 227])
        XCTAssertThrowsError(try LutFusion.fuse([dark], weights: [1], lut: lut, size: size))
        let other = try Frame(width: 1, height: 2, rgb: [UInt8](repeating: 0, count: 6))
        XCTAssertThrowsError(try LutFusion.fuse([dark, other], weights: [0.5, 0.5], lut: lut, size: size))
        XCTAssertThrowsError(try Frame(width: 2, height: 2, rgb: [1, 2, 3]))
    }

    func testWeightMapSamplingIsHalfPixelClamped() throws {
        let expected: [(Int, Double)] = [
            (0, 0), (0, 0.25), (0, 0.75), (1, 0.25), (1, 0.75), (2, 0.25), (2, 0.75), (3, 0),
        ]
        let got = LutFusion.sampling(mapSize: 4, imageSize: 8)
        XCTAssertEqual(got.map(\.0), expected.map(\.0))
        XCTAssertEqual(got.map(\.1), expected.map(\.1))
        // uniform maps fuse like global weights
        var lut: [Float] = []  // the identity LUT of side 2: lut[b][g][r] = (r, g, b)
        for b in 0..<2 {
            for g in 0..<2 {
                for r in 0..<2 {
                    lut += [Float(r), Float(g), Float(b)]
                }
            }
        }
        let dark = try Frame(width: 3, height: 2, rgb: [UInt8](repeating: 40, count: 18))
        let bright = try Frame(width: 3, height: 2, rgb: [UInt8](repeating: 200, count: 18))
        let maps: [Float] = [Float](repeating: 0.25, count: 4) + [Float](repeating: 0.75, count: 4)
        XCTAssertEqual(
            try LutFusion.fuse([dark, bright], maps: maps, gridHeight: 2, gridWidth: 2, lut: lut, size: 2),
            try LutFusion.fuse([dark, bright], weights: [0.25, 0.75], lut: lut, size: 2))
        XCTAssertThrowsError(
            try LutFusion.fuse([dark, bright], maps: [1], gridHeight: 2, gridWidth: 2, lut: lut, size: 2))
    }

    func testOrderByExif() throws {
        let pixels = [UInt8](repeating: 128, count: 12)
        func frame(_ time: Double?, _ iso: Double?) throws -> Frame {
            try Frame(
                width: 2, height: 2, rgb: pixels, exposure: ExposureInfo(exposureTime: time, iso: iso, fNumber: 1.8))
        }
        XCTAssertEqual(
            try BracketOrder.order([frame(1 / 30, 100), frame(1 / 500, 100), frame(1 / 120, 100)]).order, [1, 2, 0])
        // ISO counts: 1/60 s at ISO 400 is brighter than 1/30 s at ISO 100
        let (order, basis) = try BracketOrder.order([frame(1 / 60, 400), frame(1 / 30, 100), frame(1 / 250, 100)])
        XCTAssertEqual(order, [2, 1, 0])
        XCTAssertEqual(basis, .exif)
        // equal exposures: the pixels decide (all equal here: the order stays)
        XCTAssertEqual(try BracketOrder.order([frame(1 / 60, 100), frame(1 / 60, 100)]).basis, .luminance)
        XCTAssertEqual(try BracketOrder.order([frame(nil, nil), frame(1 / 60, 100)]).order, [0, 1])
    }

    func testBracketCheckRefusesExposuresThatDidNotApply() throws {
        let applied = [1 / 240.0, 1 / 60.0, 1 / 15.0].map { ExposureInfo(exposureTime: $0, iso: 50, fNumber: 1.8) }
        XCTAssertNoThrow(try BracketCheck.verify(applied, requested: [-2, 0, 2]))
        let measured = try BracketCheck.measuredBias(applied, requested: [-2, 0, 2])
        for (a, b) in zip(measured, [-2.0, 0, 2]) {
            XCTAssertEqual(a, b, accuracy: 1e-9)
        }
        // same time, ISO raised 4x: +2 EV
        let byIso = [(1 / 60.0, 25.0), (1 / 60.0, 100.0), (1 / 60.0, 400.0)].map {
            ExposureInfo(exposureTime: $0.0, iso: $0.1)
        }
        XCTAssertNoThrow(try BracketCheck.verify(byIso, requested: [-2, 0, 2]))
        let clamped = [1 / 60.0, 1 / 60.0, 1 / 15.0].map { ExposureInfo(exposureTime: $0, iso: 50) }
        XCTAssertThrowsError(try BracketCheck.verify(clamped, requested: [-2, 0, 2])) { error in
            XCTAssertTrue("\(error)".contains("asked -2.0 EV"), "\(error)")
        }
        XCTAssertThrowsError(try BracketCheck.verify([ExposureInfo()], requested: [0]))
        XCTAssertThrowsError(try BracketCheck.verify(applied, requested: [-2, 2]))
    }

    func testBenchmarkRequestFromArgumentsAndURL() throws {
        XCTAssertNil(try BenchmarkRequest.from(arguments: ["EdgeMEFDemo", "-NSDoubleLocalizedStrings", "YES"]))
        let request = try BenchmarkRequest.from(arguments: [
            "EdgeMEFDemo", "-benchmark-artifact", "a.mlpackage", "-benchmark-bracket", "rocket", "-benchmark-runs", "5",
        ])
        XCTAssertEqual(request?.artifact, "a.mlpackage")
        XCTAssertEqual(request?.bracket, "rocket")
        XCTAssertEqual(request?.runs, 5)
        XCTAssertEqual(request?.warmup, 3)
        XCTAssertEqual(request?.units, "all")
        XCTAssertEqual(request?.report, "ios_report.json")
        let url = URL(
            string: "edgemef://benchmark?artifact=b.mlpackage&bracket=x&units=cpuOnly&warmup=0&report=r.json")!
        let fromURL = try BenchmarkRequest.from(url: url)
        XCTAssertEqual(fromURL?.units, "cpuOnly")
        XCTAssertEqual(fromURL?.warmup, 0)
        XCTAssertEqual(fromURL?.report, "r.json")
        XCTAssertNil(try BenchmarkRequest.from(url: URL(string: "https://example.org/benchmark?artifact=a")!))
        for bad in [
            ["-benchmark-artifact", "a"],
            ["-benchmark-artifact", "a", "-benchmark-bracket", "b", "-benchmark-runs", "0"],
            ["-benchmark-artifact", "a", "-benchmark-bracket", "b", "-benchmark-units", "gpu"],
            ["-benchmark-artifact", "a", "-benchmark-bracket", "b", "-benchmark-report", "../r.json"],
            ["-benchmark-artifact", "a", "-benchmark-bracket", "b", "-benchmark-speed", "9"], ["-benchmark-artifact"],
        ] {
            XCTAssertThrowsError(try BenchmarkRequest.from(arguments: bad), "\(bad)")
        }
        let documents = URL(fileURLWithPath: "/var/mobile/Documents")
        XCTAssertEqual(BenchmarkRequest.resolve("x/y", in: documents).path, "/var/mobile/Documents/x/y")
        XCTAssertEqual(BenchmarkRequest.resolve("/tmp/y", in: documents).path, "/tmp/y")
    }

    func testDigestFilesAreSortedByPathComponents() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "edgemef-digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for path in ["Data-b/y", "Data/x", "Manifest.json", "Data/a/z"] {
            let file = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(path.utf8).write(to: file)
        }
        // Python sorts Path objects by their parts: "Data" < "Data-b" although "Data-b/y" < "Data/x" as text
        XCTAssertEqual(try ArtifactDigest.files(in: folder), ["Data/a/z", "Data/x", "Data-b/y", "Manifest.json"])
        var stream = Data()
        try ArtifactDigest.feed(folder.appendingPathComponent("Manifest.json")) { stream.append($0) }
        XCTAssertEqual(stream, Data("Manifest.json".utf8))
        XCTAssertThrowsError(try ArtifactDigest.feed(folder.appendingPathComponent("missing")) { _ in })
    }
}
