/// Finds the quantizer behind a linear PCM stream in one streaming pass (`QuantizerDetection`
/// states the rule).
///
/// Per sample it does one store, `seen[bin] = 1`, into a table kept in pages of 4096 bins (K bins
/// when K is smaller) that are allocated the first time a sample falls in them: a page index of
/// K/4096 entries (16 for 16-bit, 4096 = 16 KiB for 24-bit) plus 4 KiB per page touched. A file
/// of n samples costs O(n + K/4096) memory and time whatever its container's depth (a 100-sample
/// 24-bit file touches at most 100 pages), and a full one at most K bytes. Everything else —
/// distinct values and magnitudes, the common power of two, G.711 level membership and the
/// evidence — is read from the pages touched at the end, so the pass runs at memory speed and
/// the result does not depend on how the stream was chunked or split between detectors (`merge`).
public struct QuantizerDetector: Sendable {
    /// The container's encoding (linear PCM).
    public let encoding: SampleEncoding
    /// Samples added so far.
    public private(set) var samples = 0
    /// log2 of the bins per page: 12, or log2 K when K < 4096.
    private let pageLog2: Int
    /// pageStart[p]: where page p (bins p·2^pageLog2 ..< (p+1)·2^pageLog2) starts in `seen`, or −1
    /// while no sample of the page has occurred.
    private var pageStart: [Int32]
    /// The pages in the order they were first touched: seen[pageStart[bin >> pageLog2] + bin mod
    /// 2^pageLog2] = 1 once a sample with that bin occurred.
    private var seen: [UInt8] = []

    /// A detector for `encoding` (linear PCM: `pcmU8`, `pcmS8`, `pcm16`, `pcm24`).
    public init(encoding: SampleEncoding) throws(DiscreteAudioError) {
        guard encoding.isLinear else { throw .needsLinearPCM(encoding) }
        self.encoding = encoding
        pageLog2 = min(12, encoding.bits)
        pageStart = [Int32](repeating: -1, count: encoding.binCount >> pageLog2)
    }

    /// Adds bins (as in `DiscreteSignal`, 0 ≤ bin < K; a bin out of range traps, after being
    /// masked into the table so memory stays safe).
    public mutating func add(bins: UnsafeBufferPointer<UInt32>) {
        let mask = UInt32(encoding.binCount - 1)
        let all = mark(bins) { $0 }
        precondition(all <= mask, "bin outside 0..<\(encoding.binCount)")
    }

    /// Adds signed 16-bit samples (bin = v + 32768). Precondition: the encoding is `pcm16`.
    public mutating func add(_ values: UnsafeBufferPointer<Int16>) {
        precondition(encoding == .pcm16, "Int16 samples need a pcm16 detector")
        _ = mark(values) { UInt32(UInt16(bitPattern: $0) ^ 0x8000) }
    }

    /// Adds signed values v = bin − K/2 (for 24-bit: −2^23 ≤ v < 2^23; out of range traps).
    public mutating func add(_ values: UnsafeBufferPointer<Int32>) {
        let half = Int32(encoding.binCount / 2)
        let mask = UInt32(encoding.binCount - 1)
        let all = mark(values) { UInt32(bitPattern: $0 &+ half) }
        precondition(all <= mask, "sample outside the range of \(encoding.displayName)")
    }

    /// Marks bin(x) & (K − 1) of every x, allocating pages as they are first touched; returns the
    /// OR of the unmasked bins (the callers' range check) and counts the samples.
    @inline(__always)
    private mutating func mark<T>(_ xs: UnsafeBufferPointer<T>, _ bin: (T) -> UInt32) -> UInt32 {
        let mask = UInt32(encoding.binCount - 1)
        let shift = UInt32(pageLog2), low = UInt32((1 << pageLog2) - 1)
        var all: UInt32 = 0
        var i = 0
        while i < xs.count {
            // Runs until a sample falls in a page not yet allocated (at most once per page).
            i = seen.withUnsafeMutableBufferPointer { table in
                pageStart.withUnsafeBufferPointer { starts in
                    let t = table.baseAddress, s = starts.baseAddress!
                    var j = i
                    while j < xs.count {
                        let b = bin(xs[j])
                        let m = b & mask
                        let start = s[Int(m >> shift)]
                        if start < 0 { break }
                        all |= b
                        t![Int(start) + Int(m & low)] = 1
                        j += 1
                    }
                    return j
                }
            }
            if i < xs.count { addPage(Int((bin(xs[i]) & mask) >> shift)) }
        }
        samples += xs.count
        return all
    }

