package dev.fuse4j.kernels;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;

/**
 * The operations of a GPU backend, written once for OpenCL and CUDA: each queues its kernels in a call of the
 * device's record and returns; only {@code crossEntropy} waits, for the two numbers it returns (see "How the GPU
 * backends run work" in docs/DESIGN.md). A backend supplies its device, its GEMM, the elementwise launches and its
 * tensors.
 *
 * @param <T> the backend's tensor class
 * @param <B> the device's buffer handle
 */
public abstract class GpuBackend<T extends GpuTensor<B>, B> extends AbstractBackend<T> {

    /** The launchers a backend builds for its device. */
    public record Kernels<B>(GpuGemm<B> gemm, ElementwiseKernels<B> elementwise) {
    }

    private final GpuDevice<B> dev;
    private final GpuGemm<B> gemm;
    private final ElementwiseKernels<B> elementwise;
    /** The row chunks' partial sums of PReLU's slope gradient. */
    private final Scratch<B> slopePartials;
    /** The GEMM tiles' shifted sums of batch norm's statistics. */
    private final Scratch<B> statisticsPartials;

    protected GpuBackend(String name, Class<T> tensorClass, GpuDevice<B> dev, Kernels<B> kernels) {
        super(name, tensorClass);
        this.dev = dev;
        this.gemm = kernels.gemm();
        this.elementwise = kernels.elementwise();
        this.slopePartials = new Scratch<>(dev::allocate, dev::free);
        this.statisticsPartials = new Scratch<>(dev::allocate, dev::free);
        // The scratch buffers go back when an allocation does not fit, unless the allocation is the scratch's own
        // (inside a call, whose launches may already hold the other scratch buffer).
        dev.memory().onPressure(() -> {
            if (!dev.calls().isHeldByCurrentThread()) {
                dev.calls().queue(new CallName("giving back scratch memory"), () -> {
                    gemm.giveBackScratch();
                    slopePartials.giveBack();
                    statisticsPartials.giveBack();
                });
            }
        });
    }

    /** The device buffer of {@code t}. */
    private B buffer(T t) {
        return t.buffer();
    }

    /** The GEMM's geometry in words, for {@link #device()}. */
    protected final String gemmDescription() {
        return gemm.describe();
    }

