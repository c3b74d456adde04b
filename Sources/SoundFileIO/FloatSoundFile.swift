import CSndFile
#if canImport(Glibc)
import Glibc
#endif

/// Floating-point WAV files for dequantized audio: 32-bit or 64-bit IEEE float, written and read
/// as is (libsndfile does not scale float data in float files). Written files hold no PEAK chunk
/// (its timestamp would make the bytes depend on the time of writing).
public final class FloatSoundFile {
    public enum Precision: Sendable { case float32, float64 }

    public let path: String
    public let channels: Int
    public let sampleRate: Int
    public let frames: Int64
    public let precision: Precision
    private var handle: OpaquePointer?
    /// The descriptor a file opened for reading is read through (-1 when writing or closed).
    private var fd: Int32 = -1
    private let writing: Bool

    /// Creates a float WAV for writing: the file `path`, or through a duplicate of `descriptor`
    /// (from its current position; `path` then only names it in errors).
    public init(creating path: String, descriptor: Int32? = nil, precision: Precision, sampleRate: Int, channels: Int) throws(SoundFileError) {
        self.path = path
        self.channels = channels
        self.sampleRate = sampleRate
        self.precision = precision
        self.frames = 0
        self.writing = true
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = Int32(SF_FORMAT_WAV) | (precision == .float32 ? Int32(SF_FORMAT_FLOAT) : Int32(SF_FORMAT_DOUBLE))
        let h = try LibSndfile.open(path: path, descriptor: descriptor, mode: Int32(SFM_WRITE), info: &info) { .cannotCreate(path: path, reason: $0) }
        // No PEAK chunk: it carries the time of writing, so the same seed would give other
        // bytes a second later. The chunk is optional (readers take the peak from the data).
        sf_command(h, Int32(SFC_SET_ADD_PEAK_CHUNK), nil, Int32(SF_FALSE))
        handle = h
    }

    /// Opens a float WAV (or any float/double file libsndfile reads) for reading, as every reader
    /// of SoundFileIO opens (`LibSndfile.openForReading`: a missing, empty or non-audio file is
    /// an error naming it). Throws `.unsupportedEncoding` when the file does not hold float samples.
    public init(reading path: String) throws(SoundFileError) {
        self.path = path
        self.writing = false
        let opened = try LibSndfile.openForReading(path: path, raw: nil)
        let info = opened.info
        let sub = Int(info.format & Int32(SF_FORMAT_SUBMASK))
        guard sub == Int(SF_FORMAT_FLOAT) || sub == Int(SF_FORMAT_DOUBLE) else {
            opened.close()
            throw .unsupportedEncoding(path: path, subtype: "\(CodeReader.subtypeName(Int32(sub))) (expected a float WAV)")
        }
        handle = opened.handle
        fd = opened.fd
        channels = Int(info.channels)
        sampleRate = Int(info.samplerate)
        frames = info.frames
        precision = sub == Int(SF_FORMAT_FLOAT) ? .float32 : .float64
    }

    deinit {
        if let handle { sf_close(handle) }
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    public func write(_ values: UnsafeBufferPointer<Float>) throws(SoundFileError) {
        guard let h = handle else { throw .writeFailed(path: path, reason: "closed") }
        if sf_write_float(h, values.baseAddress, sf_count_t(values.count)) != values.count {
            throw .writeFailed(path: path, reason: String(cString: sf_strerror(h)))
        }
    }

    public func write(_ values: UnsafeBufferPointer<Double>) throws(SoundFileError) {
        guard let h = handle else { throw .writeFailed(path: path, reason: "closed") }
        if sf_write_double(h, values.baseAddress, sf_count_t(values.count)) != values.count {
            throw .writeFailed(path: path, reason: String(cString: sf_strerror(h)))
        }
    }

    /// Reads up to `into.count` interleaved values (whole frames) as Double (exact for float data).
    /// Returns the number of values read; 0 at the end.
    public func read(into: UnsafeMutableBufferPointer<Double>) throws(SoundFileError) -> Int {
        guard let h = handle else { throw .readFailed(path: path, reason: "closed") }
        let n = (into.count / channels) * channels
        let got = Int(sf_read_double(h, into.baseAddress, sf_count_t(n)))
        if got < n, sf_error(h) != 0 { throw .readFailed(path: path, reason: String(cString: sf_strerror(h))) }
        return got
    }

    /// Flushes and closes; throws when the final write fails (e.g. disk full).
    public func close() throws(SoundFileError) {
        guard let h = handle else { return }
        handle = nil
        if writing { sf_write_sync(h) }
        let err = sf_error(h)
        let msg = err != 0 ? String(cString: sf_strerror(h)) : ""
        let rc = sf_close(h)
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        if err != 0 { throw .writeFailed(path: path, reason: msg) }
        if rc != 0 { throw .writeFailed(path: path, reason: "close failed (\(rc))") }
    }
}