    /// Bytes the table holds now: the page index and the pages touched.
    var tableBytes: Int { pageStart.count * MemoryLayout<Int32>.size + seen.count }

    private mutating func addPage(_ p: Int) {
        pageStart[p] = Int32(seen.count)
        seen += [UInt8](repeating: 0, count: 1 << pageLog2)
    }

    /// Adds everything another detector of the same encoding has seen.
    public mutating func merge(_ other: QuantizerDetector) {
        precondition(other.encoding == encoding, "merging detectors of different encodings")
        let n = 1 << pageLog2
        for p in other.pageStart.indices where other.pageStart[p] >= 0 {
            if pageStart[p] < 0 { addPage(p) }
            let mine = Int(pageStart[p]), theirs = Int(other.pageStart[p])
            seen.withUnsafeMutableBufferPointer { s in
                other.seen.withUnsafeBufferPointer { o in
                    for i in 0..<n { s[mine + i] |= o[theirs + i] }
                }
            }
        }
        samples += other.samples
    }

    /// True when a sample of value v (−K/2 ≤ v < K/2; anything else is false) occurred.
    private func occurred(_ v: Int) -> Bool {
        let bin = v + encoding.binCount / 2
        guard bin >= 0, bin < encoding.binCount else { return false }
        let start = pageStart[bin >> pageLog2]
        return start >= 0 && seen[Int(start) + (bin & ((1 << pageLog2) - 1))] != 0
    }

