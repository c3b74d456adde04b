// AudioDQ is the umbrella library: importing it gives Swift users the whole pipeline.
@_exported import DiscreteAudio
@_exported import SoundFileIO
@_exported import Dequantization
@_exported import SpectralDiagnostics
@_exported import FlowEngine
