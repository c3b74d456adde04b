import AudioDQ
import FuzzDriver
import Foundation

/// Checkpoint files (.dqm): must load or throw (bad magic, version, CRC, shapes), never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let c = try? Checkpoint.decode(data, path: "fuzz.dqm") {
        _ = try? c.encoded()
        if let flow = try? WaveformFlow(configuration: .init(squeeze: 8, steps: 1, hidden: 4), seed: 0) {
            _ = try? flow.load(c)
        }
    }
    return 0
}


@_cdecl("FuzzCheckpoint_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
