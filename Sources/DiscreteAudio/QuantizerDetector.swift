/// Finds the quantizer behind a linear PCM stream in one streaming pass (`QuantizerDetection`
/// states the rule).
///
/// Per sample it does one store: `seen[bin] = 1` in a table of K bytes (64 KiB for 16-bit, 16 MiB
/// for 24-bit), plus an OR that guards the table's range. Everything else — distinct values, the
/// common power of two, G.711 level membership and the evidence — is read from the table at the
/// end, so the pass runs at a few G samples/s and the result does not depend on how the stream was
/// chunked or split between detectors (`merge`).
public struct QuantizerDetector: Sendable {
    /// The container's encoding (linear PCM).
    public let encoding: SampleEncoding
    /// Samples added so far.
    public private(set) var samples = 0
    /// seen[bin] = 1 once a sample with that bin occurred.
    private var seen: [UInt8]

    /// A detector for `encoding` (linear PCM: `pcmU8`, `pcmS8`, `pcm16`, `pcm24`).
    public init(encoding: SampleEncoding) throws(DiscreteAudioError) {
        guard encoding.isLinear else { throw .needsLinearPCM(encoding) }
        self.encoding = encoding
        seen = [UInt8](repeating: 0, count: encoding.binCount)
    }

    /// Adds bins (as in `DiscreteSignal`, 0 ≤ bin < K; a bin out of range traps, after being
    /// masked into the table so memory stays safe).
    public mutating func add(bins: UnsafeBufferPointer<UInt32>) {
        let mask = UInt32(encoding.binCount - 1)
        var all: UInt32 = 0
        seen.withUnsafeMutableBufferPointer { table in
            let t = table.baseAddress!
            for b in bins {
                all |= b
                t[Int(b & mask)] = 1
            }
        }
        precondition(all <= mask, "bin outside 0..<\(encoding.binCount)")
        samples += bins.count
    }

    /// Adds signed 16-bit samples (bin = v + 32768). Precondition: the encoding is `pcm16`.
    public mutating func add(_ values: UnsafeBufferPointer<Int16>) {
        precondition(encoding == .pcm16, "Int16 samples need a pcm16 detector")
        seen.withUnsafeMutableBufferPointer { table in
            let t = table.baseAddress!
            for v in values { t[Int(UInt16(bitPattern: v) ^ 0x8000)] = 1 }
        }
        samples += values.count
    }

    /// Adds signed values v = bin − K/2 (for 24-bit: −2^23 ≤ v < 2^23; out of range traps).
    public mutating func add(_ values: UnsafeBufferPointer<Int32>) {
        let half = Int32(encoding.binCount / 2)
        let mask = UInt32(encoding.binCount - 1)
        var all: UInt32 = 0
        seen.withUnsafeMutableBufferPointer { table in
            let t = table.baseAddress!
            for v in values {
                let b = UInt32(bitPattern: v &+ half)
                all |= b
                t[Int(b & mask)] = 1
            }
        }
        precondition(all <= mask, "sample outside the range of \(encoding.displayName)")
        samples += values.count
    }

    /// Adds everything another detector of the same encoding has seen.
    public mutating func merge(_ other: QuantizerDetector) {
        precondition(other.encoding == encoding, "merging detectors of different encodings")
        other.seen.withUnsafeBufferPointer { o in
            seen.withUnsafeMutableBufferPointer { s in
                for i in 0..<s.count { s[i] |= o[i] }
            }
        }
        samples += other.samples
    }

    /// Distinct values of the stream that are off one law's level set.
    private struct LawTally {
        let cells: G711Cells
        var off = 0
        /// True when w (16-bit scale) is a level (μ-law's 0 is +0's level).
        func isLevel(_ w: Int) -> Bool {
            Int(cells.levels[Int(cells.binOfValue[w + 32768])]) == w
        }
    }

