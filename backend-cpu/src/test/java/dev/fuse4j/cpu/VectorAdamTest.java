package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Adam in vectors against the scalar loop, and the flush of subnormal moments both share. */
class VectorAdamTest {

    /** Parameter, gradient and both moments of {@code n} elements, some of each kind that needs care. */
    private static float[][] state(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] s = new float[4][n];
        for (int i = 0; i < n; i++) {
            s[0][i] = (float) r.nextGaussian();
            s[1][i] = switch (i % 7) {
                case 0 -> 0f; // a unit that did not fire
                case 1 -> (float) (r.nextGaussian() * 1e-20); // its square is subnormal
                default -> (float) r.nextGaussian() * 0.01f;
            };
            s[2][i] = i % 5 == 0 ? Float.MIN_NORMAL * 1.05f : (float) r.nextGaussian() * 1e-3f;
            s[3][i] = i % 3 == 0 ? Float.MIN_NORMAL * 2f : (float) Math.abs(r.nextGaussian()) * 1e-6f;
        }
        return s;
    }

    @Test
    void vectorsGiveTheScalarLoopsBits() {
        for (int n : new int[] {1, Tuning.L - 1, Tuning.L, 3 * Tuning.L + 5, 1000}) {
            for (long step : new long[] {1, 7, 2000}) {
                float[][] a = state(n, n * 31 + step);
                float[][] b = state(n, n * 31 + step);
                new AdamUpdate(a[0], a[1], a[2], a[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, step).scalar(0, n);
                VectorAdam.run(new AdamUpdate(b[0], b[1], b[2], b[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, step), 0, n);
                for (int k = 0; k < 4; k++) {
                    assertArrayEquals(a[k], b[k], "array " + k + " of " + n + " elements at step " + step);
                }
            }
        }
    }

    @Test
    void vectorsGiveTheScalarLoopsBitsWhereMomentsAreFlushedAndAtNaNAndInfinities() {
        int n = 5 * Tuning.L + 3;
        SplittableRandom r = new SplittableRandom(11);
        float[][] a = new float[4][n];
        for (int i = 0; i < n; i++) {
            a[0][i] = (float) r.nextGaussian();
            // No weight decay below, so these gradients reach the moments as they are: 0, tiny (its square is
            // subnormal), ordinary, and the special values.
            a[1][i] = switch (i % 9) {
                case 0 -> 0f;
                case 1 -> (float) (r.nextGaussian() * 1e-21);
                case 2 -> Float.NaN;
                case 3 -> i % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                default -> (float) r.nextGaussian() * 0.01f;
            };
            // Moments a step from being flushed, of either sign, beside ordinary ones: lanes of one vector mix both.
            float sign = i % 2 == 0 ? 1f : -1f;
            a[2][i] = i % 3 == 0 ? sign * Float.MIN_NORMAL * 1.05f : sign * 1e-3f;
            a[3][i] = i % 4 == 0 ? Float.MIN_NORMAL * 1.0005f : 1e-6f;
        }
        float[][] b = new float[4][];
        for (int k = 0; k < 4; k++) {
            b[k] = a[k].clone();
        }
        new AdamUpdate(a[0], a[1], a[2], a[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 20).scalar(0, n);
        VectorAdam.run(new AdamUpdate(b[0], b[1], b[2], b[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 20), 0, n);
        int flushed = 0;
        for (int k = 0; k < 4; k++) {
            assertArrayEquals(a[k], b[k], "array " + k);
        }
        for (int i = 0; i < n; i++) {
            flushed += a[2][i] == 0f ? 1 : 0;
        }
        assertTrue(flushed >= n / 9, "moments flushed: " + flushed);
    }

    @Test
    void aMomentBelowTheSmallestNormalIsStoredAsZero() {
        int n = 3 * Tuning.L + 3;
        float[][] s = state(n, 5);
        Arrays.fill(s[1], 0f);
        // With no gradient m shrinks by beta1 and v by beta2; just above the smallest normal, one step takes each
        // under.
        Arrays.fill(s[2], Float.MIN_NORMAL * 1.05f);
        Arrays.fill(s[3], Float.MIN_NORMAL * 1.0005f);
        float[] p = s[0].clone();
        VectorAdam.run(new AdamUpdate(s[0], s[1], s[2], s[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 10), 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(0f, s[2][i], "m[" + i + "]");
            assertEquals(0f, s[3][i], "v[" + i + "]");
            assertEquals(p[i], s[0][i], "p[" + i + "] moves by nothing once both moments are 0");
        }
        // A normal moment is kept as it is.
        float[][] t = state(n, 6);
        Arrays.fill(t[1], 0f);
        Arrays.fill(t[2], 1e-3f);
        new AdamUpdate(t[0], t[1], t[2], t[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 10).scalar(0, n);
        assertTrue(t[2][0] == 0.9f * 1e-3f, "m = " + t[2][0]);
    }

    @Test
    void thePoolsChunksCoverEveryElementOnce() {
        VectorCpuBackend backend = new VectorCpuBackend("cpu-adam-test", new WorkerPool(3), Tuning.BLOCKING,
                KernelWarmup.none());
        int n = 2 * VectorCpuBackend.ADAM_CHUNK + 17;
        float[][] a = state(n, 9);
        float[][] b = state(n, 9);
        new AdamUpdate(a[0], a[1], a[2], a[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 3).scalar(0, n);
        backend.adam(new AdamUpdate(b[0], b[1], b[2], b[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 3));
        for (int k = 0; k < 4; k++) {
            assertArrayEquals(a[k], b[k], "array " + k);
        }
    }

    @Test
    void theScalarBackendRunsAdamWithoutTheVectorModule() throws IOException, InterruptedException {
        // The child JVM has no jdk.incubator.vector: "cpu" is the scalar path, which must not load a Vector API
        // class through AdamUpdate, and gives the scalar loop's bits.
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                ScalarAdam.class.getName()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        float[][] s = ScalarAdam.state();
        new AdamUpdate(s[0], s[1], s[2], s[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 30).scalar(0, s[0].length);
        String expected = Arrays.toString(s[0]) + Arrays.toString(s[2]) + Arrays.toString(s[3]);
        assertTrue(output.contains("backend cpu: Java scalar loops"), output);
        assertTrue(output.contains("adam " + expected), output);
    }

    /** Adam on the {@code cpu} backend of a JVM started without the Vector API, for the test above. */
    static final class ScalarAdam {
        static float[][] state() {
            float[][] s = VectorAdamTest.state(37, 3);
            Arrays.fill(s[1], 0, 9, 0f);
            return s;
        }

        public static void main(String[] args) {
            Backend be = Backends.get("cpu");
            System.out.println("backend cpu: " + be.device());
            float[][] s = state();
            int n = s[0].length;
            try (Tensor p = be.tensor(s[0], n); Tensor g = be.tensor(s[1], n); Tensor m = be.tensor(s[2], n);
                 Tensor v = be.tensor(s[3], n)) {
                be.adamStep(p, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 30);
                System.out.println("adam " + Arrays.toString(p.toArray()) + Arrays.toString(m.toArray())
                        + Arrays.toString(v.toArray()));
            }
        }
    }
}
