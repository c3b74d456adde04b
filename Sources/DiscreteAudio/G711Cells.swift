/// G.711 decision intervals on the 16-bit linear scale: one half-open cell [lower, upper) per byte,
/// in bin order (bin 0 = most negative), tiling [−32768, 32768).
///
/// The cells are the decision intervals of Recommendation G.711 (Tables 1a and 2a), symmetric in
/// magnitude, written out from the encoder's segment arithmetic. With i = 16·seg + mant the
/// magnitude index of a code (0...127; the positive code is bin 128 + i, the negative bin 127 − i):
///
/// - μ-law (14-bit magnitudes m = |x|/4, biased b = m + 33, segment = ⌊log2 b⌋ − 5,
///   mant = ⌊b / 2^(seg+1)⌋ − 16): magnitude cell [4·max(0, (16+mant)·2^(seg+1) − 33),
///   4·((17+mant)·2^(seg+1) − 33)); the top code also takes every magnitude the encoder clips
///   (≥ 31612), so its cell ends at 32768.
/// - A-law (13-bit magnitudes m = |x|/8): seg 0: [16·mant, 16·mant + 16); seg ≥ 1:
///   [8·(16+mant)·2^seg, 8·(17+mant)·2^seg). The top cell ends at 32768 by itself.
///
/// Positive cells are the magnitude cells [lo, hi); negative cells are their mirror images kept
/// half-open the same way, [−hi, −lo), so the cell holding x is the one with lower ≤ x < upper
/// (x = 0 is +0's / +8's; a magnitude on a boundary goes to the larger code for x > 0 and to the
/// smaller one for x < 0).
///
/// Zero codes. μ-law has two: −0 (byte 0x7F, bin 127) has the cell [−4, 0), +0 (0xFF, bin 128)
/// [0, 4); both decode to 0, which lies inside +0's cell and at the excluded upper end of −0's.
/// Every other decoded level is its cell's midpoint, except μ-law's two clipped end cells
/// (±32124 in [31612, 32768) and [−32768, −31612)), where it still lies strictly inside. A-law has
/// no zero: its smallest levels ±8 are the midpoints of [−16, 0) and [0, 16).
///
/// These are the cells of the ITU-T G.191 reference encoder (`ulaw_compress`, `alaw_compress`,
/// which take the magnitude of a negative x as ⌊(−x − 1)/4⌋ or ⌊(−x − 1)/16⌋): it maps every
/// 16-bit integer to the code whose cell holds it. Other encoders on 16-bit integers:
/// - Sun's `linear2alaw` (Python's `audioop.lin2alaw`) agrees on every integer.
/// - Sun's `linear2ulaw` (`audioop.lin2ulaw`) agrees for x ≥ 0; for x < 0 it floors x/4 before
///   taking the magnitude (−⌊x/4⌋ = ⌊(−x − 1)/4⌋ + 1), so it codes x as these cells code x − 4
///   (x − 4 below −32768: as −32768, the clipped end cell), one 14-bit step further out, and never
///   emits −0.
/// - libsndfile's (`sf_write_short`) rounds |x| for both signs, so its negative cells are
///   (−hi, −lo]: it agrees on every integer except the 127 negative lower bounds −hi (> −32768),
///   which it gives the next code out.
/// - sox (`-e u-law`/`-e a-law`, without dither `-D`) rounds x to the law's input grid first
///   (14 bits: x + 2, 13 bits: x + 4) and then codes as Sun: μ-law as these cells code x + 2
///   (x ≥ −2) or x − 2 (x < −2), A-law x + 4 (clipped to 32767). By default sox also dithers.
///
/// No partition into cells half-open on one side can be sign-symmetric at the boundary points;
/// they have measure zero, and decoding here always uses [lower, upper). The tests check the
/// G.191, Sun and libsndfile statements on every 16-bit integer (libsndfile's in
/// SoundFileIOTests); the sox ones were measured on a ramp of all 65,536 values (sox 14.4).
public struct G711Cells: Sendable {
    /// `ulaw` or `alaw`.
    public let law: SampleEncoding
    /// 257 cell bounds: bin b's cell is [bounds[b], bounds[b + 1]); bounds[0] = −32768,
    /// bounds[256] = 32768, strictly increasing.
    public let bounds: [Int32]
    /// The decoded linear value of bin b (libsndfile's / the Sun tables' `sf_read_short` value).
    public let levels: [Int32]
    /// Linear value w (−32768...32767, index w + 32768) → bin of the cell holding w.
    public let binOfValue: [UInt8]

