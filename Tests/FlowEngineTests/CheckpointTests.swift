@testable import FlowEngine
import Foundation
import Testing

/// Checkpoint format: CRC32, round trip, atomic write, and typed errors for bad files.
@Suite struct CheckpointTests {
    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("flowengine-ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func crc32KnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test func roundTripRestoresTheModel() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = WaveformFlow.Configuration(squeeze: 4, steps: 2, hidden: 6)
        let a = try WaveformFlow(configuration: cfg, seed: 1)
        let v = randomArray(32, seed: 2, scale: 0.3)
        let lpA = try a.forward(v, batch: 2)   // runs the ActNorm init
        let path = dir + "/model.ckpt"
        try a.save(to: path)
        try a.save(to: path)   // overwriting works and leaves no temporary files behind
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.ckpt"])
        let b = try WaveformFlow(configuration: cfg, seed: 99)
        try b.load(from: path)
        #expect(b.actNorms.allSatisfy { $0.isInitialized })
        #expect(try b.forward(v, batch: 2) == lpA)
        #expect(try Checkpoint.read(from: path) == a.checkpoint())
    }

    /// A checkpoint is flushed before its rename and its folder after (as convert's outputs);
    /// `flush: false` (AUDIODQ_FSYNC=0 in the CLI) only renames. Either way the file read back is
    /// whole and no temporary file is left.
    @Test(arguments: [true, false]) func writeFlushesAroundTheRename(_ flush: Bool) throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.dqm"
        let key = URL(fileURLWithPath: path).deletingLastPathComponent().path
        Checkpoint.probe.withLock { $0[key] = [] }
        defer { Checkpoint.probe.withLock { $0[key] = nil } }
        let c = Checkpoint(model: "test", architecture: ["n": 3],
                           arrays: [.init(name: "w", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])])
        try c.write(to: path, flush: flush)
        try c.write(to: path, flush: flush)
        let steps = flush ? ["fsync", "rename", "fsyncdir"] : ["rename"]
        #expect(Checkpoint.probe.withLock { $0[key] } == steps + steps)
        #expect(try Checkpoint.read(from: path) == c)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.dqm"])
    }

    @Test func badFilesGiveTypedErrors() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = WaveformFlow.Configuration(squeeze: 4, steps: 1, hidden: 4)
        let flow = try WaveformFlow(configuration: cfg, seed: 1)
        let good = [UInt8](try flow.checkpoint().encoded())
        let path = dir + "/x.ckpt"
        func write(_ b: [UInt8]) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

        var corrupt = good
        corrupt[good.count / 2] ^= 0x40
        try write(corrupt)
        #expect(throws: FlowEngineError.self) { try flow.load(from: path) }
        do { _ = try Checkpoint.read(from: path); Issue.record("no error") } catch let e as FlowEngineError {
            guard case .checkpointChecksum = e else { Issue.record("got \(e)"); return }
        }

        var v2 = good
        v2[8] = 2
        try write(v2)
        #expect(throws: FlowEngineError.checkpointVersion(path: path, found: 2, supported: 1)) { try Checkpoint.read(from: path) }

        var magic = good
        magic[0] = 0x58
        try write(magic)
        #expect(throws: FlowEngineError.checkpointBadMagic(path: path)) { try Checkpoint.read(from: path) }

        try write(Array(good.prefix(10)))
        #expect(throws: FlowEngineError.checkpointBadMagic(path: path)) { try Checkpoint.read(from: path) }

        let other = try WaveformFlow(configuration: .init(squeeze: 4, steps: 1, hidden: 8), seed: 1)
        #expect(throws: FlowEngineError.checkpointArchitecture(
            expected: "WaveformFlow{\"hidden\":8,\"kernelSize\":3,\"squeeze\":4,\"steps\":1}",
            found: "WaveformFlow{\"hidden\":4,\"kernelSize\":3,\"squeeze\":4,\"steps\":1}")) {
            try other.load(flow.checkpoint())
        }
        #expect(throws: FlowEngineError.self) { try Checkpoint.read(from: dir + "/missing.ckpt") }
    }
    /// Both flows restore through `Checkpoint.restore`: the same checks, the same error for each
    /// kind of mismatch (a wrong shape, a missing array, a missing extra state array), and nothing
    /// modified when one is found. (NoiseFlow used to report "missing or shape differs".)
    @Test func bothFlowsShareOneRestorePath() throws {
        let wave = try WaveformFlow(configuration: .init(squeeze: 4, steps: 1, hidden: 4), seed: 1)
        let noise = try NoiseFlow(configuration: .init(layers: 2, hidden: 4), seed: 1)
        func reshaped(_ c: Checkpoint, _ name: String) -> Checkpoint {
            var c = c
            let i = c.arrays.firstIndex { $0.name == name }!
            c.arrays[i].shape = [c.arrays[i].values.count]
            return c
        }
        func renamed(_ c: Checkpoint, _ name: String) -> Checkpoint {
            var c = c
            c.arrays[c.arrays.firstIndex { $0.name == name }!].name = name + ".old"
            return c
        }
        let models: [(parameters: [Parameter], checkpoint: Checkpoint, load: (Checkpoint) throws -> Void)] = [
            (wave.parameters, wave.checkpoint(), { try wave.load($0) }), (noise.parameters, noise.checkpoint(), { try noise.load($0) }),
        ]
        for m in models {
            let p = m.parameters[0]
            let before = m.parameters.map(\.value)
            var shaped = reshaped(m.checkpoint, p.name)
            for i in shaped.arrays.indices { shaped.arrays[i].values = shaped.arrays[i].values.map { $0 + 1 } }
            #expect(throws: FlowEngineError.checkpointArrayMismatch(name: p.name, reason: "shape [\(p.count)], expected \(p.shape)")) {
                try m.load(shaped)
            }
            #expect(throws: FlowEngineError.checkpointArrayMismatch(name: p.name, reason: "missing")) { try m.load(renamed(m.checkpoint, p.name)) }
            #expect(m.parameters.map(\.value) == before, "a refused checkpoint changes nothing")
        }
        var noFlags = wave.checkpoint()
        noFlags.arrays.removeAll { $0.name == WaveformFlow.actNormStateName }
        noFlags.arrays.append(.init(name: "other", shape: [1], values: [1]))
        #expect(throws: FlowEngineError.checkpointArrayMismatch(name: WaveformFlow.actNormStateName, reason: "missing or wrong size")) {
            try wave.load(noFlags)
        }
    }
}
