package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.bench.report.Json;

import java.util.ArrayList;
import java.util.List;

import static dev.fuse4j.bench.report.Json.array;
import static dev.fuse4j.bench.report.Json.number;
import static dev.fuse4j.bench.report.Json.string;

/**
 * A run as {@code results.json}: the probe list, the peers, the cross-checks and every timing with its derived
 * figures, so other tools can plot or compare runs without parsing the table. Numbers that do not exist (a peer's
 * ratio to itself, a failed case) are {@code null}.
 */
final class ResultsJson {
    private ResultsJson() {
    }

    static String write(Results r) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"machine\": ").append(string(r.machine())).append(",\n");
        sb.append("  \"peakGflops\": ").append(number(r.peak().gflops())).append(",\n");
        sb.append("  \"peakMethod\": ").append(string(r.peak().describe())).append(",\n");
        sb.append("  \"peakSetBy\": ").append(candidate(r.peak().best())).append(",\n");
        sb.append("  \"peakCandidates\": ").append(array(r.peak().candidates().stream().map(ResultsJson::candidate)
                .toList())).append(",\n");
        sb.append("  \"p\": ").append(number(r.p())).append(",\n");
        sb.append("  \"budgetSeconds\": ").append(number(r.budgetSeconds())).append(",\n");
        sb.append("  \"backends\": ").append(array(r.probe().stream().map(ResultsJson::backend).toList()))
                .append(",\n");
        sb.append("  \"peers\": ").append(array(r.peers().stream().map(ResultsJson::peer).toList())).append(",\n");
        sb.append("  \"checks\": ").append(array(r.checks().stream().map(ResultsJson::check).toList())).append(",\n");
        List<String> timings = new ArrayList<>();
        for (Results.Timing t : r.timings()) {
            timings.add(timing(r, t));
        }
        sb.append("  \"timings\": ").append(array(timings)).append(",\n");
        sb.append("  \"gemms\": ").append(array(r.gemms().stream().map(ResultsJson::gemm).toList())).append(",\n");
        sb.append("  \"allChecksPassed\": ").append(r.allChecksPassed()).append("\n}\n");
        return sb.toString();
    }

    private static String candidate(MachinePeak.Candidate c) {
        return "{\"method\": " + string(c.method()) + ", \"threads\": " + c.threads() + ", \"gflops\": "
                + number(c.gflops()) + ", \"samples\": " + array(c.samples().stream().map(Json::number).toList())
                + "}";
    }

    private static String backend(BackendStatus s) {
        return "{\"name\": " + string(s.name()) + ", \"available\": " + s.available() + ", \"device\": "
                + string(s.device()) + ", \"reason\": " + string(s.reason()) + "}";
    }

    private static String peer(Results.PeerNote p) {
        return "{\"name\": " + string(p.name()) + ", \"ran\": " + (p.reason() == null) + ", \"description\": "
                + string(p.description()) + ", \"reason\": " + string(p.reason()) + "}";
    }

    private static String check(CrossCheck.Result c) {
        return "{\"backend\": " + string(c.backend()) + ", \"peer\": " + c.peer() + ", \"shape\": "
                + string(c.shape().toString())
                + ", \"maskDiffers\": " + c.maskDiffers() + ", \"maskElements\": " + c.maskElements()
                + ", \"forwardErrorRatio\": " + number(c.forwardErrorRatio()) + ", \"backwardErrorRatio\": "
                + number(c.backwardErrorRatio()) + ", \"error\": " + string(c.error()) + ", \"passed\": "
                + c.passed() + "}";
    }

    private static String timing(Results r, Results.Timing t) {
        return "{\"who\": " + string(t.who()) + ", \"peer\": " + t.peer() + ", \"shape\": "
                + string(t.shape().toString())
                + ", \"n\": " + t.shape().n() + ", \"in\": " + t.shape().in() + ", \"out\": " + t.shape().out()
                + ", \"rowsTimed\": " + t.rowsTimed() + ", \"forwardMs\": " + stats(t.forward())
                + ", \"backwardMs\": " + stats(t.backward()) + ", \"forwardGflops\": " + number(t.forwardGflops())
                + ", \"backwardGflops\": " + number(t.backwardGflops()) + ", \"forwardGBs\": " + number(t.forwardGBs())
                + ", \"forwardSpeedupOverBestPeer\": " + number(r.forwardSpeedup(t))
                + ", \"forwardOverBestGemm\": " + number(r.forwardOverGemm(t))
                + ", \"backwardSpeedupOverBestPeer\": " + number(r.backwardSpeedup(t)) + ", \"onCpu\": " + t.onCpu()
                + ", \"fractionOfCpuPeak\": " + number(t.fractionOf(r.peak().gflops()))
                + ", \"crossCheckFailed\": " + r.checkFailed(t.who()) + ", \"error\": " + string(t.error()) + "}";
    }

    private static String gemm(Results.GemmTiming g) {
        return "{\"label\": " + string(g.label()) + ", \"threads\": " + g.threads() + ", \"shape\": "
                + string(g.shape().toString()) + ", \"ms\": " + stats(g.forward()) + ", \"gflops\": "
                + number(g.gflops()) + ", \"error\": " + string(g.error()) + "}";
    }

    private static String stats(Stats s) {
        if (s == null) {
            return "null";
        }
        return "{\"median\": " + number(s.median() * 1e3) + ", \"min\": " + number(s.min() * 1e3) + ", \"max\": "
                + number(s.max() * 1e3) + ", \"reps\": " + s.reps() + "}";
    }
}
