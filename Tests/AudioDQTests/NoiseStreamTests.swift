import Foundation
import Testing
@testable import AudioDQ

/// The default noise stream is the source's SHA-256: different files get independent noise, the
/// same content the same bytes under any name, and the sidecar says how to reproduce it.
@Suite struct NoiseStreamTests {
    /// Within-bin positions u = y·K − x of a unit-range .f64 output of a 16-bit source.
    func positions(_ output: String, _ source: String) throws -> [Double] {
        let x = try readBins(source).bins
        let y = try bytes(output).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(y.count == x.count)
        return zip(x, y).map { $1 * 65536 - Double($0) }
    }

    func sha256(_ path: String) throws -> String {
        var h = SourceHash()
        try bytes(path).withUnsafeBytes { h.update($0) }
        return h.finalizeHex()
    }

    func correlation(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (p, q) in zip(a, b) { sab += (p - ma) * (q - mb); saa += (p - ma) * (p - ma); sbb += (q - mb) * (q - mb) }
        return sab / (saa * sbb).squareRoot()
    }

    /// Converting a corpus one file at a time in a shell loop used to give every file the same
    /// within-bin positions (the stream name was "" for every single file).
    @Test func differentFilesGetIndependentNoiseByDefault() throws {
        let dir = try TempDir()
        for name in ["speech-s16", "sweep-s16"] {
            let r = try CLI.run(["convert", fixture("\(name).wav"), dir.file("\(name).f64"), "-q"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let a = try positions(dir.file("speech-s16.f64"), fixture("speech-s16.wav"))
        let b = try positions(dir.file("sweep-s16.f64"), fixture("sweep-s16.wav"))
        let n = min(a.count, b.count)
        #expect(n > 30_000)
        let equal = (0..<n).filter { abs(a[$0] - b[$0]) < 1e-6 }.count
        #expect(Double(equal) / Double(n) < 0.001, "\(equal) of \(n) positions equal")
        // independent: |r| within 5 standard errors (1/√n) of 0
        let r = correlation(a[0..<n], b[0..<n])
        #expect(abs(r) < 5 / Double(n).squareRoot(), "correlation \(r)")
    }

    /// Same content and seed, same bytes, whatever the file's name, folder or working directory;
    /// the sidecar records the stream and how it was chosen, and `--seed S --key NAME` reproduces it.
    @Test func sameContentGivesTheSameBytesAndTheSidecarSaysHow() throws {
        let dir = try TempDir()
        let source = fixture("stereo.wav")
        #expect(try CLI.run(["convert", source, dir.file("a.f32"), "--seed", "6", "-q"]).status == 0)
        #expect(try CLI.run(["convert", source, dir.file("b.f32"), "--seed", "6", "-q"]).status == 0)
        try FileManager.default.createDirectory(atPath: dir.file("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: dir.file("elsewhere/renamed copy.wav"))
        #expect(try CLI.run(["convert", "renamed copy.wav", "../c.f32", "--seed", "6", "-q"], cwd: dir.file("elsewhere")).status == 0)
        let a = try bytes(dir.file("a.f32"))
        #expect(try bytes(dir.file("b.f32")) == a)
        #expect(try bytes(dir.file("c.f32")) == a)
        #expect(try CLI.run(["convert", source, dir.file("d.f32"), "--seed", "7", "-q"]).status == 0)
        #expect(try bytes(dir.file("d.f32")) != a)

        let sc = try Sidecar.load(path: dir.file("a.f32.json"))
        let hash = try sha256(source)
        #expect(sc.source.sha256 == hash)
        #expect(sc.dequantization.streamName == hash)
        #expect(sc.dequantization.streamSource == "source-sha256")
        #expect(sc.dequantization.stream == NoiseKey.fnv1a64(hash))
        #expect(try Sidecar.load(path: dir.file("c.f32.json")).dequantization == sc.dequantization)
        // reproduce from the sidecar alone
        let again = try CLI.run(["convert", source, dir.file("e.f32"), "--seed", "\(sc.dequantization.seed)",
                                 "--key", sc.dequantization.streamName, "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try bytes(dir.file("e.f32")) == a)
        let given = try Sidecar.load(path: dir.file("e.f32.json"))
        #expect(given.dequantization.streamName == hash && given.dequantization.streamSource == nil)
    }

    /// `--key NAME` is exactly the generator of the README with that name, as before (`--key ""`
    /// gives what the default used to be).
    @Test(arguments: ["", "corpus/speech.wav"])
    func givenKeyIsTheDocumentedGenerator(key: String) throws {
        let dir = try TempDir()
        let r = try CLI.run(["convert", fixture("speech-s16.wav"), dir.file("k.f32"), "--seed", "11", "--key", key, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        let bins = try readBins(fixture("speech-s16.wav")).bins
        let deq = UniformDequantizer(binCount: 65536, range: .unit, key: NoiseKey(seed: 11, name: key))
        var y = [Float](repeating: 0, count: bins.count)
        bins.withUnsafeBufferPointer { b in y.withUnsafeMutableBufferPointer { deq.dequantize(bins: b, firstIndex: 0, into: $0) } }
        #expect(try bytes(dir.file("k.f32")) == y.withUnsafeBytes { Data($0) })
        let sc = try Sidecar.load(path: dir.file("k.f32.json"))
        #expect(sc.dequantization.streamName == key && sc.dequantization.streamSource == nil)
    }

    /// `report` dequantizes exactly as `convert` would, default stream included.
    @Test func reportUsesTheSameDefaultStreamAsConvert() throws {
        let dir = try TempDir()
        let source = fixture("speech-s16.wav")
        #expect(try CLI.run(["convert", source, dir.file("y.f32"), "--seed", "2", "-q"]).status == 0)
        #expect(try CLI.run(["report", source, "--seed", "2", "--json", dir.file("here.json"), "-q"]).status == 0)
        #expect(try CLI.run(["report", source, "--dequantized", dir.file("y.f32"), "--json", dir.file("there.json"), "-q"]).status == 0)
        let channels = { (p: String) throws -> Data in
            let obj = try JSONSerialization.jsonObject(with: bytes(p)) as! [String: Any]
            return try JSONSerialization.data(withJSONObject: obj["channels"]!, options: [.sortedKeys])
        }
        #expect(try channels(dir.file("here.json")) == channels(dir.file("there.json")))
        // and it differs from the old default stream ""
        #expect(try CLI.run(["report", source, "--seed", "2", "--key", "", "--json", dir.file("old.json"), "-q"]).status == 0)
        #expect(try channels(dir.file("old.json")) != channels(dir.file("here.json")))
    }
}
