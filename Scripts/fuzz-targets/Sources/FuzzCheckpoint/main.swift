import AudioDQ
import FuzzDriver
import Foundation

/// Checkpoint files (.dqm) must load or throw, never crash. An input is a file without its last
/// 4 bytes: the target appends their CRC32 (`Checkpoint.sealed`), so every mutation passes the
/// checksum and reaches the header and payload decoder, then both loaders that read checkpoints
/// (`WaveformFlow.load`, `DequantModel(checkpoint:path:)`, which bounds the architecture before
/// building it). The input as it is, its own last 4 bytes taken as the CRC, is decoded too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let payload = Data(bytes: start, count: count)
    _ = try? Checkpoint.decode(payload, path: "fuzz.dqm")
    if let c = try? Checkpoint.decode(Checkpoint.sealed(payload), path: "fuzz.dqm") {
        _ = try? c.encoded()
        if let flow = try? WaveformFlow(configuration: .init(squeeze: 8, steps: 1, hidden: 4), seed: 0) {
            _ = try? flow.load(c)
        }
        _ = try? DequantModel(checkpoint: c, path: "fuzz.dqm")
    }
    return 0
}


@_cdecl("FuzzCheckpoint_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
