/// Bin → cell map of a `Quantizer` for bulk loops, built once per file: the cell of a stored code
/// (its container bin, as in `DiscreteSignal`) or the verdict that the quantizer cannot produce it.
///
/// With K the container's bin count and s = `shift`:
///
///     key  = (bin & (K − 1)) >> s
///     cell = key                  container (s = 0), lattice 2^k (s = k)
///     cell = cellOfKey[key]       G.711 (s = log2 m: 0 in the law's bytes and in 16-bit, 8 in 24-bit)
///
/// A bin is on the quantizer iff `bin & checkMask == 0` (checkMask = ¬(K − 1) | (2^s − 1): no bit
/// above the container, none below the step) and, for G.711, `cellOfKey[key] != offCell` (256).
/// Then `cell(ofBin:)` equals `Quantizer.cell(ofBin:)` (the tests check every 8- and 16-bit bin).
/// Codes off the quantizer: off the lattice, or not a G.711 level at the container's scale.
public struct CellLookup: Sendable {
    public let quantizer: Quantizer
    /// s: the key of a bin is its bin shifted right by s.
    public let shift: Int
    /// Bits that must be clear in an on-quantizer bin.
    public let checkMask: UInt32
    /// G.711 only (empty otherwise): the cell of each key (K >> s entries: 256 in the law's bytes,
    /// 65536 in 16/24-bit PCM), `offCell` for keys that are no code of the quantizer.
    public let cellOfKey: [UInt16]

    /// The cell index that marks "no cell": 256, one past the last G.711 cell (μ-law in PCM has
    /// 255 cells, A-law and the law's bytes 256), so a per-cell table of 257 entries can be indexed
    /// by every value of `cellOfKey`, and an OR over looked-up cells has bit 8 set iff one was off.
    public static let offCell = 256

    public init(_ quantizer: Quantizer) {
        self.quantizer = quantizer
        let k = quantizer.encoding.binCount
        switch quantizer.kind {
        case .container:
            shift = 0
            cellOfKey = []
        case .lattice(let step):
            shift = step
            cellOfKey = []
        case .g711Linear:
            let s = quantizer.g711Multiplier.trailingZeroBitCount
            let off = UInt16(CellLookup.offCell)
            shift = s
            cellOfKey = (0..<(k >> s)).map { key in quantizer.cell(ofBin: key << s).map { UInt16($0) } ?? off }
        }
        checkMask = ~UInt32(k - 1) | UInt32((1 << shift) - 1)
    }

    /// True when the cells come from `cellOfKey` (G.711), false when cell = key (container, lattice).
    public var usesTable: Bool { !cellOfKey.isEmpty }

    /// The cell of a stored code, or nil when the quantizer cannot produce it.
    @inlinable
    public func cell(ofBin bin: UInt32) -> Int? {
        guard bin & checkMask == 0 else { return nil }
        let key = Int(bin >> UInt32(shift))
        if !usesTable { return key }
        let c = Int(cellOfKey[key])
        return c == CellLookup.offCell ? nil : c
    }

    /// Index (into `bins`) of the first code the quantizer cannot produce, nil when there is none:
    /// the validation pass that proves a block dequantizes into true cells.
    public func firstOffQuantizer(_ bins: UnsafeBufferPointer<UInt32>) -> Int? {
        bins.firstIndex { cell(ofBin: $0) == nil }
    }

    /// The narrowest cell, in scale units: 2^k for a lattice (1 for `container`), the smallest
    /// G.711 cell times m (μ-law 4 in bytes, its merged zero and first cells 8·m in PCM; A-law 16·m).
    public var minimumCellWidth: Int {
        if quantizer.latticeStep > 0 { return quantizer.latticeStep }
        return (0..<quantizer.cellCount).map { quantizer.cell($0).upper - quantizer.cell($0).lower }.min()!
    }

    /// True when float32 output carries noise inside every cell, by the rule of
    /// `UniformDequantizer` (K ≤ 65536 for one-code cells): S / `minimumCellWidth` ≤ 65536.
    /// False only for 24-bit containers with cells narrower than 2^8 codes.
    public var float32CarriesNoise: Bool { quantizer.scaleSize / minimumCellWidth <= 65536 }
}
