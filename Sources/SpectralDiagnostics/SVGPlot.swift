import Foundation

/// A small inline-SVG chart (lines, bars, stems, reference lines, markers) for the HTML report.
///
/// Output is well-formed XML: every tag closed, all text escaped. Drawing area: viewBox
/// 0 0 720 330 scaled to the page width (`width="100%"`), so it stays readable on a phone.
struct SVGPlot {
    enum Style { case line, bars, stems }

    struct Series {
        var label: String
        var color: String
        var style: Style
        var x: [Double]
        var y: [Double]
    }

    struct Reference {
        var y: Double
        var label: String
        var color: String
        var dashed: Bool
    }

    struct Marker {
        var x: Double
        var y: Double
        var label: String
    }

    var id: String
    var title: String
    var xLabel: String
    var yLabel: String
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    var series: [Series] = []
    var references: [Reference] = []
    var markers: [Marker] = []

    static let width = 720.0, height = 330.0
    static let left = 66.0, right = 14.0, top = 30.0, bottom = 64.0

    /// Escapes text for XML character data and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// "Nice" tick positions (steps of 1, 2 or 5 × 10^k) covering the range with about `count` ticks.
    static func ticks(_ r: ClosedRange<Double>, count: Int = 6) -> [Double] {
        let span = r.upperBound - r.lowerBound
        guard span > 0, span.isFinite else { return [r.lowerBound] }
        let raw = span / Double(count)
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = (r.lowerBound / step).rounded(.up) * step
        var out: [Double] = []
        while t <= r.upperBound + step * 1e-9 && out.count < 50 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-2 { return String(format: "%.0e", v) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    private func px(_ x: Double) -> Double {
        let w = Self.width - Self.left - Self.right
        return Self.left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * w
    }

    private func py(_ y: Double) -> Double {
        let h = Self.height - Self.top - Self.bottom
        let c = min(yRange.upperBound, max(yRange.lowerBound, y))
        return Self.top + (yRange.upperBound - c) / (yRange.upperBound - yRange.lowerBound) * h
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func render() -> String {
        let e = Self.escape
        var s = "<svg id=\"\(e(id))\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" width=\"100%\" role=\"img\" aria-label=\"\(e(title))\">\n"
        s += "<title>\(e(title))</title>\n"
        s += "<text x=\"\(Self.f(Self.left))\" y=\"18\" class=\"t\">\(e(title))</text>\n"
        let x0 = Self.left, x1 = Self.width - Self.right, y0 = Self.top, y1 = Self.height - Self.bottom
        s += "<rect x=\"\(Self.f(x0))\" y=\"\(Self.f(y0))\" width=\"\(Self.f(x1 - x0))\" height=\"\(Self.f(y1 - y0))\" fill=\"#fff\" stroke=\"#888\"/>\n"
        for t in Self.ticks(xRange) {
            let x = px(t)
            s += "<line x1=\"\(Self.f(x))\" y1=\"\(Self.f(y0))\" x2=\"\(Self.f(x))\" y2=\"\(Self.f(y1))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(Self.f(x))\" y=\"\(Self.f(y1 + 15))\" text-anchor=\"middle\" class=\"a\">\(e(Self.label(t)))</text>\n"
        }
        for t in Self.ticks(yRange, count: 5) {
            let y = py(t)
            s += "<line x1=\"\(Self.f(x0))\" y1=\"\(Self.f(y))\" x2=\"\(Self.f(x1))\" y2=\"\(Self.f(y))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(Self.f(x0 - 5))\" y=\"\(Self.f(y + 4))\" text-anchor=\"end\" class=\"a\">\(e(Self.label(t)))</text>\n"
        }
        s += "<text x=\"\(Self.f((x0 + x1) / 2))\" y=\"\(Self.f(y1 + 32))\" text-anchor=\"middle\" class=\"a\">\(e(xLabel))</text>\n"
        s += "<text transform=\"translate(14 \(Self.f((y0 + y1) / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"a\">\(e(yLabel))</text>\n"
        for se in series {
            switch se.style {
            case .line:
                var pts = ""
                for i in se.x.indices where se.y[i].isFinite {
                    pts += "\(Self.f(px(se.x[i]))),\(Self.f(py(se.y[i]))) "
                }
                s += "<polyline fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"1.3\" points=\"\(pts.trimmingCharacters(in: .whitespaces))\"/>\n"
            case .bars:
                let w = se.x.count > 1 ? (px(se.x[1]) - px(se.x[0])) : 10
                for i in se.x.indices {
                    let top = py(se.y[i]), base = py(max(yRange.lowerBound, 0))
                    s += "<rect x=\"\(Self.f(px(se.x[i])))\" y=\"\(Self.f(min(top, base)))\" width=\"\(Self.f(max(1, w - 1)))\" height=\"\(Self.f(abs(base - top)))\" fill=\"\(se.color)\"/>"
                }
                s += "\n"
            case .stems:
                let base = py(0)
                for i in se.x.indices {
                    let x = px(se.x[i]), y = py(se.y[i])
                    s += "<line x1=\"\(Self.f(x))\" y1=\"\(Self.f(base))\" x2=\"\(Self.f(x))\" y2=\"\(Self.f(y))\" stroke=\"\(se.color)\" stroke-width=\"2\"/><circle cx=\"\(Self.f(x))\" cy=\"\(Self.f(y))\" r=\"3\" fill=\"\(se.color)\"/>"
                }
                s += "\n"
            }
        }
        for r in references {
            let y = py(r.y)
            s += "<line x1=\"\(Self.f(x0))\" y1=\"\(Self.f(y))\" x2=\"\(Self.f(x1))\" y2=\"\(Self.f(y))\" stroke=\"\(r.color)\" stroke-width=\"1.2\"\(r.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
        }
        for m in markers {
            let x = px(m.x), y = py(m.y)
            s += "<path d=\"M\(Self.f(x)) \(Self.f(y - 4)) l-5 -9 h10 z\" fill=\"#d00\"><title>\(e(m.label))</title></path>\n"
        }
        // legend under the x label
        var lx = x0
        let legend = series.map { ($0.label, $0.color, false) } + references.map { ($0.label, $0.color, $0.dashed) }
            + (markers.isEmpty ? [] : [("spur above limit", "#d00", false)])
        for (label, color, dashed) in legend where !label.isEmpty {
            s += "<line x1=\"\(Self.f(lx))\" y1=\"\(Self.f(y1 + 50))\" x2=\"\(Self.f(lx + 18))\" y2=\"\(Self.f(y1 + 50))\" stroke=\"\(color)\" stroke-width=\"3\"\(dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            s += "<text x=\"\(Self.f(lx + 22))\" y=\"\(Self.f(y1 + 54))\" class=\"a\">\(e(label))</text>\n"
            lx += 30 + Double(label.count) * 6.2
        }
        s += "</svg>\n"
        return s
    }
}
