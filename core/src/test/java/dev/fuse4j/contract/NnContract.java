package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Adam;
import dev.fuse4j.nn.Checkpoint;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.DropoutMode;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.ParameterSlot;
import dev.fuse4j.nn.PredictiveUncertainty;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Sgd;
import dev.fuse4j.nn.Training;
import dev.fuse4j.reference.DropConnectReference;
import dev.fuse4j.reference.Expected;
import dev.fuse4j.reference.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The training layer ({@code dev.fuse4j.nn}) on one backend: gradients against finite differences, the dropout
 * masks each step draws against the Philox contract, reproducibility from one seed, exact resume from a
 * checkpoint, refusal of bad checkpoints, and learning a small synthetic task. Extend it and implement
 * {@link #createBackend()} as for {@link BackendContract}. Batch normalisation's cases are in
 * {@link BatchNormNnContract}.
 */
public abstract class NnContract extends BackendSuite implements BatchNormNnContract {

    @Override
    public Backend backendUnderTest() {
        return backend;
    }

    static Stream<Activation> activations() {
        return Stream.of(Activation.relu(), Activation.leakyRelu(0.1f), Activation.gelu(), Activation.identity(),
                Activation.elu(0.5f), Activation.prelu());
    }

    // ---- gradients against finite differences --------------------------------------------------------------

    /** Central differences with a step large enough that float32 rounding of the loss stays far below it. */
    private static final double H = 1e-2;

    @ParameterizedTest
    @MethodSource("activations")
    void denseGradientsMatchFiniteDifferences(Activation act) {
        checkDenseGradients(act, false);
    }

    /** DropConnect's gradients, the weight mask held fixed (the same offset) across the differences. */
    @ParameterizedTest
    @MethodSource("activations")
    void dropConnectGradientsMatchFiniteDifferences(Activation act) {
        checkDenseGradients(act, true);
    }

    /** A dense layer's dw, db and dx from backward against central differences of {@code L = Σ y·dy}. */
    private void checkDenseGradients(Activation act, boolean dropConnect) {
        int n = 4, in = 6, out = 5;
        Random r = new Random(11);
        float[] x = randoms(r, n * in);
        float[] dy = randoms(r, n * out);
        try (Dense layer = new Dense(backend, "t", in, out, act, 0.5f, dropConnect, 3, 4);
             Tensor dyT = backend.tensor(dy, n, out)) {
            boolean prelu = act.kind() == Activation.Kind.PRELU;
            if (prelu) {
                layer.slope().load(BackendContract.preluSlopes(out)); // both signs, 0 and past 1, not just 0.25
            }
            float[] w = layer.weight().value().toArray();
            float[] b = layer.bias().value().toArray();
            float[] a = prelu ? layer.slope().value().toArray() : null;
            // L = Σ y·dy, so dL/dy = dy and backward(dy) gives dL/dθ.
            Function<float[][], Double> loss = v -> {
                layer.weight().load(v[0]);
                layer.bias().load(v[1]);
                if (prelu) {
                    layer.slope().load(v[3]);
                }
                layer.setDropoutOffset(0);
                try (Tensor xt = backend.tensor(v[2], n, in)) {
                    return dot(layer.forward(xt).toArray(), dy);
                }
            };
            float[][] at = prelu ? new float[][] {w, b, x, a} : new float[][] {w, b, x};
            loss.apply(at);
            float[] dx;
            try (Tensor xt = backend.tensor(x, n, in)) {
                layer.setDropoutOffset(0);
                layer.forward(xt);
                try (Tensor dxT = layer.backward(dyT)) {
                    dx = dxT.toArray();
                }
            }
            float[][] analytic = prelu
                    ? new float[][] {layer.weight().grad().toArray(), layer.bias().grad().toArray(), dx,
                        layer.slope().grad().toArray()}
                    : new float[][] {layer.weight().grad().toArray(), layer.bias().grad().toArray(), dx};
            Dropout used = layer.lastDropout();
            assertEquals(dropConnect, used.dropConnect(), "the layer's dropout " + used);
            double[] z = Reference.forward(x, w, b, n, in, out, act, used, a).z().value();
            // Under DropConnect z's slope in w is x·s (or 0) and in x the masked, scaled weight.
            float[] xSlope = x.clone(), wSlope = w.clone();
            if (dropConnect) {
                double[] wm = DropConnectReference.maskedWeights(w, out, in, used);
                for (int k = 0; k < wSlope.length; k++) {
                    wSlope[k] = (float) wm[k];
                }
                for (int k = 0; k < xSlope.length; k++) {
                    xSlope[k] *= used.scale();
                }
            }
            // ELU's slope jumps from alpha to 1 at 0 unless alpha is 1; PReLU's from a_j to 1
            boolean kinked = act.kind() == Activation.Kind.RELU || act.kind() == Activation.Kind.LEAKY_RELU
                    || act.kind() == Activation.Kind.ELU && act.alpha() != 1f || prelu;
            int checked = 0, total = 0;
            String[] names = {"dw", "db", "dx", "da"};
            for (int t = 0; t < at.length; t++) {
                for (int i = 0; i < at[t].length; i++) {
                    total++;
                    if (kinked && nearKink(z, t, i, xSlope, wSlope, n, in, out)) {
                        continue; // a ReLU kink inside ±H makes the difference quotient meaningless there
                    }
                    double fd = difference(loss, at, t, i);
                    assertClose(fd, analytic[t][i], names[t] + "[" + i + "] with " + act + ", " + used);
                    checked++;
                }
            }
            assertTrue(checked >= total * 8 / 10, "only " + checked + " of " + total + " coordinates were "
                    + "away from a kink");
        }
    }

    @Test
    void crossEntropyGradientMatchesFiniteDifferences() {
        int n = 5, classes = 4;
        Random r = new Random(12);
        float[] logits = randoms(r, n * classes);
        float[] labels = {0, 3, 1, 1, 2};
        try (Tensor lab = backend.tensor(labels, n)) {
            Function<float[][], Double> loss = v -> {
                try (Tensor lt = backend.tensor(v[0], n, classes);
                     CrossEntropy ce = backend.softmaxCrossEntropy(lt, lab)) {
                    return (double) ce.loss();
                }
            };
            float[] grad;
            try (Tensor lt = backend.tensor(logits, n, classes);
                 CrossEntropy ce = backend.softmaxCrossEntropy(lt, lab)) {
                grad = ce.grad().toArray();
            }
            float[][] at = {logits};
            for (int i = 0; i < logits.length; i++) {
                assertClose(difference(loss, at, 0, i), grad[i], "dlogits[" + i + "]");
            }
        }
    }

    /** Backward through a whole model with dropout on, GELU hidden layer (smooth) and the loss. */
    @Test
    void modelGradientsMatchFiniteDifferences() {
        int n = 6, in = 5, classes = 3;
        Random r = new Random(13);
        float[] x = randoms(r, n * in);
        float[] labels = {0, 1, 2, 2, 1, 0};
        try (Sequential m = Sequential.builder(backend, in, 5).dense(7, Activation.gelu(), 0.3f)
                .dense(6, Activation.gelu(), 0.3f).linear(classes).build()) {
            assertModelGradientsMatchFiniteDifferences(m, x, labels);
        }
    }

    /** A model with channel dropout and with variational dropout: gradients against finite differences. */
    @Test
    void modelGradientsWithChannelAndVariationalDropoutMatchFiniteDifferences() {
        int n = 6, in = 5;
        Random r = new Random(15);
        float[] x = randoms(r, n * in);
        float[] labels = {0, 1, 2, 2, 1, 0};
        try (Sequential m = Sequential.builder(backend, in, 5)
                .dense(8, Activation.gelu(), 0.4f, DropoutMode.channels(2))
                .dense(6, Activation.gelu(), 0.4f, new DropoutMode(3, 2)).linear(3).build()) {
            assertModelGradientsMatchFiniteDifferences(m, x, labels);
        }
    }

    /**
     * Every parameter's gradient from backward of the cross-entropy loss of {@code m} on {@code x [n, in]} and
     * {@code labels}, against central differences of that loss, each training pass at the same dropout offsets.
     */
    static void assertModelGradientsMatchFiniteDifferences(Sequential m, float[] x, float[] labels) {
        Backend be = m.backend();
        try (Tensor xt = be.tensor(x, labels.length, m.inFeatures());
             Tensor lab = be.tensor(labels, labels.length)) {
            List<Parameter> ps = m.parameters();
            float[][] at = new float[ps.size()][];
            for (int i = 0; i < at.length; i++) {
                at[i] = ps.get(i).value().toArray();
            }
            Function<float[][], Double> loss = v -> {
                for (int i = 0; i < v.length; i++) {
                    ps.get(i).load(v[i]);
                }
                m.layers().forEach(l -> l.setDropoutOffset(0));
                try (CrossEntropy ce = be.softmaxCrossEntropy(m.forward(xt), lab)) {
                    return (double) ce.loss();
                }
            };
            loss.apply(at);
            m.layers().forEach(l -> l.setDropoutOffset(0));
            try (CrossEntropy ce = be.softmaxCrossEntropy(m.forward(xt), lab)) {
                m.backward(ce.grad());
            }
            float[][] grads = new float[ps.size()][];
            for (int t = 0; t < ps.size(); t++) {
                grads[t] = ps.get(t).grad().toArray(); // before the probes below load new values and drop it
            }
            for (int t = 0; t < ps.size(); t++) {
                float[] g = grads[t];
                for (int i = 0; i < g.length; i++) {
                    assertClose(difference(loss, at, t, i), g[i], ps.get(t).name() + "[" + i + "]");
                }
            }
        }
    }

    // ---- dropout masks, train and eval ----------------------------------------------------------------------

    @Test
    void eachTrainingStepDrawsTheContractMaskAtTheNextOffset() {
        int n = 9, in = 8, hidden = 33;
        float[] x = randoms(new Random(14), n * in);
        try (Sequential m = Sequential.builder(backend, in, 77).dense(hidden, Activation.relu(), 0.5f)
                .linear(3).build();
             Tensor xt = backend.tensor(x, n, in)) {
            Dense d = (Dense) m.layers().get(0);
            List<boolean[]> seen = new ArrayList<>();
            for (int step = 0; step < 3; step++) {
                float[] y = m.layers().get(0).forward(xt).toArray();
                Dropout used = d.lastDropout();
                assertTrue(used.training());
                assertEquals(step, used.offset(), "step " + step + " drew its mask at the wrong offset");
                assertEquals(step + 1, d.dropoutOffset());
                boolean[] keep = Reference.mask(n, hidden, used);
                try (Tensor mask = backend.dropoutMask(n, hidden, used)) {
                    float[] mk = mask.toArray();
                    for (int e = 0; e < keep.length; e++) {
                        assertEquals(keep[e] ? 1f : 0f, mk[e], "mask element " + e + " at step " + step);
                        if (!keep[e]) {
                            assertEquals(0f, y[e], "dropped element " + e + " at step " + step + " is not zero");
                        }
                    }
                }
                for (boolean[] earlier : seen) {
                    assertTrue(!java.util.Arrays.equals(earlier, keep), "step " + step + " reused a mask");
                }
                seen.add(keep);
            }
            m.eval();
            float[] e1 = m.forward(xt).toArray();
            float[] e2 = m.forward(xt).toArray();
            assertEquals(Dropout.eval(), d.lastDropout());
            assertEquals(3, d.dropoutOffset(), "evaluation must not advance the Philox offset");
            assertArrayEquals(e1, e2, "evaluation is deterministic");
            assertTrue(m.train().isTraining());
        }
    }

    /**
     * DropConnect in a model: each training step draws the weight mask of the Philox weight stream at the next
     * offset, the forward matches float64 with {@code W ⊙ M} formed explicitly, a dropped weight's gradient is
     * exactly 0, and evaluation is the plain layer bit for bit.
     */
    @Test
    void eachDropConnectStepDrawsTheWeightMaskAtTheNextOffset() {
        int n = 9, in = 8, hidden = 33;
        float[] x = randoms(new Random(15), n * in);
        float[] dy = randoms(new Random(16), n * hidden);
        try (Sequential m = Sequential.builder(backend, in, 78).denseDropConnect(hidden, Activation.relu(), 0.5f)
                .linear(3).build();
             Sequential plain = Sequential.builder(backend, in, 78).dense(hidden, Activation.relu(), 0f)
                .linear(3).build();
             Tensor xt = backend.tensor(x, n, in); Tensor dyt = backend.tensor(dy, n, hidden)) {
            Dense d = (Dense) m.layers().get(0);
            assertTrue(d.dropConnect());
            float[] w = d.weight().value().toArray(), b = d.bias().value().toArray();
            List<boolean[]> seen = new ArrayList<>();
            for (int step = 0; step < 3; step++) {
                float[] y = d.forward(xt).toArray();
                Dropout used = d.lastDropout();
                assertEquals(Dropout.dropConnect(0.5f, used.seed(), step), used, "step " + step);
                assertEquals(step + 1, d.dropoutOffset());
                boolean[] keep = DropConnectReference.weightMask(hidden, in, used);
                try (Tensor mask = backend.dropoutMask(hidden, in, used)) {
                    float[] mk = mask.toArray();
                    for (int k = 0; k < keep.length; k++) {
                        assertEquals(keep[k] ? 1f : 0f, mk[k], "weight mask element " + k + " at step " + step);
                    }
                }
                Reference.Forward ref = Reference.forward(x, w, b, n, in, hidden, Activation.relu(), used);
                int e = ref.y().firstViolation(y);
                assertTrue(e < 0, () -> "y[" + e + "] = " + y[e] + " but float64 with W ⊙ M gives "
                        + ref.y().value()[e] + " at step " + used.offset());
                assertEquals(null, d.backward(dyt, false), "dx was not asked for");
                float[] dw = d.weight().grad().toArray();
                for (int k = 0; k < keep.length; k++) {
                    if (!keep[k]) {
                        assertEquals(0f, dw[k], "the gradient of dropped weight " + k + " at step " + step);
                    }
                }
                for (boolean[] earlier : seen) {
                    assertFalse(Arrays.equals(earlier, keep), "step " + step + " reused a weight mask");
                }
                seen.add(keep);
            }
            m.eval();
            float[] e1 = m.forward(xt).toArray();
            assertEquals(Dropout.eval(), d.lastDropout());
            assertEquals(3, d.dropoutOffset(), "evaluation must not advance the Philox offset");
            plain.eval();
            assertArrayEquals(plain.forward(xt).toArray(), e1, "DropConnect in evaluation is the plain layer");
        }
    }

    /**
     * A layer with channel dropout draws, at each step, the contract's mask of its mode: whole channels of its output
     * are zero together; with variational dropout every time step of the batch repeats the first one's mask.
     */
    @Test
    void layersWithChannelOrVariationalDropoutDrawTheirModesMask() {
        int n = 12, in = 7, hidden = 24;
        float[] x = randoms(new Random(16), n * in);
        for (DropoutMode mode : new DropoutMode[] {DropoutMode.channels(4), DropoutMode.variational(3)}) {
            try (Sequential m = Sequential.builder(backend, in, 78).dense(hidden, Activation.identity(), 0.5f, mode)
                    .linear(3).build();
                 Tensor xt = backend.tensor(x, n, in)) {
                Dense d = (Dense) m.layers().get(0);
                assertEquals(mode, d.dropoutMode());
                for (int step = 0; step < 2; step++) {
                    float[] y = d.forward(xt).toArray();
                    Dropout used = d.lastDropout();
                    assertEquals(mode.featuresPerChannel(), used.featuresPerChannel(), mode + " at step " + step);
                    assertEquals(mode.sequences(), used.sequences(), mode + " at step " + step);
                    assertEquals(step, used.offset());
                    boolean[] keep = Reference.mask(n, hidden, used);
                    for (int e = 0; e < keep.length; e++) {
                        if (!keep[e]) {
                            assertEquals(0f, y[e], mode + ": dropped element " + e + " at step " + step);
                        }
                        int twin = mode.sequences() > 0 ? (e + mode.sequences() * hidden) % keep.length
                                : e / mode.featuresPerChannel() * mode.featuresPerChannel();
                        assertEquals(keep[twin], keep[e], mode + ": element " + e + " and " + twin + " share a draw");
                    }
                }
            }
        }
        try (Sequential m = Sequential.builder(backend, in, 1).dense(hidden, Activation.relu(), 0.5f).build()) {
            assertEquals(DropoutMode.PLAIN, ((Dense) m.layers().get(0)).dropoutMode());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dense(backend, "t", in, 10, Activation.relu(), 0.5f, 1, 2, DropoutMode.channels(4)));
        assertTrue(e.getMessage().contains("featuresPerChannel 4") && e.getMessage().contains("10 outputs"),
                e.getMessage());
    }

    /**
     * A layer refuses what cannot work together, naming it: a dropout mode with DropConnect (the modes shape output
     * masks), and {@code Backend.dropout} refuses DropConnect's weight mask.
     */
    @Test
    void dropConnectWithADropoutModeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dense(backend, "t", 4, 8,
                Activation.relu(), 0.5f, true, 1, 2, false, DropoutMode.channels(2), 0f, 0L));
        assertTrue(e.getMessage().contains("channel:2") && e.getMessage().contains("DropConnect"), e.getMessage());
        try (Tensor x = backend.zeros(3, 4)) {
            IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                    () -> backend.dropout(x, Dropout.dropConnect(0.5f, 1, 2)));
            assertTrue(d.getMessage().contains("dropConnect"), d.getMessage());
        }
    }

    /** The dropout mode is part of the architecture a checkpoint holds: a model of another mode is refused. */
    @Test
    void aCheckpointKeepsTheDropoutMode(@TempDir Path dir) throws IOException {
        Blobs data = new Blobs(64, 25);
        Path ck = dir.resolve("channel.ckpt");
        try (Sequential m = modeModel(DropoutMode.channels(4)); Optimizer o = optimizer("adam", m)) {
            Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), 6, 0), 16, null);
            Checkpoint.save(ck, m, o, 1);
        }
        try (Sequential m = modeModel(DropoutMode.channels(4)); Optimizer o = optimizer("adam", m)) {
            assertEquals(1, Checkpoint.restore(ck, m, o));
        }
        try (Sequential other = modeModel(DropoutMode.PLAIN); Optimizer o = optimizer("adam", other)) {
            expectRefused(ck, other, o, "channel:4");
        }
    }

    private Sequential modeModel(DropoutMode mode) {
        return Sequential.builder(backend, Blobs.FEATURES, 6).dense(12, Activation.relu(), 0.25f, mode)
                .linear(Blobs.CLASSES).build();
    }

    // ---- input dropout --------------------------------------------------------------------------------------

    /**
     * A model's input dropout: in training the first layer computes its output from {@code dropout(x)} under a key of
     * its own at the layer's offset (so its masks never share a stream with an output mask); in evaluation from x.
     */
    @Test
    void inputDropoutFeedsTheFirstLayerTheDroppedInputInTrainingOnly() {
        int n = 10, in = 9, hidden = 12;
        float[] x = randoms(new Random(17), n * in);
        try (Sequential m = Sequential.builder(backend, in, 79).inputDropout(0.3f)
                .dense(hidden, Activation.identity(), 0.5f).linear(3).build();
             Tensor xt = backend.tensor(x, n, in)) {
            Dense first = (Dense) m.layers().get(0);
            assertEquals(0.3f, first.inputDropoutP());
            assertEquals(0f, ((Dense) m.layers().get(1)).inputDropoutP(), "only the first layer drops its input");
            for (int step = 0; step < 2; step++) {
                float[] y = first.forward(xt).toArray();
                Dropout dIn = first.lastInputDropout();
                assertTrue(dIn.training());
                assertEquals(0.3f, dIn.p());
                assertEquals(step, dIn.offset(), "the input mask is drawn at the layer's offset");
                assertNotEquals(first.lastDropout().seed(), dIn.seed(), "input and output masks share a key");
                boolean[] keep = Reference.mask(n, in, dIn);
                int dropped = 0;
                for (boolean k : keep) {
                    dropped += k ? 0 : 1;
                }
                assertTrue(dropped > 0 && dropped < keep.length, dropped + " of " + keep.length + " inputs dropped");
                try (Tensor xd = backend.dropout(xt, dIn);
                     Tensor want = backend.linear(xd, first.weight().value(), first.bias().value(),
                             Activation.identity(), first.lastDropout(), null)) {
                    assertArrayEquals(want.toArray(), y, "the first layer's output at step " + step);
                }
            }
            m.eval();
            float[] y = first.forward(xt).toArray();
            assertEquals(Dropout.eval(), first.lastInputDropout());
            try (Tensor want = backend.linear(xt, first.weight().value(), first.bias().value(),
                    Activation.identity(), Dropout.eval(), null)) {
                assertArrayEquals(want.toArray(), y, "evaluation feeds the whole input");
            }
            assertEquals(2, first.dropoutOffset(), "evaluation must not advance the offset");
        }
        Sequential.Builder late = Sequential.builder(backend, in, 1).dense(4, Activation.relu(), 0f);
        assertThrows(IllegalStateException.class, () -> late.inputDropout(0.2f));
        late.build().close();
        assertThrows(IllegalArgumentException.class, () -> Sequential.builder(backend, in, 1).inputDropout(1f));
    }

    /** dw sums over the dropped input and dx passes back through the input mask: both against finite differences. */
    @Test
    void gradientsWithInputDropoutMatchFiniteDifferences() {
        int n = 6, in = 5;
        Random r = new Random(18);
        float[] x = randoms(r, n * in);
        float[] labels = {0, 1, 2, 2, 1, 0};
        try (Sequential m = Sequential.builder(backend, in, 5).inputDropout(0.4f).dense(7, Activation.gelu(), 0.3f)
                .linear(3).build()) {
            assertModelGradientsMatchFiniteDifferences(m, x, labels);
        }
        int out = 4;
        float[] dy = randoms(r, n * out);
        try (Dense layer = new Dense(backend, "t", in, out, Activation.identity(), 0f, 3, 4, DropoutMode.PLAIN, 0.5f,
                5); Tensor dyT = backend.tensor(dy, n, out)) {
            Function<float[][], Double> loss = v -> {
                layer.setDropoutOffset(0);
                try (Tensor xt = backend.tensor(v[0], n, in)) {
                    return dot(layer.forward(xt).toArray(), dy);
                }
            };
            float[] dx;
            try (Tensor xt = backend.tensor(x, n, in)) {
                layer.setDropoutOffset(0);
                layer.forward(xt);
                try (Tensor dxT = layer.backward(dyT)) {
                    dx = dxT.toArray();
                }
            }
            float[][] at = {x};
            int zeros = 0;
            for (int i = 0; i < x.length; i++) {
                assertClose(difference(loss, at, 0, i), dx[i], "dx[" + i + "] through the input mask");
                zeros += dx[i] == 0f ? 1 : 0;
            }
            assertTrue(zeros > 0 && zeros < x.length, zeros + " of " + x.length + " input gradients are zero");
        }
    }

    // ---- MC dropout -----------------------------------------------------------------------------------------

    /**
     * MC dropout repeats bit for bit from its seed, differs for another seed, leaves the training offsets and the
     * model's mode as they were, and gives probabilities: rows of the mean sum to 1, variances are not negative.
     */
    @Test
    void mcDropoutIsReproducibleFromItsSeedAndLeavesTheModelAsItWas() {
        int n = 7, in = 6;
        float[] x = randoms(new Random(19), n * in);
        try (Sequential m = Sequential.builder(backend, in, 80).inputDropout(0.2f).dense(16, Activation.relu(), 0.5f)
                .dense(12, Activation.gelu(), 0.3f, DropoutMode.channels(3)).linear(4).build();
             Tensor xt = backend.tensor(x, n, in)) {
            m.layers().forEach(l -> l.setDropoutOffset(5));
            m.eval();
            PredictiveUncertainty a = m.predictWithUncertainty(xt, 6, 42);
            PredictiveUncertainty b = m.predictWithUncertainty(xt, 6, 42);
            PredictiveUncertainty c = m.predictWithUncertainty(xt, 6, 43);
            assertArrayEquals(a.mean(), b.mean(), "the mean from seed 42, twice");
            assertArrayEquals(a.variance(), b.variance(), "the variance from seed 42, twice");
            assertFalse(Arrays.equals(a.mean(), c.mean()), "seeds 42 and 43 drew the same masks");
            for (Layer l : m.layers()) {
                assertEquals(5, l.dropoutOffset(), "MC dropout moved the training offset of " + l.describe());
            }
            assertFalse(m.isTraining(), "MC dropout switched the model to training");
            assertEquals(n, a.rows());
            assertEquals(4, a.classes());
            assertEquals(6, a.samples());
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (int k = 0; k < 4; k++) {
                    sum += a.mean()[i * 4 + k];
                    assertTrue(a.variance()[i * 4 + k] >= 0f, "variance of row " + i + " class " + k);
                }
                assertEquals(1.0, sum, 1e-5, "the mean probabilities of row " + i);
            }
            assertTrue(a.meanVariance() > 0, "six passes with dropout 0.5 all agreed");
            assertThrows(IllegalArgumentException.class, () -> m.predictWithUncertainty(xt, 0, 1));
        }
    }

    /** One MC sample is one training-mode pass with the masks it reports, and its variance is 0. */
    @Test
    void oneMcSampleIsOneTrainingModePass() {
        int n = 9, in = 5, hidden = 11, classes = 3;
        float[] x = randoms(new Random(20), n * in);
        try (Sequential m = Sequential.builder(backend, in, 81).dense(hidden, Activation.elu(), 0.4f)
                .linear(classes).build();
             Tensor xt = backend.tensor(x, n, in)) {
            Dense first = (Dense) m.layers().get(0);
            Dense last = (Dense) m.layers().get(1);
            m.forward(xt);
            long trainingKey = first.lastDropout().seed();
            PredictiveUncertainty u = m.predictWithUncertainty(xt, 1, 7);
            Dropout used = first.lastDropout();
            assertTrue(used.training());
            assertEquals(0, used.offset(), "sample 0 draws at offset 0 of its own key");
            assertNotEquals(trainingKey, used.seed(), "MC dropout drew with the training key");
            float[] logits;
            try (Tensor z = backend.zeros(n, hidden);
                 Tensor h = backend.linear(xt, first.weight().value(), first.bias().value(), Activation.elu(), used, z);
                 Tensor o = backend.linear(h, last.weight().value(), last.bias().value(), Activation.identity(),
                         Dropout.eval(), null)) {
                logits = o.toArray();
            }
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int k = 0; k < classes; k++) {
                    max = Math.max(max, logits[i * classes + k]);
                }
                for (int k = 0; k < classes; k++) {
                    sum += Math.exp(logits[i * classes + k] - max);
                }
                for (int k = 0; k < classes; k++) {
                    double want = Math.exp(logits[i * classes + k] - max) / sum;
                    assertEquals(want, u.mean()[i * classes + k], 1e-6, "mean of row " + i + " class " + k);
                    assertEquals(0f, u.variance()[i * classes + k], "variance of one sample");
                }
            }
        }
    }

    /** Without dropout every pass is the evaluation pass: variance 0, and the MC accuracy is the plain one. */
    @Test
    void withoutDropoutMcVarianceIsZeroAndItsAccuracyIsTheDeterministicOne() {
        Blobs data = new Blobs(300, 26);
        try (Sequential m = Sequential.builder(backend, Blobs.FEATURES, 2).dense(16, Activation.relu(), 0f)
                .linear(Blobs.CLASSES).build()) {
            Training.UncertaintyResult u = Training.evaluateWithUncertainty(m, data.x, data.labels, 128, 4, 9);
            assertEquals(0.0, u.meanVariance(), "variance without dropout");
            assertEquals(Training.evaluate(m, data.x, data.labels, 128).accuracy(), u.accuracy(),
                    "accuracy of the MC mean without dropout");
            assertEquals(300, u.examples());
        }
        try (Sequential m = Sequential.builder(backend, Blobs.FEATURES, 2).dense(16, Activation.relu(), 0.5f)
                .linear(Blobs.CLASSES).build()) {
            Training.UncertaintyResult u = Training.evaluateWithUncertainty(m, data.x, data.labels, 128, 4, 9);
            assertTrue(u.meanVariance() > 0, "variance with dropout 0.5 is " + u.meanVariance());
            assertEquals(u, Training.evaluateWithUncertainty(m, data.x, data.labels, 128, 4, 9), "the same seed");
        }
    }

    // ---- reproducibility and checkpoints --------------------------------------------------------------------

    static Stream<String> optimizers() {
        return Stream.of("adam", "sgd");
    }

    private static Optimizer optimizer(String kind, Sequential m) {
        return kind.equals("adam") ? new Adam(m.parameters(), 3e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f)
                : new Sgd(m.parameters(), 0.05f, 0.9f, 1e-4f);
    }

    private Sequential smallModel(long seed) {
        return Sequential.builder(backend, Blobs.FEATURES, seed).dense(24, Activation.relu(), 0.5f)
                .dense(16, Activation.leakyRelu(0.05f), 0.25f).linear(Blobs.CLASSES).build();
    }

    @Test
    void oneSeedGivesOneRun() {
        Blobs data = new Blobs(256, 21);
        float[][] a = trainAndSnapshot(3, data, "adam", 2);
        float[][] b = trainAndSnapshot(3, data, "adam", 2);
        float[][] c = trainAndSnapshot(4, data, "adam", 2);
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i], "parameter " + i + " differs between two runs from seed 3");
        }
        assertNotEquals(java.util.Arrays.hashCode(a[0]), java.util.Arrays.hashCode(c[0]),
                "seeds 3 and 4 trained the same weights");
    }

    private float[][] trainAndSnapshot(long seed, Blobs data, String opt, int epochs) {
        try (Sequential m = smallModel(seed); Optimizer o = optimizer(opt, m)) {
            for (int e = 0; e < epochs; e++) {
                Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), seed, e), 32,
                        null);
            }
            return snapshot(m);
        }
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void resumedRunEqualsUninterruptedRunBitForBit(String opt, @TempDir Path dir) throws IOException {
        Blobs data = new Blobs(300, 22);
        long seed = 9;
        float[][] straight;
        double[] straightLoss = new double[3];
        try (Sequential m = smallModel(seed); Optimizer o = optimizer(opt, m)) {
            for (int e = 0; e < 3; e++) {
                straightLoss[e] = Training.trainEpoch(m, o, data.x, data.labels,
                        Training.shuffledOrder(data.size(), seed, e), 32, null).loss();
            }
            straight = snapshot(m);
        }
        Path ck = dir.resolve("run.ckpt");
        try (Sequential m = smallModel(seed); Optimizer o = optimizer(opt, m)) {
            for (int e = 0; e < 2; e++) {
                Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), seed, e), 32,
                        null);
            }
            Checkpoint.save(ck, m, o, 2);
        }
        try (Sequential m = smallModel(seed); Optimizer o = optimizer(opt, m)) {
            long done = Checkpoint.restore(ck, m, o);
            assertEquals(2, done);
            double loss = Training.trainEpoch(m, o, data.x, data.labels,
                    Training.shuffledOrder(data.size(), seed, done), 32, null).loss();
            assertEquals(straightLoss[2], loss, "the third epoch's loss differs after resuming");
            float[][] resumed = snapshot(m);
            for (int i = 0; i < straight.length; i++) {
                assertArrayEquals(straight[i], resumed[i], m.parameters().get(i).name()
                        + " differs between 3 straight epochs and 2 + resume + 1");
            }
        }
    }

    @Test
    void badCheckpointsAreRefusedAndChangeNothing(@TempDir Path dir) throws IOException {
        Blobs data = new Blobs(64, 23);
        Path good = dir.resolve("good.ckpt");
        try (Sequential m = smallModel(5); Optimizer o = optimizer("adam", m)) {
            Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), 5, 0), 16, null);
            Checkpoint.save(good, m, o, 1);
        }
        byte[] bytes = Files.readAllBytes(good);
        Path flipped = dir.resolve("flipped.ckpt");
        byte[] f = bytes.clone();
        f[f.length / 2] ^= 0x10;
        Files.write(flipped, f);
        Path truncated = dir.resolve("truncated.ckpt");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        // Well-formed files (valid CRC) whose contents do not fit: refused before anything is swapped in.
        Path renamed = dir.resolve("renamed.ckpt");
        Files.write(renamed, withFreshCrc(replace(bytes, "layer1.bias", "layer1.BIAS")));
        Path negative = dir.resolve("negative-offset.ckpt");
        byte[] neg = bytes.clone();
        java.nio.ByteBuffer.wrap(neg).putLong(firstOffsetPosition(neg), -1L);
        Files.write(negative, withFreshCrc(neg));
        Path foreign = dir.resolve("foreign.ckpt");
        Files.writeString(foreign, "not a checkpoint at all, just some text");

        try (Sequential m = smallModel(5); Optimizer o = optimizer("adam", m)) {
            float[][] before = snapshot(m);
            expectRefused(flipped, m, o, "corrupt or truncated");
            expectRefused(truncated, m, o, "corrupt or truncated");
            expectRefused(foreign, m, o, "not a Fuse4J checkpoint");
            expectRefused(renamed, m, o, "holds layer1.BIAS[16] where the model has layer1.bias[16]");
            expectRefused(negative, m, o, "dropout offset -1");
            try (Sequential twin = smallModel(5); Optimizer twins = optimizer("adam", twin)) {
                expectRefused(good, m, twins, "must update exactly the model's parameters");
            }
            expectRefused(dir.resolve("missing.ckpt"), m, o, "does not exist");
            try (Optimizer sgd = optimizer("sgd", m)) {
                expectRefused(good, m, sgd, "was written with optimizer adam(");
                assertEquals(0, sgd.steps());
            }
            float[][] after = snapshot(m);
            for (int i = 0; i < before.length; i++) {
                assertArrayEquals(before[i], after[i], "a refused checkpoint changed parameter " + i);
            }
            assertEquals(0, o.steps());
            m.layers().forEach(l -> assertEquals(0, l.dropoutOffset()));
        }
        try (Sequential other = Sequential.builder(backend, Blobs.FEATURES, 5).dense(25, Activation.relu(), 0.5f)
                .dense(16, Activation.leakyRelu(0.05f), 0.25f).linear(Blobs.CLASSES).build();
             Optimizer o = optimizer("adam", other)) {
            expectRefused(good, other, o, "holds a different model");
        }
    }

    /** A checkpoint names each layer's activation with its alpha: ELU(0.5) resumes, ELU(0.7) is refused. */
    @Test
    void aCheckpointKeepsTheActivationAndItsAlpha(@TempDir Path dir) throws IOException {
        Blobs data = new Blobs(64, 24);
        Path ck = dir.resolve("elu.ckpt");
        float[][] saved;
        try (Sequential m = eluModel(0.5f); Optimizer o = optimizer("adam", m)) {
            Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), 6, 0), 16, null);
            Checkpoint.save(ck, m, o, 1);
            saved = snapshot(m);
        }
        try (Sequential m = eluModel(0.5f); Optimizer o = optimizer("adam", m)) {
            assertEquals(1, Checkpoint.restore(ck, m, o));
            float[][] restored = snapshot(m);
            for (int i = 0; i < saved.length; i++) {
                assertArrayEquals(saved[i], restored[i], "parameter " + i + " after restoring");
            }
        }
        try (Sequential other = eluModel(0.7f); Optimizer o = optimizer("adam", other)) {
            expectRefused(ck, other, o, "holds a different model");
            expectRefused(ck, other, o, "elu(0.5)");
        }
    }

    /**
     * A PReLU layer's slopes are a parameter like the others: the optimizer moves them from PyTorch's 0.25, the
     * flat layout names them after the bias ({@code layer0_act.weight [12]}), and a checkpoint restores them, and
     * the optimizer's state for them, so the resumed step equals the uninterrupted one bit for bit.
     */
    @Test
    void preluSlopesAreTrainedLaidOutAndRestoredFromACheckpoint(@TempDir Path dir) throws IOException {
        Blobs data = new Blobs(64, 24);
        Path ck = dir.resolve("prelu.ckpt");
        int[] order = Training.shuffledOrder(data.size(), 6, 0);
        float[][] afterTwo;
        try (Sequential m = preluModel(); Optimizer o = optimizer("adam", m)) {
            List<ParameterSlot> layout = m.parameterLayout();
            assertEquals(List.of("layer0.weight", "layer0.bias", "layer0_act.weight", "layer1.weight", "layer1.bias"),
                    layout.stream().map(ParameterSlot::name).toList());
            assertArrayEquals(new int[] {12}, layout.get(2).shape());
            float[] initial = m.parameters().get(2).value().toArray();
            for (float v : initial) {
                assertEquals(0.25f, v, "PyTorch's initial PReLU slope");
            }
            Training.trainEpoch(m, o, data.x, data.labels, order, 16, null);
            float[] trained = m.parameters().get(2).value().toArray();
            assertFalse(Arrays.equals(initial, trained), "an epoch of Adam must move the slopes");
            assertArrayEquals(new int[] {12}, m.parameters().get(2).grad().shape());
            Checkpoint.save(ck, m, o, 1);
            Training.trainEpoch(m, o, data.x, data.labels, order, 16, null);
            afterTwo = snapshot(m);
        }
        try (Sequential m = preluModel(); Optimizer o = optimizer("adam", m)) {
            assertEquals(1, Checkpoint.restore(ck, m, o));
            Training.trainEpoch(m, o, data.x, data.labels, order, 16, null);
            float[][] resumed = snapshot(m);
            for (int i = 0; i < afterTwo.length; i++) {
                assertArrayEquals(afterTwo[i], resumed[i], "parameter " + i + " after a resumed epoch");
            }
        }
    }

    private Sequential preluModel() {
        return Sequential.builder(backend, Blobs.FEATURES, 6).dense(12, Activation.prelu(), 0.25f)
                .linear(Blobs.CLASSES).build();
    }

    /**
     * A DropConnect model's checkpoint names DropConnect in the model it records: it resumes bit for bit, and an
     * otherwise equal model with output dropout is refused.
     */
    @Test
    void aCheckpointRecordsDropConnectAndResumesItBitForBit(@TempDir Path dir) throws IOException {
        Blobs data = new Blobs(96, 25);
        Path ck = dir.resolve("dropconnect.ckpt");
        float[][] straight;
        try (Sequential m = dropConnectModel(true); Optimizer o = optimizer("adam", m)) {
            for (int e = 0; e < 2; e++) {
                Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), 7, e), 16, null);
            }
            straight = snapshot(m);
        }
        try (Sequential m = dropConnectModel(true); Optimizer o = optimizer("adam", m)) {
            Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), 7, 0), 16, null);
            Checkpoint.save(ck, m, o, 1);
        }
        try (Sequential m = dropConnectModel(true); Optimizer o = optimizer("adam", m)) {
            assertEquals(1, Checkpoint.restore(ck, m, o));
            Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), 7, 1), 16, null);
            float[][] resumed = snapshot(m);
            for (int i = 0; i < straight.length; i++) {
                assertArrayEquals(straight[i], resumed[i], m.parameters().get(i).name()
                        + " differs between 2 straight epochs and 1 + resume + 1");
            }
        }
        try (Sequential other = dropConnectModel(false); Optimizer o = optimizer("adam", other)) {
            expectRefused(ck, other, o, "holds a different model");
            expectRefused(ck, other, o, "dropconnect p=0.25");
        }
    }

    private Sequential dropConnectModel(boolean dropConnect) {
        Sequential.Builder b = Sequential.builder(backend, Blobs.FEATURES, 8);
        b = dropConnect ? b.denseDropConnect(12, Activation.relu(), 0.25f) : b.dense(12, Activation.relu(), 0.25f);
        return b.linear(Blobs.CLASSES).build();
    }

    private Sequential eluModel(float alpha) {
        return Sequential.builder(backend, Blobs.FEATURES, 6).dense(12, Activation.elu(alpha), 0.25f)
                .linear(Blobs.CLASSES).build();
    }

    private static byte[] replace(byte[] bytes, String from, String to) {
        byte[] f = from.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] t = to.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] out = bytes.clone();
        for (int i = 0; i + f.length <= out.length; i++) {
            if (java.util.Arrays.equals(out, i, i + f.length, f, 0, f.length)) {
                System.arraycopy(t, 0, out, i, t.length);
                return out;
            }
        }
        throw new AssertionError(from + " not found in the checkpoint");
    }

    /** Recomputes the closing CRC-32, so the file is well-formed and only its contents are wrong. */
    private static byte[] withFreshCrc(byte[] bytes) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes, 0, bytes.length - 8);
        java.nio.ByteBuffer.wrap(bytes).putLong(bytes.length - 8, crc.getValue());
        return bytes;
    }

    /** Magic, version, two length-prefixed descriptions, epochs, steps, layer count, then the offsets. */
    private static int firstOffsetPosition(byte[] b) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
        int pos = 8 + 4;
        for (int utf = 0; utf < 2; utf++) {
            pos += 2 + (buf.getShort(pos) & 0xFFFF);
        }
        return pos + 8 + 8 + 4;
    }

    private static void expectRefused(Path file, Sequential m, Optimizer o, String message) {
        Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class,
                () -> Checkpoint.restore(file, m, o));
        assertTrue(e.getMessage().contains(message), "message '" + e.getMessage() + "' lacks '" + message + "'");
    }

    // ---- learning, and misuse -------------------------------------------------------------------------------

    /** A stated bar: 10 Gaussian classes in 16 dimensions, 5 epochs of Adam with dropout, 90 % held out. */
    @Test
    void learnsASyntheticTaskToNinetyPercent() {
        Blobs train = new Blobs(2000, 31);
        Blobs val = train.sameCentres(500, 32);
        try (Sequential m = Sequential.builder(backend, Blobs.FEATURES, 1).dense(64, Activation.relu(), 0.2f)
                .dense(64, Activation.gelu(), 0.2f).linear(Blobs.CLASSES).build();
             Optimizer o = new Adam(m.parameters(), 3e-3f)) {
            double before = Training.evaluate(m, val.x, val.labels, 128).accuracy();
            Training.EpochResult r = null;
            for (int e = 0; e < 5; e++) {
                Training.trainEpoch(m, o, train.x, train.labels, Training.shuffledOrder(train.size(), 1, e), 64,
                        null);
                r = Training.evaluate(m, val.x, val.labels, 128);
            }
            assertTrue(r.accuracy() >= 0.9, "validation accuracy " + r.accuracy() + " after 5 epochs (was "
                    + before + " untrained)");
            assertTrue(m.isTraining(), "evaluate restores training mode");
        }
    }

    // ---- divergence ------------------------------------------------------------------------------------------

    /**
     * A run whose loss leaves the finite numbers stops there with an ArithmeticException naming the batch, rather than
     * training on NaN weights: here a learning rate so large that the weights overflow within a few steps.
     */
    @Test
    void aDivergingRunStopsWithArithmeticException() {
        Blobs train = new Blobs(640, 41);
        try (Sequential m = smallModel(3); Optimizer o = new Sgd(m.parameters(), 1e30f, 0.9f, 0f)) {
            ArithmeticException e = assertThrows(ArithmeticException.class, () -> Training.trainEpoch(m, o, train.x,
                    train.labels, Training.shuffledOrder(train.size(), 1, 0), 32, null));
            assertTrue(e.getMessage().startsWith("training diverged: the loss of batch ")
                    && e.getMessage().contains("lower the learning rate"), e.getMessage());
        }
    }

    /** One NaN input reaches the loss through GELU and the linear layer (DESIGN.md's NaN rule), at its own batch. */
    @Test
    void aNaNInputStopsTrainingAtItsBatch() {
        Blobs train = new Blobs(200, 42);
        int[] inOrder = new int[train.size()];
        for (int i = 0; i < inOrder.length; i++) {
            inOrder[i] = i;
        }
        train.x[(2 * 32 + 5) * Blobs.FEATURES + 3] = Float.NaN; // example 5 of batch 2
        try (Sequential m = Sequential.builder(backend, Blobs.FEATURES, 4).dense(16, Activation.gelu(), 0.1f)
                .linear(Blobs.CLASSES).build();
             Optimizer o = optimizer("adam", m)) {
            ArithmeticException e = assertThrows(ArithmeticException.class,
                    () -> Training.trainEpoch(m, o, train.x, train.labels, inOrder, 32, null));
            assertTrue(e.getMessage().startsWith("training diverged: the loss of batch 2 is NaN"), e.getMessage());
        }
    }

    @Test
    void misuseIsReportedWithTheOffendingValues() {
        try (Sequential m = smallModel(1); Optimizer o = optimizer("sgd", m)) {
            IllegalStateException noGrad = assertThrows(IllegalStateException.class, o::step);
            assertTrue(noGrad.getMessage().contains("layer0.weight"), noGrad.getMessage());
            try (Tensor wrong = backend.zeros(2, Blobs.FEATURES + 1)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(wrong));
                assertTrue(e.getMessage().contains("[2, " + (Blobs.FEATURES + 1) + "]"), e.getMessage());
            }
            try (Tensor x = backend.zeros(2, Blobs.FEATURES)) {
                IllegalArgumentException base = assertThrows(IllegalArgumentException.class, () -> m.forward(x, -3));
                assertTrue(base.getMessage().contains("-3"), base.getMessage());
                Layer first = m.layers().get(0);
                long tooFar = Long.MAX_VALUE / first.outFeatures() + 1;
                IllegalArgumentException far = assertThrows(IllegalArgumentException.class,
                        () -> first.forward(x, tooFar));
                assertTrue(far.getMessage().contains(Long.toString(tooFar)), far.getMessage());
            }
            IllegalArgumentException load = assertThrows(IllegalArgumentException.class,
                    () -> m.parameters().get(0).load(new float[3]));
            assertTrue(load.getMessage().contains("3 were given"), load.getMessage());
            IllegalArgumentException lr = assertThrows(IllegalArgumentException.class,
                    () -> new Adam(m.parameters(), -1f));
            assertTrue(lr.getMessage().contains("-1.0"), lr.getMessage());
            IllegalArgumentException beta = assertThrows(IllegalArgumentException.class,
                    () -> new Adam(m.parameters(), 1e-3f, 1f, 0.999f, 1e-8f, 0f));
            assertTrue(beta.getMessage().contains("beta1") && beta.getMessage().contains("1.0"), beta.getMessage());
            IllegalArgumentException data = assertThrows(IllegalArgumentException.class,
                    () -> Training.evaluate(m, new float[10], new float[3], 8));
            assertTrue(data.getMessage().contains("10 values"), data.getMessage());
        }
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder(backend, 4, 0).dense(3, Activation.relu(), 1f));
        assertTrue(p.getMessage().contains("1.0"), p.getMessage());
        try (Dense a = new Dense(backend, "a", 4, 5, Activation.relu(), 0f, 0, 0);
             Dense b = new Dense(backend, "b", 6, 2, Activation.relu(), 0f, 0, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Sequential(backend, List.of(a, b)));
            assertTrue(e.getMessage().contains("gives 5 features") && e.getMessage().contains("takes 6"),
                    e.getMessage());
        }
    }

    // ---- slices of a batch and flat parameters -----------------------------------------------------------

    /** A model with dropout in every hidden layer and odd widths, so slice bases fall on every residue mod 4. */
    private static Sequential splitModel(Backend be) {
        return Sequential.builder(be, 6, 21).dense(13, Activation.relu(), 0.5f)
                .dense(9, Activation.leakyRelu(0.1f), 0.3f).linear(5).build();
    }

    /**
     * N workers, each a replica of the model at the same offsets, compute rows {@code [r0, r0 + n)} of a batch of 37
     * with {@code forward(x, r0)} and the loss over the global size 37: their outputs, one after another, are the
     * whole batch's bit for bit (masks included), and their gradients summed are the whole batch's within the
     * contract bound. The sums are not bit-equal: the slices' partial sums are added in a different order from
     * the whole batch's, so each layer's gradient is allowed the float64 bound of its sum, three times over (the
     * whole batch's own error, and twice it for the n + N terms of the slices).
     */
    @Test
    void slicesOfABatchOnReplicasGiveTheWholeBatchsOutputAndGradients() {
        checkSlicesOnReplicas(NnContract::splitModel);
    }

    /** The same with DropConnect layers: one weight mask per step, whatever rows a replica computes. */
    @Test
    void slicesOfABatchOnReplicasWithDropConnectGiveTheWholeBatchsOutputAndGradients() {
        checkSlicesOnReplicas(be -> Sequential.builder(be, 6, 21).denseDropConnect(13, Activation.relu(), 0.5f)
                .denseDropConnect(9, Activation.leakyRelu(0.1f), 0.3f).linear(5).build());
    }

    private void checkSlicesOnReplicas(Function<Backend, Sequential> model) {
        int n = 37, in = 6;
        Random r = new Random(23);
        float[] x = randoms(r, n * in);
        float[] labels = new float[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(5);
        }
        float[] wholeOut;
        float[] wholeGrads;
        double[] gradBound;
        try (Sequential m = model.apply(backend); Tensor xt = backend.tensor(x, n, in);
             Tensor lab = backend.tensor(labels, n)) {
            Tensor logits = m.forward(xt);
            wholeOut = logits.toArray();
            try (CrossEntropy ce = backend.softmaxCrossEntropy(logits, lab, n)) {
                gradBound = gradientBounds(m, x, ce.grad().toArray());
                m.backward(ce.grad());
            }
            wholeGrads = m.exportGradients();
        }
        for (int[] sizes : new int[][] {{37}, {1, 17, 19}, {10, 9, 9, 9}, {36, 1}}) {
            float[] gradSum = new float[wholeGrads.length];
            int r0 = 0;
            for (int rows : sizes) {
                String what = "rows " + r0 + ".." + (r0 + rows) + " of " + n + " split " + Arrays.toString(sizes);
                try (Sequential replica = model.apply(backend);
                     Tensor xt = backend.tensor(Arrays.copyOfRange(x, r0 * in, (r0 + rows) * in), rows, in);
                     Tensor lab = backend.tensor(Arrays.copyOfRange(labels, r0, r0 + rows), rows)) {
                    Tensor logits = replica.forward(xt, r0);
                    assertArrayEquals(Arrays.copyOfRange(wholeOut, r0 * 5, (r0 + rows) * 5), logits.toArray(),
                            "output of " + what);
                    try (CrossEntropy ce = backend.softmaxCrossEntropy(logits, lab, n)) {
                        replica.backward(ce.grad());
                    }
                    float[] g = replica.exportGradients();
                    for (int e = 0; e < g.length; e++) {
                        gradSum[e] += g[e];
                    }
                }
                r0 += rows;
            }
            for (int e = 0; e < gradSum.length; e++) {
                if (!(Math.abs(gradSum[e] - wholeGrads[e]) <= 3 * gradBound[e])) {
                    fail("gradient element " + e + " summed over slices " + Arrays.toString(sizes) + " is "
                            + gradSum[e] + " but the whole batch's is " + wholeGrads[e] + " (bound "
                            + 3 * gradBound[e] + ")");
                }
            }
        }
    }

    /**
     * The float64 bound of every gradient of {@code m}'s last forward pass on {@code x}, in the flat layout, from
     * the loss gradient {@code dLogits}: the layers' backward in float64 ({@link Reference#backward}) from each
     * layer's own output, each layer's {@code dy} being the float64 {@code dx} of the layer above. Activations
     * whose backward needs no pre-activation only.
     */
    private static double[] gradientBounds(Sequential m, float[] x, float[] dLogits) {
        List<Layer> layers = m.layers();
        int n = x.length / m.inFeatures();
        double[][] bounds = new double[2 * layers.size()][];
        float[] dy = dLogits;
        for (int l = layers.size() - 1; l >= 0; l--) {
            Dense d = (Dense) layers.get(l);
            float[] in = l == 0 ? x : ((Dense) layers.get(l - 1)).lastOutput().toArray();
            Dropout drop = d.lastDropout();
            Reference.Backward b = Reference.backward(dy, in, d.weight().value().toArray(),
                    d.lastOutput().toArray(), null, Reference.mask(n, d.outFeatures(), drop), n, d.inFeatures(),
                    d.outFeatures(), d.activation(), drop);
            bounds[2 * l] = b.dw().bound();
            bounds[2 * l + 1] = b.db().bound();
            double[] dx = b.dx().value();
            dy = new float[dx.length];
            for (int e = 0; e < dx.length; e++) {
                dy[e] = (float) dx[e];
            }
        }
        return Arrays.stream(bounds).flatMapToDouble(Arrays::stream).toArray();
    }

    @Test
    void parametersAndGradientsCrossToTheHostInOneArray() {
        int n = 7, in = 6;
        float[] x = randoms(new Random(29), n * in);
        try (Sequential a = splitModel(backend);
             Sequential b = Sequential.builder(backend, 6, 99).dense(13, Activation.relu(), 0.5f)
                     .dense(9, Activation.leakyRelu(0.1f), 0.3f).linear(5).build();
             Tensor xt = backend.tensor(x, n, in)) {
            List<ParameterSlot> layout = a.parameterLayout();
            List<Parameter> ps = a.parameters();
            float[] flat = a.exportParameters();
            assertEquals(a.parameterCount(), flat.length, "flat length");
            int offset = 0;
            for (int i = 0; i < ps.size(); i++) {
                ParameterSlot slot = layout.get(i);
                assertEquals(ps.get(i).name(), slot.name());
                assertArrayEquals(ps.get(i).shape(), slot.shape(), slot.name());
                assertEquals(offset, slot.offset(), slot.name() + " offset");
                assertArrayEquals(ps.get(i).value().toArray(),
                        Arrays.copyOfRange(flat, offset, offset + slot.size()), slot.name() + " values");
                offset += slot.size();
            }
            assertEquals(flat.length, offset, "the slots cover the flat array");

            IllegalStateException noGrad = assertThrows(IllegalStateException.class, b::exportGradients);
            assertTrue(noGrad.getMessage().contains("layer0.weight"), noGrad.getMessage());
            b.loadParameters(flat);
            assertArrayEquals(flat, b.exportParameters(), "round trip");
            // In evaluation: the dropout keys come from each model's seed, and only the values cross.
            float[] outA = a.eval().forward(xt).toArray();
            assertArrayEquals(outA, b.eval().forward(xt).toArray(),
                    "a loaded model computes the exported one's output");

            try (Tensor dy = backend.tensor(randoms(new Random(31), n * 5), n, 5)) {
                a.backward(dy);
            }
            float[] grads = a.exportGradients();
            for (ParameterSlot slot : layout) {
                Parameter p = ps.get(layout.indexOf(slot));
                assertArrayEquals(p.grad().toArray(),
                        Arrays.copyOfRange(grads, slot.offset(), slot.offset() + slot.size()), slot.name() + " grad");
            }

            // Gradients loaded into another model with the same values: it holds them, and its optimizer takes
            // the step that a's takes from its own backward.
            b.loadParameters(flat);
            b.loadGradients(grads);
            assertArrayEquals(grads, b.exportGradients(), "gradients round trip");
            try (Optimizer oa = new Sgd(a.parameters(), 0.05f, 0.9f, 1e-4f);
                 Optimizer ob = new Sgd(b.parameters(), 0.05f, 0.9f, 1e-4f)) {
                oa.step();
                ob.step();
            }
            assertArrayEquals(a.exportParameters(), b.exportParameters(), "a step from loaded gradients");
            assertFalse(Arrays.equals(flat, b.exportParameters()), "the step changed the parameters");

            float[] before = b.exportParameters();
            for (float[] wrong : new float[][] {new float[flat.length - 1], new float[flat.length + 1], null}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> b.loadParameters(wrong));
                assertTrue(e.getMessage().contains(flat.length + " parameter values but "
                        + (wrong == null ? "null" : wrong.length + " values")), e.getMessage());
                IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                        () -> b.loadGradients(wrong));
                assertTrue(g.getMessage().contains(flat.length + " parameter values but "
                        + (wrong == null ? "null" : wrong.length + " gradient values")), g.getMessage());
            }
            assertArrayEquals(before, b.exportParameters(), "a refused load changes nothing");
            assertArrayEquals(grads, b.exportGradients(), "a refused gradient load changes nothing");
        }
    }

    /**
     * Parameters exported on another backend and loaded here: the round trip is bit-exact, and the model computes,
     * layer by layer, what those parameters define (dropout included), within the contract bound from each
     * layer's own input.
     */
    @Test
    void aModelLoadedFromAnotherBackendsExportComputesItsForward() {
        int n = 11, in = 6;
        float[] x = randoms(new Random(37), n * in);
        Backend other = Backends.get(backend.name().equals("cpu-scalar") ? "cpu" : "cpu-scalar");
        float[] flat;
        try (Sequential there = Sequential.builder(other, 6, 77).dense(13, Activation.relu(), 0.5f)
                .dense(9, Activation.leakyRelu(0.1f), 0.3f).linear(5).build()) {
            flat = there.exportParameters();
        }
        try (Sequential here = splitModel(backend); Tensor xt = backend.tensor(x, n, in)) {
            here.loadParameters(flat);
            assertArrayEquals(flat, here.exportParameters(), "round trip from " + other.name());
            here.forward(xt, 3);
            float[] h = x;
            for (Layer l : here.layers()) {
                Dense d = (Dense) l;
                float[] y = d.lastOutput().toArray();
                Expected want = Reference.forward(h, d.weight().value().toArray(), d.bias().value().toArray(), n,
                        d.inFeatures(), d.outFeatures(), d.activation(), d.lastDropout()).y();
                int e = want.firstViolation(y);
                if (e >= 0) {
                    fail(d.describe() + " output " + e + " is " + y[e] + " but float64 gives " + want.value()[e]
                            + " (bound " + want.bound()[e] + ")");
                }
                h = y;
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** Gaussian clusters around random centres: a small task a working MLP learns in a few epochs. */
    static final class Blobs {
        static final int FEATURES = 16;
        static final int CLASSES = 10;
        final float[] x;
        final float[] labels;
        private final float[] centres;

        Blobs(int n, long seed) {
            this(n, seed, centres(seed));
        }

        private Blobs(int n, long seed, float[] centres) {
            this.centres = centres;
            Random r = new Random(seed * 31 + 7);
            x = new float[n * FEATURES];
            labels = new float[n];
            for (int i = 0; i < n; i++) {
                int c = r.nextInt(CLASSES);
                labels[i] = c;
                for (int f = 0; f < FEATURES; f++) {
                    x[i * FEATURES + f] = centres[c * FEATURES + f] + (float) r.nextGaussian();
                }
            }
        }

        private static float[] centres(long seed) {
            Random r = new Random(seed);
            float[] c = new float[CLASSES * FEATURES];
            for (int i = 0; i < c.length; i++) {
                c[i] = (float) (1.5 * r.nextGaussian());
            }
            return c;
        }

        Blobs sameCentres(int n, long seed) {
            return new Blobs(n, seed, centres);
        }

        int size() {
            return labels.length;
        }
    }

    private static float[][] snapshot(Sequential m) {
        List<Parameter> ps = m.parameters();
        float[][] s = new float[ps.size()][];
        for (int i = 0; i < s.length; i++) {
            s[i] = ps.get(i).value().toArray();
        }
        return s;
    }

    static float[] randoms(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    static double difference(Function<float[][], Double> loss, float[][] at, int t, int i) {
        float saved = at[t][i];
        try {
            at[t][i] = (float) (saved + H);
            double plus = loss.apply(at);
            at[t][i] = (float) (saved - H);
            double minus = loss.apply(at);
            return (plus - minus) / (2 * H);
        } finally {
            at[t][i] = saved;
            loss.apply(at);
        }
    }

    static void assertClose(double fd, float analytic, String what) {
        double tol = 2e-3 + 1e-2 * Math.abs(fd);
        assertTrue(Math.abs(fd - analytic) <= tol, what + ": finite difference " + fd + ", backward " + analytic);
    }

    /**
     * Whether perturbing coordinate {@code i} of tensor {@code t} (0 w, 1 b, 2 x, 3 PReLU's slopes) by ±H moves a z
     * across 0; a slope moves no z (the loss is linear in it).
     */
    private static boolean nearKink(double[] z, int t, int i, float[] x, float[] w, int n, int in, int out) {
        if (t == 3) {
            return false;
        }
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double slope = switch (t) {
                    case 0 -> o == i / in ? x[r * in + i % in] : 0;
                    case 1 -> o == i ? 1 : 0;
                    default -> r == i / in ? w[o * in + i % in] : 0;
                };
                if (slope != 0 && Math.abs(z[r * out + o]) <= Math.abs(slope) * H * 1.01) {
                    return true;
                }
            }
        }
        return false;
    }
}
