/// The quantizer behind a container: a partition of the output scale into half-open cells, one per
/// code, which dequantization fills and decoding finds again.
///
/// **Scale.** Every quantizer works on a real scale t ∈ [−S/2, S/2) with S = `scaleSize` a power of
/// two; t + S/2 is the bin coordinate that `DequantRange` maps to y with binCount S
/// (unit: y = (t + S/2)/S, symmetric: y = t/(S/2)), exactly, since S is a power of two.
///
/// **Cells.** Cell j (0 ≤ j < `cellCount`, ascending in t) is [lower_j, upper_j) with integer
/// bounds; upper_j = lower_{j+1}; lower_0 = −S/2 and upper_last = S/2 (the cells tile the scale).
/// A stored code (its container bin, as in `DiscreteSignal`) belongs to at most one cell
/// (`cell(ofBin:)`, nil for codes the quantizer cannot produce) and every cell has one
/// representative bin (`bin(ofCell:)`), so decoding a value inside a cell restores the stored code
/// bit for bit.
///
/// | kind | S | cells | cell j | level | code of cell j |
/// |---|---|---|---|---|---|
/// | `container` | K | K | [j − K/2, j − K/2 + 1) | lower_j | bin j |
/// | `lattice(stepLog2: k)` | K | K/2^k | [j·2^k − K/2, (j+1)·2^k − K/2) | lower_j | bin j·2^k |
/// | `g711Linear`, byte container | 65536 | 256 | `G711Cells` of bin j | decoded value | bin j |
/// | `g711Linear`, 16/24-bit container | K | 256 (μ-law 255) | m·(G.711 cell), m = K/65536 | m·decoded value | bin m·level + K/2 |
///
/// `container` is today's model: one code wide, in code units (for G.711 bytes the code domain).
///
/// `lattice` is reduced bit depth stored left-justified: an (n − k)-bit code c is stored as the
/// n-bit value v = c·2^k, and v's cell is [v, v + 2^k) in container units. That is the cell the
/// (n − k)-bit code has when dequantized natively, (c + u)/2^(n−k) = (v + u·2^k)/2^n: the same y,
/// so an 8-bit recording in a 16-bit container dequantizes exactly as the 8-bit file would, and
/// k = 0 is `container`.
///
/// `g711Linear` places G.711 codes in the linear domain: cells are the decision intervals of
/// `G711Cells` (scaled by m for a 24-bit container, where the expanded value is the 16-bit one
/// times 256). In the law's own bytes μ-law's two zero codes keep their own cells, −0 = [−4, 0)
/// and +0 = [0, 4). Expanded to linear PCM both zeros became the value 0, so that container has one
/// zero cell, their union [−4m, 4m), and 255 cells; A-law has 256 cells in both.
public struct Quantizer: Sendable, Hashable, CustomStringConvertible {
    /// What the cells are.
    public enum Kind: Sendable, Hashable {
        /// One code wide (today's behaviour).
        case container
        /// A lattice of step 2^stepLog2 in container units (reduced bit depth).
        case lattice(stepLog2: Int)
        /// G.711 decision intervals of `law` (`ulaw` or `alaw`) in the linear domain.
        case g711Linear(law: SampleEncoding)

        /// The kind's name in records (sidecars, `info` and report JSON): "container", "lattice"
        /// or "g711-linear", without the parameter.
        public var name: String {
            switch self {
            case .container: return "container"
            case .lattice: return "lattice"
            case .g711Linear: return "g711-linear"
            }
        }
    }

    /// The container's encoding: the codes a file holds.
    public let encoding: SampleEncoding
    public let kind: Kind

    init(encoding: SampleEncoding, kind: Kind) {
        self.encoding = encoding
        self.kind = kind
    }

    /// Cells one code wide: the container's own codes.
    public static func container(_ encoding: SampleEncoding) -> Quantizer {
        Quantizer(encoding: encoding, kind: .container)
    }

    /// A lattice of step 2^stepLog2 in a linear PCM container, 0 ≤ stepLog2 < bits (0 is
    /// `container`, returned as such).
    public static func lattice(_ encoding: SampleEncoding, stepLog2 k: Int) throws(DiscreteAudioError) -> Quantizer {
        guard encoding.isLinear else { throw .needsLinearPCM(encoding) }
        guard k >= 0, k < encoding.bits else {
            throw .latticeStepOutOfRange(stepLog2: k, containerBits: encoding.bits)
        }
        return k == 0 ? .container(encoding) : Quantizer(encoding: encoding, kind: .lattice(stepLog2: k))
    }

    /// G.711 cells of `law` in the linear domain, in the law's own bytes (container == law) or in
    /// 16/24-bit PCM holding the expanded values (at libsndfile's / sox's scale: the 16-bit decoded
    /// value, times 256 in 24-bit).
    public static func g711Linear(_ law: SampleEncoding, container: SampleEncoding) throws(DiscreteAudioError) -> Quantizer {
        guard law == .ulaw || law == .alaw,
              container == law || container == .pcm16 || container == .pcm24 else {
            throw .g711ContainerMismatch(law: law, container: container)
        }
        return Quantizer(encoding: container, kind: .g711Linear(law: law))
    }

