import DiscreteAudio
import Foundation

/// The whole diagnostics run: parameters, one `ChannelReport` per channel, and the verdict.
/// Its JSON form is documented in REPORT_SCHEMA.md (schema "audiodq.report/1").
public struct DiagnosticsReport: Codable, Sendable {
    public static let schemaVersion = 1
    /// "audiodq.report/<schemaVersion>".
    public var schema: String
    /// The original (discrete) file, as given.
    public var source: String
    /// The dequantized file, if the values came from one.
    public var dequantized: String?
    public var parameters: Parameters
    public var channels: [ChannelReport]
    /// True when every channel passed.
    public var passed: Bool

    /// Everything the figures depend on.
    public struct Parameters: Codable, Sendable {
        /// Samples per second, Hz.
        public var sampleRate: Double
        /// K, number of bins.
        public var binCount: Int
        public var range: DequantRange
        public var config: DiagnosticsConfig
        /// Free-form provenance (encoding, tool version, seed …).
        public var extra: [String: String]
        /// The cells judged when they are not one code wide (absent otherwise).
        public var quantizer: JudgedCells?
    }

    public init(source: String, dequantized: String?, sampleRate: Double, binCount: Int, range: DequantRange,
                config: DiagnosticsConfig, channels: [ChannelReport], extra: [String: String] = [:],
                quantizer: JudgedCells? = nil) {
        schema = "audiodq.report/\(Self.schemaVersion)"
        self.source = source
        self.dequantized = dequantized
        parameters = Parameters(sampleRate: sampleRate, binCount: binCount, range: range, config: config, extra: extra, quantizer: quantizer)
        self.channels = channels
        passed = channels.allSatisfy(\.passed)
    }

    /// Pretty-printed JSON with sorted keys. Non-finite numbers (which the analyser avoids) would be
    /// written as the strings "inf", "-inf", "nan" rather than failing.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try encoder.encode(self)
        } catch {
            throw SpectralDiagnosticsError.encodingFailed(String(describing: error))
        }
    }

    /// Every check that applies, ran and failed, with its channel index.
    public var failedChecks: [(channel: Int, check: CheckResult)] {
        channels.enumerated().flatMap { i, ch in
            ch.checks.filter(\.failed).map { (channel: i, check: $0) }
        }
    }

    /// Every check the channel's length did not allow, with its channel index.
    public var skippedChecks: [(channel: Int, check: CheckResult)] {
        channels.enumerated().flatMap { i, ch in
            ch.checks.filter { !$0.ran }.map { (channel: i, check: $0) }
        }
    }

    /// True when some channel has a check other than `containment` that ran: false means the
    /// verdict rests on containment alone (every value decodes to its code; the noise is untested).
    public var anyStatisticRan: Bool {
        channels.contains { $0.checks.contains { $0.ran && $0.name != "containment" } }
    }

    /// Formats a check figure compactly (4 significant digits, scientific when tiny or huge).
    static func figure(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.3e", v) }
        return String(format: "%.4g", v)
    }

    /// A plain-text table, one row per check: channel, name, figure, limit, PASS/FAIL (n/a when
    /// the check does not apply, SKIP with "-" figures when the length did not allow it), then the
    /// overall verdict, the reason of every skipped check and the notes.
    public func terminalSummary() -> String {
        var rows: [[String]] = [["ch", "check", "value", "limit", "result"]]
        for (i, ch) in channels.enumerated() {
            for c in ch.checks {
                guard c.ran else {
                    rows.append(["\(i)", c.name, "-", "-", "SKIP"])
                    continue
                }
                let result = !c.applies ? "n/a" : (c.passed ? "PASS" : "FAIL")
                let cmp = c.name == "flatness" ? ">= " : "<= "
                rows.append(["\(i)", c.name, Self.figure(c.value), cmp + Self.figure(c.limit), result])
            }
        }
        var widths = [Int](repeating: 0, count: 5)
        for r in rows { for j in 0..<5 { widths[j] = max(widths[j], r[j].count) } }
        var out = parameters.quantizer.map { "cells: \($0.line)\n" } ?? ""
        for (n, r) in rows.enumerated() {
            let line = (0..<5).map { j in
                j == 2 || j == 3 ? String(repeating: " ", count: widths[j] - r[j].count) + r[j]
                    : r[j] + String(repeating: " ", count: widths[j] - r[j].count)
            }.joined(separator: "  ")
            out += line.trimmingCharacters(in: .whitespaces) + "\n"
            if n == 0 { out += String(repeating: "-", count: widths.reduce(0, +) + 8) + "\n" }
        }
        let failed = failedChecks.count
        let skipped = skippedChecks
        if skipped.isEmpty {
            out += passed ? "PASSED: all checks that apply passed (\(channels.count) channel(s))\n"
                : "FAILED: \(failed) check(s) failed\n"
        } else {
            out += passed ? "PASSED: all checks that apply and ran passed, \(skipped.count) skipped as too short (\(channels.count) channel(s))\n"
                : "FAILED: \(failed) check(s) failed, \(skipped.count) skipped as too short\n"
            for (i, c) in skipped { out += "skipped: ch \(i) \(c.name): \(c.skipped ?? "")\n" }
            if !anyStatisticRan { out += "note: only containment could run: every value decodes to its code, the noise itself is untested\n" }
        }
        var seen = Set<String>()
        for ch in channels { for note in ch.notes where seen.insert(note).inserted { out += "note: " + note + "\n" } }
        return out
    }
}
