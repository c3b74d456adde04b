import Foundation
import Testing
@testable import AudioDQ

/// The containers of other corpora (NIST SPHERE for TIMIT, IRCAM, VOC, 8SVX, PARIS, MATLAB,
/// HTK) through every command: `info`, `convert`, `report --check`, `restore` into the same
/// container, and the bins come back.
@Suite struct ContainerCommandTests {
    @Test(arguments: [
        (AudioContainer.nist, "speech.wav", "sph"), (.nist, "speech-s16.wav", "sph"), (.ircam, "speech-alaw.wav", "sf"),
        (.voc, "speech-u8.wav", "voc"), (.svx, "speech-s8.au", "8svx"), (.paf, "speech-s16.wav", "paf"),
        (.mat5, "speech-u8.wav", "mat"), (.htk, "speech-s16.wav", "htk"), (.avr, "speech-s8.au", "avr"),
    ])
    func otherContainersWorkInEveryCommand(_ c: AudioContainer, _ name: String, _ ext: String) throws {
        let dir = try TempDir()
        let source = try readBins(fixture(name))
        let path = dir.file("in.\(ext)")
        let w = try CodeWriter(path: path, container: c, encoding: source.encoding, sampleRate: source.sampleRate, channels: source.channels)
        try source.bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()

        let info = try CLI.run(["info", path, "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("\"container\" : \"\(c.rawValue)\""), "\(info.stdout)")
        let y = dir.file("y.f32")
        // a fixed noise stream: the default key is the file's SHA-256, and libsndfile writes the
        // time into a MAT5 header, so the noise (and whether `--check`, a test at α = 0.01 per
        // channel, flags it) would change from run to run
        let conv = try CLI.run(["convert", path, y, "--seed", "4", "--key", "containers"])
        #expect(conv.status == 0, "\(conv.stderr)")
        #expect(try Sidecar.load(path: y + ".json").source.container == c.rawValue)
        let report = try CLI.run(["report", path, "--dequantized", y, "--check"])
        #expect(report.status == 0, "\(report.stderr)")
        let back = dir.file("back.\(ext)")
        let restore = try CLI.run(["restore", y, back])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try readBins(back).bins == source.bins)
        #expect(try CodeReader.probe(path: back).container == c)
    }
}