    /// S: the scale is [−S/2, S/2).
    @inlinable public var scaleSize: Int {
        if case .g711Linear = kind, !encoding.isLinear { return 65536 }
        return encoding.binCount
    }

    /// Step 2^k of a lattice (1 for `container`; 0 for G.711, whose cells vary).
    public var latticeStep: Int {
        switch kind {
        case .container: return 1
        case .lattice(let k): return 1 << k
        case .g711Linear: return 0
        }
    }

    /// m = S/65536 for G.711 in linear PCM (1 in 16-bit, 256 in 24-bit), 1 in the law's bytes.
    @usableFromInline var g711Multiplier: Int { encoding.isLinear ? encoding.binCount >> 16 : 1 }

    /// True when μ-law's two zero codes share one cell (expanded to linear PCM).
    @usableFromInline var mergesZero: Bool {
        if case .g711Linear(let law) = kind { return law == .ulaw && encoding.isLinear }
        return false
    }

    /// Number of cells.
    public var cellCount: Int {
        switch kind {
        case .container: return encoding.binCount
        case .lattice(let k): return encoding.binCount >> k
        case .g711Linear: return mergesZero ? 255 : 256
        }
    }

    /// G.711 bin (0...255) of cell j, for the merged-zero case the +0 bin 128 for j = 127.
    @usableFromInline @inline(__always) func g711Bin(ofCell j: Int) -> Int { mergesZero && j >= 128 ? j + 1 : j }
    @usableFromInline @inline(__always) func g711Cell(ofBin b: Int) -> Int { mergesZero && b >= 128 ? b - 1 : b }

    /// Cell j as [lower, upper) on the scale. Precondition: 0 ≤ j < cellCount.
    public func cell(_ j: Int) -> (lower: Int, upper: Int) {
        precondition(j >= 0 && j < cellCount, "cell index out of range")
        let half = scaleSize / 2
        switch kind {
        case .container:
            return (j - half, j - half + 1)
        case .lattice(let k):
            return ((j << k) - half, ((j + 1) << k) - half)
        case .g711Linear(let law):
            let cells = G711Cells.of(law), m = g711Multiplier
            if mergesZero && j == 127 { return (m * Int(cells.bounds[127]), m * Int(cells.bounds[129])) }
            let b = g711Bin(ofCell: j)
            return (m * Int(cells.bounds[b]), m * Int(cells.bounds[b + 1]))
        }
    }

    /// The decoder's level of cell j on the scale: the value the stored code stands for.
    /// Inside the cell for every cell except μ-law's −0 in bytes (level 0 = the cell's upper end).
    public func level(ofCell j: Int) -> Int {
        switch kind {
        case .container, .lattice: return cell(j).lower
        case .g711Linear(let law):
            return g711Multiplier * Int(G711Cells.of(law).levels[g711Bin(ofCell: j)])
        }
    }

    /// P, the number of codes on the quantizer's own code scale: `cellCount` for container and
    /// lattice cells, 256 for G.711 cells (the law's bytes, whether stored as bytes or as linear
    /// PCM with μ-law's two zeros merged). q's code steps are scaled by P/2
    /// (`Corpus.codeStepScale`).
    public var codeCount: Int {
        if case .g711Linear = kind { return 256 }
        return cellCount
    }

    /// The container bin that cell j decodes to (the stored code, bit for bit).
    public func bin(ofCell j: Int) -> Int {
        precondition(j >= 0 && j < cellCount, "cell index out of range")
        switch kind {
        case .container: return j
        case .lattice(let k): return j << k
        case .g711Linear:
            if !encoding.isLinear { return j }
            return level(ofCell: j) + encoding.binCount / 2
        }
    }

    /// The cell of a stored code (container bin, 0 ≤ bin < K), or nil when the quantizer cannot
    /// produce that code (off the lattice, or not a G.711 level at the container's scale).
    public func cell(ofBin bin: Int) -> Int? {
        guard bin >= 0, bin < encoding.binCount else { return nil }
        switch kind {
        case .container: return bin
        case .lattice(let k): return bin & ((1 << k) - 1) == 0 ? bin >> k : nil
        case .g711Linear(let law):
            if !encoding.isLinear { return bin }
            let m = g711Multiplier
            let v = bin - encoding.binCount / 2
            guard v % m == 0, v / m >= -32768, v / m < 32768 else { return nil }
            let cells = G711Cells.of(law)
            let b = Int(cells.binOfValue[v / m + 32768])
            // A level of bin b, or 0 for μ-law's −0 (bin 127, whose level is the +0 cell's).
            guard Int(cells.levels[b]) == v / m else { return nil }
            return g711Cell(ofBin: b)
        }
    }

