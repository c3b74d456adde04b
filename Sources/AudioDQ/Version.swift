/// audiodq's version, written into sidecars, reports and checkpoints.
public enum AudioDQVersion {
    public static let string = "0.1.0"
}