    /// The μ-law cells.
    public static let ulaw = G711Cells(law: .ulaw)
    /// The A-law cells.
    public static let alaw = G711Cells(law: .alaw)

    /// The cells of `law` (precondition: `ulaw` or `alaw`; use the static members).
    public static func of(_ law: SampleEncoding) -> G711Cells {
        law == .ulaw ? .ulaw : .alaw
    }

    private init(law: SampleEncoding) {
        precondition(law == .ulaw || law == .alaw, "G711Cells needs ulaw or alaw")
        self.law = law
        let map = BinMap(law)
        var b = [Int32](repeating: 0, count: 257)
        var lv = [Int32](repeating: 0, count: 256)
        for i in 0..<128 {
            let (lo, hi) = G711Cells.magnitudeCell(law, index: i)
            b[128 + i] = Int32(lo)          // lower of the positive code
            b[128 + i + 1] = Int32(hi)      // upper of the positive code
            b[127 - i] = Int32(-hi)         // lower of the negative code (upper is −lo)
        }
        for bin in 0..<256 {
            let byte = map.binToByte[bin]
            lv[bin] = Int32(law == .ulaw ? G711.muLawLinear(byte) : G711.aLawLinear(byte))
        }
        var table = [UInt8](repeating: 0, count: 65536)
        var bin = 0
        for w in -32768..<32768 {
            while w >= Int(b[bin + 1]) { bin += 1 }
            table[w + 32768] = UInt8(bin)
        }
        bounds = b
        levels = lv
        binOfValue = table
    }

    /// Magnitude cell [lo, hi) on the 16-bit scale of magnitude index i = 16·seg + mant (0...127).
    static func magnitudeCell(_ law: SampleEncoding, index i: Int) -> (Int, Int) {
        let seg = i >> 4, mant = i & 15
        if law == .ulaw {
            let lo = 4 * max(0, ((16 + mant) << (seg + 1)) - 33)
            let hi = i == 127 ? 32768 : 4 * (((17 + mant) << (seg + 1)) - 33)
            return (lo, hi)
        }
        if seg == 0 { return (16 * mant, 16 * mant + 16) }
        return (8 * ((16 + mant) << seg), 8 * ((17 + mant) << seg))
    }

    /// Level spacing Δ of bin b's segment on the 16-bit scale (a power of two): μ-law 8·2^seg,
    /// A-law 16·2^max(0, seg − 1). Regular cells are Δ wide; μ-law's zero and clipped end cells
    /// differ (4 and 1156).
    public func segmentSpacing(bin: Int) -> Int {
        let seg = (bin >= 128 ? bin - 128 : 127 - bin) >> 4
        return law == .ulaw ? 8 << seg : 16 << max(0, seg - 1)
    }

    /// Cell of bin b on the 16-bit scale, [lower, upper).
    @inlinable public func cell(bin: Int) -> (lower: Int, upper: Int) {
        (Int(bounds[bin]), Int(bounds[bin + 1]))
    }

    /// Bin of the cell holding the real value x on the 16-bit scale, or nil outside [−32768, 32768)
    /// or for a non-finite x. Exact: the bounds are integers, so the cell of x is the cell of ⌊x⌋.
    @inlinable public func bin(ofValue x: Double) -> Int? {
        guard x.isFinite, x >= -32768, x < 32768 else { return nil }
        return Int(binOfValue[Int(x.rounded(.down)) + 32768])
    }
}
