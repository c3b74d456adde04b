import Foundation
import Testing
import CSndFile
import DiscreteAudio
@testable import SoundFileIO

/// libsndfile's own G.711 encoder against `G711Cells`: every 16-bit integer written with
/// `sf_write_short` into a μ-law / A-law WAV, the stored codes read back exactly.
@Suite struct G711EncoderTests {
    @Test(arguments: [SampleEncoding.ulaw, .alaw])
    func libsndfileEncodesEveryIntegerIntoItsCellUpToNegativeBoundaries(_ law: SampleEncoding) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("audiodq-g711enc-\(getpid())-\(law.rawValue).wav").path
        defer { unlink(path) }
        var info = SF_INFO()
        info.samplerate = 8000
        info.channels = 1
        info.format = Int32(SF_FORMAT_WAV) | law.sfSubtype
        let h = try #require(sndfileOpenLock.withLock { _ in sf_open(path, Int32(SFM_WRITE), &info) })
        var x = (-32768..<32768).map { Int16($0) }
        #expect(sf_write_short(h, &x, sf_count_t(x.count)) == sf_count_t(x.count))
        sf_close(h)
        let bins = try CodeReader(path: path, raw: nil, allowDirect: false).readAll(chunkFrames: 4096).bins
        let cells = G711Cells.of(law)
        var differing: [Int] = []
        for v in -32768..<32768 where Int(bins[v + 32768]) != Int(cells.binOfValue[v + 32768]) {
            differing.append(v)
        }
        // libsndfile rounds the magnitude |x| for both signs, so its negative cells are (−hi, −lo]
        // where these are [−hi, −lo): it differs exactly at the 127 negative lower bounds −hi
        // (other than −32768), giving them the next code out (one magnitude step up).
        let negativeLowerBounds = (1..<128).map { Int(cells.bounds[$0]) }
        #expect(differing == negativeLowerBounds)
        for v in differing { #expect(Int(bins[v + 32768]) == Int(cells.binOfValue[v + 32768]) - 1) }
    }
}
