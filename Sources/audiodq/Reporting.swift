import ArgumentParser
import AudioDQ
#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to stderr, unbuffered.
func printError(_ line: String, newline: Bool = true) {
    var s = line
    if newline && !s.hasSuffix("\n") { s += "\n" }
    let bytes = Array(s.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Runs library work; turns any error into one line on stderr and exit code 1 (64 for a usage
/// error the library finds, `AudioDQError.isUsageError`).
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as AudioDQError where e.isUsageError {
        printError("audiodq: error: \(e)")
        throw ExitCode.validationFailure
    } catch {
        printError("audiodq: error: \(error)")
        throw ExitCode.failure
    }
}

extension DequantRangeArgument: ExpressibleByArgument {}
extension ValueTypeArgument: ExpressibleByArgument {}
extension ValueFormatArgument: ExpressibleByArgument {}

/// `--format f32|f64|npy|wav`.
enum ValueFormatArgument: String, CaseIterable {
    case f32, f64, npy, wav
    var value: ValueFormat { ValueFormat(rawValue: rawValue)! }
}

/// `--range unit|symmetric`.
enum DequantRangeArgument: String, CaseIterable {
    case unit, symmetric
    var value: DequantRange { self == .unit ? .unit : .symmetric }
}

/// `--dtype float32|float64`.
enum ValueTypeArgument: String, CaseIterable {
    case float32, float64
    var value: ValueType { self == .float32 ? .float32 : .float64 }
}

func parseRaw(_ spec: String?) throws -> RawFormat? {
    guard let spec else { return nil }
    do { return try RawFormat(spec: spec) } catch { throw ValidationError(error.description) }
}

func defaultThreads() -> Int {
    let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    return max(1, min(n, 8))
}