    @Override
    protected final T allocateZeros(int[] shape) {
        T t = allocate(shape);
        try {
            dev.calls().queue(new CallName("zeros", shape), () -> dev.fillZero(buffer(t), t.size()));
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    @Override
    protected final void forward(LinearShape s, T x, T w, T b, Activation act, Dropout d, T y, T z) {
        dev.calls().queue(new CallName("linear", s, act, d),
                () -> gemm.forward(s, buffer(x), buffer(w), buffer(b), buffer(y), orNull(z), act, d));
    }

    @Override
    protected final void backward(LinearShape s, T dy, T x, T w, T y, T z, Activation act, Dropout d, T dx, T dw,
                                  T db) {
        dev.calls().queue(new CallName("linearBackward", s, act, d), () -> {
            if (dx != null) {
                gemm.dx(s, buffer(dy), buffer(y), orNull(z), buffer(w), buffer(dx), act, d);
            }
            gemm.dw(s, buffer(dy), buffer(y), orNull(z), buffer(x), buffer(dw), buffer(db), act, d);
        });
    }

    /** Row chunks summed per column in parallel, then the chunks added in order: the result does not vary by run. */
    @Override
    protected final void slopeGradient(LinearShape s, T dy, T z, Dropout d, T da) {
        dev.calls().queue(new CallName("linearBackward PReLU slope gradient", s, d), () -> {
            int[] plan = ElementwiseKernels.slopeGradientChunks(s.n());
            int chunks = plan[0];
            B partial = chunks == 1 ? buffer(da) : slopePartials.atLeast((long) chunks * s.out());
            elementwise.preluSlopeGradient(s.n(), s.out(), plan[1], chunks, buffer(dy), buffer(z), partial, d);
            if (chunks > 1) {
                elementwise.sumSlices(chunks, s.out(), partial, buffer(da));
            }
        });
    }

    @Override
    protected final void mask(int rows, int cols, Dropout d, T out) {
        dev.calls().queue(new CallName("dropoutMask", rows + "x" + cols, d),
                () -> elementwise.dropoutMask((long) rows * cols, buffer(out), d));
    }

    @Override
    protected final void applyDropout(int rows, int cols, T x, Dropout d, T out) {
        dev.calls().queue(new CallName("dropout", rows + "x" + cols, d),
                () -> elementwise.dropout((long) rows * cols, buffer(x), buffer(out), d));
    }

    @Override
    protected final double[] crossEntropy(int n, int classes, int batchSize, T logits, T labels, T grad) {
        CallName call = new CallName("softmaxCrossEntropy", n + "x" + classes);
        B rowLoss = dev.allocate(n);
        B rowCorrect = dev.allocate(n);
        B sums = dev.allocate(2);
        try {
            dev.calls().queue(call, () -> {
                elementwise.softmaxCrossEntropyRows(n, classes, batchSize, buffer(logits), buffer(labels), buffer(grad),
                        rowLoss, rowCorrect);
                elementwise.sum2(n, rowLoss, rowCorrect, sums);
            });
            float[] two = dev.read(sums, 2, call); // only the two sums cross to the host
            return new double[] {two[0] / batchSize, Math.round(two[1])};
        } finally {
            dev.free(rowLoss);
            dev.free(rowCorrect);
            dev.free(sums);
        }
    }

    @Override
    protected final void sgd(T param, T grad, T velocity, float lr, float momentum, float weightDecay) {
        dev.calls().queue(new CallName("sgdStep", param.shapeView()), () -> elementwise.sgd((int) param.size(),
                buffer(param), buffer(grad), buffer(velocity), lr, momentum, weightDecay));
    }

    @Override
    protected final void adam(T param, T grad, T m, T v, float lr, float beta1, float beta2, float eps,
                              float weightDecay, long step) {
        dev.calls().queue(new CallName("adamStep", param.shapeView()), () -> elementwise.adam((int) param.size(),
                buffer(param), buffer(grad), buffer(m), buffer(v), lr, beta1, beta2, eps, weightDecay, step));
    }

    @Override
    protected final void batchNormStatistics(int n, int out, T z, T stats) {
        dev.calls().queue(new CallName("batchNormStatistics", z.shapeView()),
                () -> elementwise.batchNormStatistics(n, out, buffer(z), buffer(stats)));
    }

    /**
     * The GEMM writes z and each row tile's shifted sums as it stores the tile; {@code bn_stats_merge} then merges the
     * tiles in order: no second pass over z.
     */
    @Override
    protected final void linearStatistics(LinearShape s, T x, T w, T b, T z, T stats) {
        dev.calls().queue(new CallName("linearWithStatistics", s), () -> {
            int rows = gemm.statisticsRows(s);
            B part = statisticsPartials.atLeast(2L * Math.ceilDiv(s.n(), rows) * s.out());
            gemm.forwardWithStatistics(s, buffer(x), buffer(w), buffer(b), buffer(z), part);
            elementwise.batchNormMergeStatistics(s.n(), s.out(), rows, buffer(z), part, buffer(stats));
        });
    }

    @Override
    protected final void batchNormForward(int n, int out, T z, T stats, T gamma, T beta, float eps, Activation act,
                                          Dropout d, T y) {
        dev.calls().queue(new CallName("batchNormActivation", n + "x" + out, act, d),
                () -> elementwise.batchNormForward(n, out, buffer(z), buffer(stats), buffer(gamma), buffer(beta), eps,
                        act, d, buffer(y)));
    }

    @Override
    protected final void batchNormBackward(int n, int out, T dy, T y, T z, T stats, T gamma, T beta, float eps,
                                           Activation act, Dropout d, T dz, T dgamma, T dbeta) {
        dev.calls().queue(new CallName("batchNormBackward", n + "x" + out, act, d),
                () -> elementwise.batchNormBackward(n, out, buffer(dy), buffer(y), buffer(z), buffer(stats),
                        buffer(gamma), buffer(beta), eps, act, d, buffer(dz), buffer(dgamma), buffer(dbeta)));
    }

    @Override
    public final void synchronize() {
        dev.finish(new CallName("synchronize"));
    }

    private B orNull(T t) {
        return t == null ? null : buffer(t);
    }
}