    /// The decision for what has been added, given the header's declared valid bits (nil: none).
    public func detect(declaredValidBits: Int? = nil) throws(DiscreteAudioError) -> QuantizerDetection {
        let bits = encoding.bits, k = encoding.binCount, half = k / 2
        if let b = declaredValidBits, b < 1 || b > bits {
            throw .validBitsOutOfRange(validBits: b, containerBits: bits)
        }
        // One scan of the table: distinct values, their OR, G.711 membership.
        let m = k >> 16                       // G.711 scale: 1 in 16-bit, 256 in 24-bit, 0 in 8-bit
        let mLog2 = m > 0 ? m.trailingZeroBitCount : 0
        var laws = m > 0 ? [LawTally(cells: .ulaw), LawTally(cells: .alaw)] : []
        var distinct = 0, nonzero = 0
        var orValues = 0
        var nonzeroValues: [Int] = []          // kept only while a law still holds (≤ 256 per law)
        seen.withUnsafeBufferPointer { table in
            var bin = 0
            while bin < k {
                // Skip eight empty entries at a time.
                if bin + 8 <= k {
                    let word = UnsafeRawPointer(table.baseAddress! + bin).loadUnaligned(as: UInt64.self)
                    if word == 0 { bin += 8; continue }
                }
                if table[bin] != 0 {
                    let v = bin - half
                    distinct += 1
                    if v != 0 { nonzero += 1; orValues |= v }
                    var anyLaw = false
                    for i in laws.indices {
                        if v & (m - 1) == 0, laws[i].isLevel(v >> mLog2) { anyLaw = true } else { laws[i].off += 1 }
                    }
                    if anyLaw && v != 0 && nonzeroValues.count < 512 { nonzeroValues.append(v) }
                }
                bin += 1
            }
        }
        let commonK = orValues == 0 ? nil : orValues.trailingZeroBitCount
        var ev = QuantizerDetection.Evidence(
            samples: samples, distinctValues: distinct, distinctNonzero: nonzero, commonStepLog2: commonK,
            declaredValidBits: declaredValidBits, offMuLawLevels: nil, offALawLevels: nil,
            muLawEvidenceBits: nil, aLawEvidenceBits: nil,
            latticeEvidenceBits: (commonK ?? 0) >= 1 ? nonzero : 0)
        let enoughLevels = nonzero >= QuantizerDetection.minimumDistinctNonzero
        // Rule 1: G.711 levels, with evidence against the 2^k lattice the data lies on.
        for i in laws.indices {
            let tally = laws[i]
            var evidence: Int? = nil
            if tally.off == 0 {
                var sum = 0
                for v in nonzeroValues {
                    let w = v >> mLog2
                    let b = Int(tally.cells.binOfValue[w + 32768])
                    let spacingLog2 = tally.cells.segmentSpacing(bin: b).trailingZeroBitCount + mLog2
                    sum += max(0, spacingLog2 - (commonK ?? 0))
                }
                evidence = sum
            }
            if tally.cells.law == .ulaw { ev.offMuLawLevels = tally.off; ev.muLawEvidenceBits = evidence }
            else { ev.offALawLevels = tally.off; ev.aLawEvidenceBits = evidence }
        }
        for law in [SampleEncoding.ulaw, .alaw] {
            let bitsOfLaw = law == .ulaw ? ev.muLawEvidenceBits : ev.aLawEvidenceBits
            if let e = bitsOfLaw, enoughLevels, e >= QuantizerDetection.minimumEvidenceBits {
                let name = law == .ulaw ? "a mu-law" : "an A-law"
                return QuantizerDetection(
                    quantizer: Quantizer(encoding: encoding, kind: .g711Linear(law: law)), basis: .g711Levels,
                    reason: "every sample is \(name) level at scale \(m) (\(nonzero) distinct nonzero levels, \(e) bits of evidence against a 2^\(commonK ?? 0) lattice)",
                    evidence: ev)
            }
        }
        // Rule 2: a lattice from the data.
        let declaredK = declaredValidBits.map { bits - $0 } ?? 0
        let contradicted = declaredK > 0 && commonK.map { $0 < declaredK } == true
        let note = contradicted ? "; the header's \(declaredValidBits!) valid bits are contradicted (samples use the low \(declaredK) bits)" : ""
        if let c = commonK, c >= 1, enoughLevels {
            return QuantizerDetection(
                quantizer: Quantizer(encoding: encoding, kind: .lattice(stepLog2: c)), basis: .lattice,
                reason: "every sample is a multiple of 2^\(c) (\(nonzero) distinct nonzero values, \(nonzero) bits of evidence against 2^\(c - 1))\(note)",
                evidence: ev)
        }
        // Rule 3: declared valid bits that no sample contradicts.
        if declaredK > 0 && !contradicted {
            return QuantizerDetection(
                quantizer: Quantizer(encoding: encoding, kind: .lattice(stepLog2: declaredK)), basis: .declaredValidBits,
                reason: "the header declares \(declaredValidBits!) valid bits and every sample is a multiple of 2^\(declaredK)",
                evidence: ev)
        }
        // Rule 4: the container's codes.
        let why: String
        if samples == 0 {
            why = "no samples"
        } else if commonK == nil {
            why = "every sample is 0"
        } else if commonK == 0 {
            why = "the samples use every bit (odd values occur)"
        } else {
            why = "too few distinct nonzero values (\(nonzero) < \(QuantizerDetection.minimumDistinctNonzero)) to tell a coarse quantizer from a short, quiet or synthetic signal"
        }
        return QuantizerDetection(quantizer: .container(encoding), basis: .container, reason: why + note, evidence: ev)
    }
}
