package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run as {@code results.json}: the probe list, the peers, the cross-checks and every timing with its derived
 * figures, so other tools can plot or compare runs without parsing the table. Numbers that do not exist (a peer's
 * ratio to itself, a failed case) are {@code null}.
 */
final class JsonWriter {
    private JsonWriter() {
    }

    static String write(Results r) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"machine\": ").append(str(r.machine())).append(",\n");
        sb.append("  \"peakGflops\": ").append(num(r.peak().gflops())).append(",\n");
        sb.append("  \"peakMethod\": ").append(str(r.peak().describe())).append(",\n");
        sb.append("  \"p\": ").append(num(r.p())).append(",\n");
        sb.append("  \"budgetSeconds\": ").append(num(r.budgetSeconds())).append(",\n");
        sb.append("  \"backends\": ").append(array(r.probe().stream().map(JsonWriter::backend).toList())).append(",\n");
        sb.append("  \"peers\": ").append(array(r.peers().stream().map(JsonWriter::peer).toList())).append(",\n");
        sb.append("  \"checks\": ").append(array(r.checks().stream().map(JsonWriter::check).toList())).append(",\n");
        List<String> timings = new ArrayList<>();
        for (Results.Timing t : r.timings()) {
            timings.add(timing(r, t));
        }
        sb.append("  \"timings\": ").append(array(timings)).append(",\n");
        sb.append("  \"allChecksPassed\": ").append(r.allChecksPassed()).append("\n}\n");
        return sb.toString();
    }

    private static String backend(BackendStatus s) {
        return "{\"name\": " + str(s.name()) + ", \"available\": " + s.available() + ", \"device\": "
                + str(s.device()) + ", \"reason\": " + str(s.reason()) + "}";
    }

    private static String peer(Results.PeerNote p) {
        return "{\"name\": " + str(p.name()) + ", \"ran\": " + (p.reason() == null) + ", \"description\": "
                + str(p.description()) + ", \"reason\": " + str(p.reason()) + "}";
    }

    private static String check(CrossCheck.Result c) {
        return "{\"backend\": " + str(c.backend()) + ", \"peer\": " + c.peer() + ", \"shape\": " + str(c.shape().toString())
                + ", \"maskDiffers\": " + c.maskDiffers() + ", \"maskElements\": " + c.maskElements()
                + ", \"forwardErrorRatio\": " + num(c.forwardErrorRatio()) + ", \"backwardErrorRatio\": "
                + num(c.backwardErrorRatio()) + ", \"error\": " + str(c.error()) + ", \"passed\": " + c.passed() + "}";
    }

    private static String timing(Results r, Results.Timing t) {
        return "{\"who\": " + str(t.who()) + ", \"peer\": " + t.peer() + ", \"shape\": " + str(t.shape().toString())
                + ", \"n\": " + t.shape().n() + ", \"in\": " + t.shape().in() + ", \"out\": " + t.shape().out()
                + ", \"rowsTimed\": " + t.rowsTimed() + ", \"forwardMs\": " + stats(t.forward())
                + ", \"backwardMs\": " + stats(t.backward()) + ", \"forwardGflops\": " + num(t.forwardGflops())
                + ", \"backwardGflops\": " + num(t.backwardGflops()) + ", \"forwardGBs\": " + num(t.forwardGBs())
                + ", \"forwardSpeedupOverBestPeer\": " + num(r.forwardSpeedup(t))
                + ", \"backwardSpeedupOverBestPeer\": " + num(r.backwardSpeedup(t)) + ", \"onCpu\": " + t.onCpu()
                + ", \"fractionOfCpuPeak\": " + num(t.fractionOf(r.peak().gflops()))
                + ", \"crossCheckFailed\": " + r.checkFailed(t.who()) + ", \"error\": " + str(t.error()) + "}";
    }

    private static String stats(Stats s) {
        if (s == null) {
            return "null";
        }
        return "{\"median\": " + num(s.median() * 1e3) + ", \"min\": " + num(s.min() * 1e3) + ", \"max\": "
                + num(s.max() * 1e3) + ", \"reps\": " + s.reps() + "}";
    }

    private static String array(List<String> items) {
        return items.isEmpty() ? "[]" : "[\n    " + String.join(",\n    ", items) + "\n  ]";
    }

    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    /** A JSON string, or {@code null} for a null. */
    static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
