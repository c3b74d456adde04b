import Foundation

extension DiagnosticsReport {
    /// One self-contained XHTML page: no network, no script, inline SVG plots. Per channel (element
    /// ids prefixed `chN-`): `noise-psd` (noise PSD in dB over the uniform floor 2σ²/fs, with the
    /// spur limit and spurs marked), `histogram` (within-bin histogram vs uniform), `coherence`
    /// (MSC vs frequency with the independence level and limit), `signal-psd` (codes vs dequantized
    /// values, dB re 1 bin²/Hz), `autocorrelation` (r_k with the ±limit band) and `checks` (the
    /// table). The page is well-formed XML (parseable by XMLParser) and sized for phones.
    public func html() -> String {
        let e = SVGPlot.escape
        var h = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>audiodq noise report: \(e(source))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 0.6em; max-width: 60em; color: #222; }
        h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
        table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
        td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.4em; text-align: left; vertical-align: top; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .pass { color: #060; font-weight: bold; } .fail { color: #b00; font-weight: bold; } .na { color: #777; }
        .verdict { font-size: 1.2em; padding: 0.4em; border-radius: 4px; }
        .ok { background: #e6f4e6; } .bad { background: #fbe4e4; }
        svg { display: block; margin: 0.6em 0; max-width: 100%; height: auto; }
        svg text.t { font-size: 15px; font-weight: bold; } svg text.a { font-size: 12px; fill: #333; }
        .small { font-size: 0.85em; color: #555; }
        </style>
        </head>
        <body>
        <h1>audiodq noise report</h1>

        """
        h += "<p class=\"verdict \(passed ? "ok" : "bad")\" id=\"verdict\">\(passed ? "PASSED" : "FAILED"): "
        let skipped = skippedChecks.count
        if skipped == 0 {
            h += passed ? "every check that applies passed.</p>\n" : "\(failedChecks.count) check(s) failed.</p>\n"
        } else {
            h += passed ? "every check that applies and ran passed; \(skipped) skipped as too short.</p>\n"
                : "\(failedChecks.count) check(s) failed; \(skipped) skipped as too short.</p>\n"
            if !anyStatisticRan {
                h += "<p class=\"small\">Only containment could run: every value decodes to its code, the noise itself is untested.</p>\n"
            }
        }
        let p = parameters
        h += "<table id=\"parameters\"><tbody>\n"
        var rows: [(String, String)] = [("source", source)]
        if let d = dequantized { rows.append(("dequantized", d)) }
        rows += [("sample rate", String(format: "%g Hz", p.sampleRate)), ("bins K", "\(p.binCount)"),
                 ("range", p.range.rawValue), ("noise kind", p.config.noiseKind.rawValue),
                 ("Welch", "periodic Hann, nperseg \(p.config.nperseg), 50 % overlap"),
                 ("Ljung-Box lags", "\(p.config.lags)"), ("family-wise alpha per channel", "\(p.config.alpha)"),
                 ("block length", p.config.blockLength.map { "\($0)" } ?? "scan 256 ... 65536")]
        rows += p.extra.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let q = p.quantizer { rows.append(("quantizer", "\(q.name): \(q.reason)")) }
        for (k, v) in rows { h += "<tr><th>\(e(k))</th><td>\(e(v))</td></tr>\n" }
        h += "</tbody></table>\n"

        // summary over all channels
        h += "<h2>Checks</h2>\n<table id=\"summary\"><thead><tr><th>ch</th><th>check</th><th>value</th><th>limit</th><th>result</th></tr></thead><tbody>\n"
        for (i, ch) in channels.enumerated() {
            for c in ch.checks { h += Self.checkRow(channel: i, c) }
        }
        h += "</tbody></table>\n"

        for (i, ch) in channels.enumerated() {
            h += channelSection(i, ch)
        }
        h += "<p class=\"small\">Schema \(e(schema)). Noise n = w − 1/2 in bins (w: position inside the bin). Limits come from the null distributions at the Bonferroni share of alpha; see REPORT_SCHEMA.md.</p>\n"
        h += "</body>\n</html>\n"
        return h
    }

    static func checkRow(channel: Int, _ c: CheckResult) -> String {
        let e = SVGPlot.escape
        guard c.ran else {
            return "<tr><td>\(channel)</td><td>\(e(c.name))<div class=\"small\">\(e(c.detail))</div></td><td class=\"n\">–</td><td class=\"n\">–</td><td class=\"na\">SKIP</td></tr>\n"
        }
        let (cls, word) = !c.applies ? ("na", "n/a") : (c.passed ? ("pass", "PASS") : ("fail", "FAIL"))
        let cmp = c.name == "flatness" ? "≥ " : "≤ "
        return "<tr><td>\(channel)</td><td>\(e(c.name))<div class=\"small\">\(e(c.detail))</div></td><td class=\"n\">\(e(figure(c.value)))</td><td class=\"n\">\(e(cmp + figure(c.limit)))</td><td class=\"\(cls)\">\(word)</td></tr>\n"
    }

    private func channelSection(_ i: Int, _ ch: ChannelReport) -> String {
        let e = SVGPlot.escape
        let fs = parameters.sampleRate
        let xr = 0.0...(fs / 2)
        var h = "<h2 id=\"ch\(i)\">Channel \(i)</h2>\n"
        h += "<p class=\"small\">\(ch.samples) samples, \(ch.segments) Welch segments (K_eff = \(String(format: "%.1f", ch.effectiveSegments))), per-check alpha \(String(format: "%.2e", ch.perCheckAlpha)).</p>\n"
        for note in ch.notes { h += "<p class=\"small\">Note: \(e(note))</p>\n" }

        let hasWelch = !ch.noisePSD.frequencyHz.isEmpty
        if !hasWelch {
            h += "<p class=\"small\">Noise PSD, coherence and signal PSD plots omitted: \(ch.samples) samples are shorter than one Welch segment (nperseg \(parameters.config.nperseg)).</p>\n"
        }

        // 1. noise PSD relative to the uniform floor
        let np = ch.noisePSD
        if hasWelch {
            let tested = Array(2..<max(3, np.frequencyHz.count - 1))
            let dbTested = tested.map { np.decibelsRelativeToFloor[$0] }
            let medianDB = dbTested.sorted()[dbTested.count / 2]
            let limitDB = medianDB + 10 * log10(np.spurLimit)
            let lo = min(-6, (dbTested.min() ?? -6) - 1), hi = max(6, (dbTested.max() ?? 6) + 1, limitDB + 1)
            var psd = SVGPlot(id: "ch\(i)-noise-psd", title: "Noise PSD (dB re uniform floor 2σ²/fs = \(String(format: "%.3e", np.floorDensity)) bin²/Hz)",
                              xLabel: "frequency (Hz)", yLabel: "dB re floor", xRange: xr, yRange: max(lo, -60)...min(hi, 80))
            psd.series = [.init(label: "noise PSD", color: "#1f5fa8", style: .line, x: np.frequencyHz, y: np.decibelsRelativeToFloor)]
            psd.references = [.init(y: 0, label: "uniform floor", color: "#2a2", dashed: false),
                              .init(y: limitDB, label: "spur limit", color: "#d00", dashed: true)]
            psd.markers = np.spurFrequenciesHz.map { f in
                let k = min(np.frequencyHz.count - 1, Int((f / fs * 2 * Double(np.frequencyHz.count - 1)).rounded()))
                return .init(x: f, y: np.decibelsRelativeToFloor[k], label: String(format: "%.1f Hz", f))
            }
            h += psd.render()
        }

        // 2. within-bin histogram vs uniform
        let wb = ch.withinBin
        if wb.count == 0 {
            h += "<p class=\"small\">Within-bin histogram omitted: no sample decodes to its code.</p>\n"
        } else {
            let cells = wb.histogram.count
            let expected = Double(max(1, wb.count)) / Double(cells)
            let rel = wb.histogram.map { Double($0) / expected }
            var hist = SVGPlot(id: "ch\(i)-histogram", title: "Within-bin position w: histogram / uniform expectation",
                               xLabel: "w (bins)", yLabel: "relative density", xRange: 0...1,
                               yRange: 0...max(1.5, min(20, (rel.max() ?? 1) * 1.1)))
            hist.series = [.init(label: "observed", color: "#7a8fb8", style: .bars, x: (0..<cells).map { Double($0) / Double(cells) }, y: rel)]
            hist.references = [.init(y: 1, label: "uniform", color: "#2a2", dashed: false)]
            h += hist.render()
        }

        // 3. coherence
        let co = ch.coherence
        if hasWelch {
            var coh = SVGPlot(id: "ch\(i)-coherence", title: "Coherence between noise and codes",
                              xLabel: "frequency (Hz)", yLabel: "MSC", xRange: xr,
                              yRange: 0...min(1, max(co.maxLimit * 1.2, (co.msc.dropFirst(2).max() ?? 0) * 1.1, 0.05)))
            coh.series = [.init(label: "MSC", color: "#8a3ea8", style: .line, x: co.frequencyHz, y: co.msc)]
            coh.references = [.init(y: co.independenceLevel, label: "independent level 1/K_eff", color: "#2a2", dashed: false),
                              .init(y: co.maxLimit, label: "max limit", color: "#d00", dashed: true)]
            h += coh.render()

            // 4. signal vs dequantized PSD
            let toDB = { (v: [Double]) in v.map { 10 * log10(max($0, 1e-30)) } }
            let sig = toDB(ch.signalPSD.density), deq = toDB(ch.dequantizedPSD.density)
            let floorDB = 10 * log10(np.floorDensity)
            let all = (sig + deq).dropFirst(0).filter { $0 > -290 }
            let top = (all.max() ?? 0) + 5
            var sp = SVGPlot(id: "ch\(i)-signal-psd", title: "Signal (codes) and dequantized PSD",
                             xLabel: "frequency (Hz)", yLabel: "dB re 1 bin²/Hz", xRange: xr,
                             yRange: max(min(floorDB - 10, (all.min() ?? floorDB) - 5), top - 160)...top)
            sp.series = [.init(label: "codes x", color: "#444", style: .line, x: ch.signalPSD.frequencyHz, y: sig),
                         .init(label: "dequantized x + w", color: "#e07b00", style: .line, x: ch.dequantizedPSD.frequencyHz, y: deq)]
            sp.references = [.init(y: floorDB, label: "uniform noise floor", color: "#2a2", dashed: true)]
            h += sp.render()
        }

        // 5. autocorrelation
        let ac = ch.autocorrelation
        if ch.check("whiteness")?.ran == false {
            h += "<p class=\"small\">Autocorrelation plot omitted: \(ch.samples) samples are too short for the whiteness check.</p>\n"
        } else {
            let rMax = max(ac.limit * 1.5, (ac.r.map { abs($0) }.max() ?? 0) * 1.1, 1e-3)
            var acp = SVGPlot(id: "ch\(i)-autocorrelation", title: "Noise autocorrelation (Ljung–Box Q = \(String(format: "%.1f", ac.ljungBoxQ)), limit \(String(format: "%.1f", ac.ljungBoxLimit)))",
                              xLabel: "lag (samples)", yLabel: "r_k", xRange: 0...Double(ac.lags.count + 1), yRange: -rMax...rMax)
            acp.series = [.init(label: "r_k", color: "#1f5fa8", style: .stems, x: ac.lags.map(Double.init), y: ac.r)]
            acp.references = [.init(y: ac.limit, label: "± pointwise limit", color: "#d00", dashed: true),
                              .init(y: -ac.limit, label: "", color: "#d00", dashed: true)]
            h += acp.render()
        }

        h += "<table id=\"ch\(i)-checks\"><thead><tr><th>ch</th><th>check</th><th>value</th><th>limit</th><th>result</th></tr></thead><tbody>\n"
        for c in ch.checks { h += Self.checkRow(channel: i, c) }
        h += "</tbody></table>\n"
        return h
    }
}