    /// Calls `body` with every value that occurred, in increasing order (pages not touched are
    /// skipped, empty stretches eight entries at a time).
    private func forEachValue(_ body: (Int) -> Void) {
        let n = 1 << pageLog2, half = encoding.binCount / 2
        seen.withUnsafeBufferPointer { table in
            for p in pageStart.indices where pageStart[p] >= 0 {
                let base = table.baseAddress! + Int(pageStart[p])
                var i = 0
                while i < n {
                    if i + 8 <= n, UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) == 0 { i += 8; continue }
                    if base[i] != 0 { body(p * n + i - half) }
                    i += 1
                }
            }
        }
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
        let bits = encoding.bits, k = encoding.binCount
        if let b = declaredValidBits, b < 1 || b > bits {
            throw .validBitsOutOfRange(validBits: b, containerBits: bits)
        }
        let required = QuantizerDetection.requiredEvidenceBits
        // Scan 1: distinct values, magnitudes, their OR, range, G.711 membership.
        let m = k >> 16                       // G.711 scale: 1 in 16-bit, 256 in 24-bit, 0 in 8-bit
        let mLog2 = m > 0 ? m.trailingZeroBitCount : 0
        var laws = m > 0 ? [LawTally(cells: .ulaw), LawTally(cells: .alaw)] : []
        var distinct = 0, nonzero = 0, magnitudes = 0
        var orValues = 0, lo = Int.max, hi = Int.min
        var levelMagnitudes: [Int] = []       // kept only while a law still holds (≤ 128 per law)
        forEachValue { v in
            distinct += 1
            lo = min(lo, v); hi = max(hi, v)
            guard v != 0 else {
                // 0 is μ-law's (merged) zero level but no A-law level (A-law's smallest are ±8):
                // a file of A-law levels with digital silence is not in A-law cells
                for i in laws.indices where !laws[i].isLevel(0) { laws[i].off += 1 }
                return
            }
            nonzero += 1; orValues |= v
            // |v| counts once: at v > 0, or at v < 0 when −v did not occur
            let newMagnitude = v > 0 || !occurred(-v)
            if newMagnitude { magnitudes += 1 }
            var anyLaw = false
            for i in laws.indices {
                if v & (m - 1) == 0, laws[i].isLevel(v >> mLog2) { anyLaw = true } else { laws[i].off += 1 }
            }
            if anyLaw && newMagnitude && levelMagnitudes.count < 256 { levelMagnitudes.append(abs(v)) }
        }
        // Scan 2: distinct nonzero distances |v − c| from the midrange c = (lo + hi)/2, counted as
        // |2v − s| with s = lo + hi (the mirror s − v of any value lies in [lo, hi]).
        var midrange = 0
        if nonzero > 0 {
            let s = lo + hi
            forEachValue { v in
                if 2 * v > s || (2 * v < s && !occurred(s - v)) { midrange += 1 }
            }
        }
        let independent = min(magnitudes, midrange)
        let commonK = orValues == 0 ? nil : orValues.trailingZeroBitCount
        let latticeBits = (commonK ?? 0) * independent
        var ev = QuantizerDetection.Evidence(
            samples: samples, distinctValues: distinct, distinctNonzero: nonzero, distinctMagnitudes: magnitudes,
            midrangeDistances: midrange, independentValues: independent, commonStepLog2: commonK,
            declaredValidBits: declaredValidBits, offMuLawLevels: nil, offALawLevels: nil,
            muLawEvidenceBits: nil, aLawEvidenceBits: nil, latticeEvidenceBits: latticeBits,
            requiredEvidenceBits: required)
        // Rule 1: G.711 levels, with evidence against the 2^k lattice the data lies on.
        for tally in laws {
            var evidence: Int? = nil
            if tally.off == 0 {
                evidence = levelMagnitudes.reduce(0) { sum, v in
                    let b = Int(tally.cells.binOfValue[(v >> mLog2) + 32768])
                    let spacingLog2 = tally.cells.segmentSpacing(bin: b).trailingZeroBitCount + mLog2
                    return sum + max(0, spacingLog2 - (commonK ?? 0))
                }
            }
            if tally.cells.law == .ulaw { ev.offMuLawLevels = tally.off; ev.muLawEvidenceBits = evidence }
            else { ev.offALawLevels = tally.off; ev.aLawEvidenceBits = evidence }
        }
        for law in [SampleEncoding.ulaw, .alaw] {
            let bitsOfLaw = law == .ulaw ? ev.muLawEvidenceBits : ev.aLawEvidenceBits
            if let e = bitsOfLaw, e >= required {
                let name = law == .ulaw ? "a mu-law" : "an A-law"
                return QuantizerDetection(
                    quantizer: Quantizer(encoding: encoding, kind: .g711Linear(law: law)), basis: .g711Levels,
                    reason: "every sample is \(name) level at scale \(m) (\(magnitudes) distinct nonzero magnitudes, \(e) bits of evidence against the 2^\(commonK ?? 0) lattice >= \(required))",
                    evidence: ev)
            }
        }
        // Rule 2: a lattice from the data.
        let declaredK = declaredValidBits.map { bits - $0 } ?? 0
        let contradicted = declaredK > 0 && commonK.map { $0 < declaredK } == true
        let note = contradicted ? "; the header's \(declaredValidBits!) valid bits are contradicted (samples use the low \(declaredK) bits)" : ""
        let tally = "\(independent) independent magnitudes x \(commonK ?? 0) bits = \(latticeBits) bits of evidence"
        if let c = commonK, c >= 1, latticeBits >= required {
            return QuantizerDetection(
                quantizer: Quantizer(encoding: encoding, kind: .lattice(stepLog2: c)), basis: .lattice,
                reason: "every sample is a multiple of 2^\(c) (\(tally) >= \(required): chance 2^-\(latticeBits) for arbitrary integers)\(note)",
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
            why = "every sample is a multiple of 2^\(commonK!), but \(tally) < \(required): too little to tell a coarse quantizer from a short, quiet or synthetic signal"
        }
        return QuantizerDetection(quantizer: .container(encoding), basis: .container, reason: why + note, evidence: ev)
    }
}
