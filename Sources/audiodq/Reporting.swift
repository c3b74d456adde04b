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

func parseRaw(_ spec: String?) throws -> RawFormat? {
    guard let spec else { return nil }
    do { return try RawFormat(spec: spec) } catch { throw ValidationError(error.description) }
}

func defaultThreads() -> Int {
    let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    return max(1, min(n, 8))
}

