package dev.fuse4j.bench.compare;

import dev.fuse4j.bench.peers.LibraryGemm;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which measurement sets the peak, how it is labelled, and what is measured; no figure is asserted. */
class MachinePeakTest {
    private static final String LOOP = "FMA loop (256-bit vectors, 12 chains)";

    @Test
    void theHighestCandidateSetsThePeakWhateverItsMethod() {
        MachinePeak.Candidate sgemm = new MachinePeak.Candidate("openblas sgemm 2048³", 2, List.of(229.0));
        MachinePeak.Peak peak = new MachinePeak.Peak(List.of(
                new MachinePeak.Candidate(LOOP, 1, List.of(110.0)),
                new MachinePeak.Candidate(LOOP, 2, List.of(205.0)),
                sgemm,
                new MachinePeak.Candidate("openblas sgemm 2048³", 1, List.of(120.0))));
        assertSame(sgemm, peak.best());
        assertEquals(229.0, peak.gflops());
        assertEquals("229 GFLOP/s = openblas sgemm 2048³ on 2 threads; also measured (GFLOP/s): " + LOOP
                + " on 1 thread 110, " + LOOP + " on 2 threads 205, openblas sgemm 2048³ on 1 thread 120",
                peak.describe());

        MachinePeak.Peak loopWins = new MachinePeak.Peak(List.of(new MachinePeak.Candidate(LOOP, 2, List.of(250.0)),
                sgemm));
        assertEquals(250.0, loopWins.gflops());
        assertTrue(loopWins.describe().startsWith("250 GFLOP/s = " + LOOP + " on 2 threads;"), loopWins.describe());
    }

    @Test
    void runsAreMergedPerMethodAndThreadsKeepingEverySample() {
        MachinePeak.Peak first = new MachinePeak.Peak(List.of(new MachinePeak.Candidate(LOOP, 2, List.of(190.0)),
                new MachinePeak.Candidate("pytorch matmul 2048³", 2, List.of(200.0))));
        MachinePeak.Peak second = new MachinePeak.Peak(List.of(new MachinePeak.Candidate(LOOP, 2, List.of(210.0)),
                new MachinePeak.Candidate("pytorch matmul 2048³", 2, List.of(180.0))));
        MachinePeak.Peak merged = MachinePeak.Peak.best(first, second);
        assertEquals(2, merged.candidates().size());
        assertEquals(List.of(190.0, 210.0), merged.candidates().get(0).samples());
        assertEquals(210.0, merged.gflops(), "the best sample of the best candidate");
        assertEquals(LOOP, merged.best().method());
        assertTrue(merged.describe().startsWith("210 GFLOP/s = " + LOOP + " on 2 threads (best of 190, 210)"),
                merged.describe());
    }

    @Test
    void emptyMeasurementsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MachinePeak.Peak(List.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MachinePeak.Candidate(LOOP, 3, List.of()));
        assertTrue(e.getMessage().contains("on 3 threads"), e.getMessage());
    }

    @Test
    void everyMethodIsMeasuredAtOneThreadAndAtEveryProcessor() {
        assertEquals(List.of(1), MachinePeak.threadCounts(1));
        assertEquals(List.of(1, 2), MachinePeak.threadCounts(2));
        assertEquals(List.of(1, 16), MachinePeak.threadCounts(16));
        assertEquals(MachinePeak.GEMM_SIZE, MachinePeak.gemmSize(1.0));
        assertEquals(MachinePeak.SMALL_GEMM_SIZE, MachinePeak.gemmSize(0.1));

        RecordingGemm gemm = new RecordingGemm();
        LibraryGemm broken = new LibraryGemm() {
            @Override
            public String label() {
                return "broken";
            }

            @Override
            public int threads() {
                return 1;
            }

            @Override
            public Product prepare(int m, int n, int k, int threads) {
                throw new IllegalStateException("no library");
            }
        };
        MachinePeak.Peak peak = MachinePeak.measure(0.01, 0.02, List.of(gemm, broken));
        List<Integer> counts = MachinePeak.threadCounts(Runtime.getRuntime().availableProcessors());
        assertEquals(counts, gemm.threads, "prepared once per thread count");
        assertEquals(counts.size(), gemm.closed, "every product closed");
        assertTrue(gemm.runs >= 3 * counts.size(), "a warm-up call and at least two timed ones each: " + gemm.runs);
        assertEquals(List.of(MachinePeak.SMALL_GEMM_SIZE), gemm.sizes.stream().distinct().toList());
        assertEquals(2 * counts.size(), peak.candidates().size(), "the loop and the working GEMM; broken left out");
        for (MachinePeak.Candidate c : peak.candidates()) {
            assertTrue(c.method().startsWith("FMA loop (") || c.method().equals("recorder "
                    + MachinePeak.SMALL_GEMM_SIZE + "³"), c.method());
            assertTrue(c.gflops() > 0 && Double.isFinite(c.gflops()), c.toString());
        }
    }

    /** Counts what the peak measurement asks of a library; its product is a small loop. */
    private static final class RecordingGemm implements LibraryGemm {
        final List<Integer> threads = new ArrayList<>();
        final List<Integer> sizes = new ArrayList<>();
        int closed;
        int runs;
        float sink;

        @Override
        public String label() {
            return "recorder";
        }

        @Override
        public int threads() {
            return 1;
        }

        @Override
        public Product prepare(int m, int n, int k, int t) {
            assertTrue(m == n && n == k, "the peak's GEMM is square: " + m + ", " + n + ", " + k);
            threads.add(t);
            sizes.add(m);
            return new Product() {
                @Override
                public void run() {
                    runs++;
                    for (int i = 0; i < 1000; i++) {
                        sink += i * 1e-3f;
                    }
                }

                @Override
                public void close() {
                    closed++;
                }
            };
        }
    }
}
