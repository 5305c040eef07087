package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.LinearStatistics;
import dev.fuse4j.Tensor;
import dev.fuse4j.contract.BackendContract;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The contract suite on the scalar oracle path. */
class ScalarCpuContractTest extends BackendContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("cpu-scalar");
    }

    /** The oracle sums pass 1's statistics in the loop that stores z exactly as its separate pass sums them. */
    @Test
    void linearWithStatisticsIsTheSeparatePassBitForBit() {
        Backend be = backendUnderTest();
        Random r = new Random(31);
        int n = 57, in = 6, out = 11;
        try (Tensor x = be.tensor(values(r, n * in, 1f), n, in);
             Tensor w = be.tensor(values(r, out * in, 0.5f), out, in); Tensor b = be.tensor(values(r, out, 1000f), out);
             LinearStatistics zs = be.linearWithStatistics(x, w, b);
             Tensor separate = be.batchNormStatistics(zs.z())) {
            assertArrayEquals(separate.toArray(), zs.stats().toArray());
        }
    }

    private static float[] values(Random r, int count, float scale) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = scale * (float) r.nextGaussian();
        }
        return a;
    }
}