    /// Decoding: the cell holding t, or nil for a non-finite t or one outside [−S/2, S/2).
    /// Exact at every boundary: the bounds are integers, so the cell of t is the cell of ⌊t⌋.
    @inlinable
    public func cell(ofValue t: Double) -> Int? {
        let half = Double(scaleSize / 2)
        guard t.isFinite, t >= -half, t < half else { return nil }
        return cell(ofPoint: Int(t.rounded(.down)))
    }

    /// Decoding from the output range: the cell of y ∈ `range` (nil outside it or not finite).
    /// Uses the range's own exact rule for the bin coordinate, x = ⌊y·S⌋ (unit) or
    /// ⌊y·S/2⌋ + S/2 (symmetric), then the cell of the integer x − S/2. (Forming t = y·S − S/2 in
    /// floating point first is not exact: for y within 2^−53 below a bound near the bottom of the
    /// unit range the subtraction rounds up onto the bound.)
    @inlinable
    public func cell(ofY y: Double, range: DequantRange) -> Int? {
        guard let x = range.bin(of: y, binCount: scaleSize) else { return nil }
        return cell(ofPoint: x - scaleSize / 2)
    }

    /// The cell of the integer point p, −S/2 ≤ p < S/2 (on the 16-bit G.711 scale ⌊p/m⌋, an
    /// arithmetic shift, m being a power of two).
    @inlinable
    public func cell(ofPoint p: Int) -> Int {
        switch kind {
        case .container:
            return p + scaleSize / 2
        case .lattice(let k):
            return (p + scaleSize / 2) >> k
        case .g711Linear(let law):
            let w = p >> g711Multiplier.trailingZeroBitCount
            return g711Cell(ofBin: Int(G711Cells.of(law).binOfValue[w + 32768]))
        }
    }

    /// Dequantization: the point of cell j at within-cell position u ∈ [0, 1),
    /// t = lower + u·(upper − lower), on the scale. When rounding would carry t to `upper`
    /// (u within an ulp of 1 at t's magnitude), the largest Double below `upper` is returned,
    /// so `cell(ofValue: value(ofCell: j, u: u)) == j` for every u ∈ [0, 1).
    public func value(ofCell j: Int, u: Double) -> Double {
        let (lo, hi) = cell(j)
        let t = Double(lo) + u * Double(hi - lo)
        return t >= Double(hi) ? Double(hi).nextDown : t
    }

    /// Dequantization straight into the output range, in T (Float or Double):
    /// y = scale·(lower + S/2 + offset + u·(upper − lower)) with `range`'s scale and offset for
    /// binCount S (unit: (t + S/2)/S; symmetric: t/(S/2)), computed in Double and rounded once to T.
    /// When that rounding reaches the image of `upper`, the largest T below it is returned, so
    /// `cell(ofY: Double(y), range:) == j` for every u ∈ [0, 1). Needs the image of every bound to
    /// be exact in T: S ≤ 2^24 for Float (every quantizer here), any S for Double.
    public func y<T: BinaryFloatingPoint>(ofCell j: Int, u: Double, range: DequantRange, as: T.Type = T.self) -> T {
        let (lo, hi) = cell(j)
        let scale = range.scale(binCount: scaleSize)
        let base = lo + scaleSize / 2 + range.offset(binCount: scaleSize)
        let y = T((Double(base) + u * Double(hi - lo)) * scale)
        let top = T(Double(base + hi - lo) * scale)
        return y >= top ? top.nextDown : y
    }

    /// True when `other` partitions the same scale into the same cells: same kind, S and number of
    /// cells, whatever the container's signedness. Signed and unsigned 8-bit PCM have the same 256
    /// cells; μ-law bytes (256 cells) and μ-law expanded to 16-bit PCM (one zero cell, 255) do not.
    public func hasSameCells(as other: Quantizer) -> Bool {
        kind == other.kind && scaleSize == other.scaleSize && cellCount == other.cellCount
    }

    /// Within-cell position of t in cell j: (t − lower)/(upper − lower), in [0, 1) for t inside.
    public func position(of t: Double, inCell j: Int) -> Double {
        let (lo, hi) = cell(j)
        return (t - Double(lo)) / Double(hi - lo)
    }

    /// A short name: "container", "lattice 2^8 (8 of 16 bits)", "mu-law cells (linear)" (in the law's own bytes),
    /// "mu-law cells (linear, in PCM signed 16-bit, x1)".
    public var description: String {
        switch kind {
        case .container:
            return "container"
        case .lattice(let k):
            return "lattice 2^\(k) (\(encoding.bits - k) of \(encoding.bits) bits)"
        case .g711Linear(let law):
            let name = law == .ulaw ? "mu-law" : "A-law"
            return encoding.isLinear ? "\(name) cells (linear, in \(encoding.displayName), x\(g711Multiplier))"
                                     : "\(name) cells (linear)"
        }
    }
}
