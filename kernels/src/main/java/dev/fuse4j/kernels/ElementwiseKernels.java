package dev.fuse4j.kernels;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;

import java.util.List;
import java.util.function.Function;

/**
 * The kernels of {@code elementwise.h}, launched by name with their arguments: one text of the kernels, and one
 * of the launches, for both GPU backends. Each method queues its kernel and returns.
 *
 * @param <B> the backend's buffer handle
 */
public final class ElementwiseKernels<B> {
    /** The kernels {@code elementwise.h} defines. */
    public static final List<String> NAMES = List.of("dropout_mask", "dropout_apply", "softmax_xent_rows", "sum2",
            "sum_slices", "sgd_step", "adam_step", "prelu_slope_grad", "bn_stats", "bn_forward", "bn_backward_sums",
            "bn_backward_dz", "bn_stats_merge");
    /** PReLU's slope gradient sums rows in chunks of at least this many, and in at most this many chunks. */
    private static final int SLOPE_MIN_ROWS = 64;
    private static final int SLOPE_MAX_CHUNKS = 1024;

    private final Function<String, ? extends Launch<B, ?>> launcher;
    private final int group;
    private final int reduceSize;

    /**
     * @param launcher   a launch of the named kernel, under the call being queued
     * @param group      work-items per group of the one-dimensional kernels
     * @param reduceSize the work-items of {@code sum2}'s single group: {@code RED} as the kernels were built with it
     */
    public ElementwiseKernels(Function<String, ? extends Launch<B, ?>> launcher, int group, int reduceSize) {
        this.launcher = launcher;
        this.group = group;
        this.reduceSize = reduceSize;
    }

    /**
     * {@code out[i]} = 1 where mask element {@code d.elementBase() + i} is kept, else 0, for {@code i < total}; with
     * DropConnect, where weight element {@code i} is kept.
     */
    public void dropoutMask(long total, B out, Dropout d) {
        launcher.apply("dropout_mask").i64(total).buffer(out).dropout(d).weightMask(d)
                .over(maskBlocks(total, d), group);
    }

    /** {@code out[i]} = {@code x[i]·scale} where mask element {@code d.elementBase() + i} is kept, else 0. */
    public void dropout(long total, B x, B out, Dropout d) {
        launcher.apply("dropout_apply").i64(total).buffer(x).buffer(out).dropout(d).over(maskBlocks(total, d), group);
    }

    /** Philox blocks the mask elements {@code [base, base + total)} touch: one work-item each. */
    static long maskBlocks(long total, Dropout d) {
        return ((d.elementBase() & 3) + total + 3) / 4;
    }

    /**
     * Per row: the softmax gradient divided by {@code batch} (the whole batch's rows) into {@code grad}, the loss
     * and whether the arg-max hit the label.
     */
    public void softmaxCrossEntropyRows(int n, int classes, int batch, B logits, B labels, B grad, B rowLoss,
                                        B rowCorrect) {
        launcher.apply("softmax_xent_rows").i32(n).i32(classes).i32(batch).buffer(logits).buffer(labels).buffer(grad)
                .buffer(rowLoss).buffer(rowCorrect).over(n, group);
    }

    /** {@code out[0..1]} = the sums of {@code a[0..n)} and {@code b[0..n)}, in one group. */
    public void sum2(int n, B a, B b, B out) {
        launcher.apply("sum2").i32(n).buffer(a).buffer(b).buffer(out).run(1, reduceSize);
    }

    /** {@code out[i]} = the sum over {@code s < slices} of {@code parts[s·len + i]}, in order of {@code s}. */
    public void sumSlices(int slices, long len, B parts, B out) {
        launcher.apply("sum_slices").i32(slices).i64(len).buffer(parts).buffer(out).over(len, group);
    }

    /**
     * The row chunks PReLU's slope gradient of an {@code n}-row output is summed in: {@code n} rows for one chunk up
     * to {@code 2·SLOPE_MIN_ROWS} rows, more chunks (at most {@code SLOPE_MAX_CHUNKS}) for taller outputs.
     *
     * @return {@code {chunks, rows per chunk}}
     */
    public static int[] slopeGradientChunks(int n) {
        int chunks = Math.min(SLOPE_MAX_CHUNKS, Math.max(1, n / SLOPE_MIN_ROWS));
        int rows = Math.ceilDiv(n, chunks);
        return new int[] {Math.ceilDiv(n, rows), rows};
    }

    /**
     * PReLU's slope gradient of an {@code [n × out]} output from {@code dy} and the stored {@code z}: the sums of
     * each chunk of {@code rows} rows into {@code partial [chunks × out]} ({@link #slopeGradientChunks}), which
     * {@link #sumSlices} then adds up in order.
     */
    public void preluSlopeGradient(int n, int out, int rows, int chunks, B dy, B z, B partial, Dropout d) {
        launcher.apply("prelu_slope_grad").i32(n).i32(out).i32(rows).i32(chunks).buffer(dy).buffer(z).buffer(partial)
                .dropout(d).over((long) chunks * out, group);
    }

    /** PyTorch's SGD step with momentum and L2 weight decay, in place on {@code p} and {@code v}. */
    public void sgd(int len, B p, B g, B v, float lr, float momentum, float weightDecay) {
        launcher.apply("sgd_step").i32(len).buffer(p).buffer(g).buffer(v).f32(lr).f32(momentum).f32(weightDecay)
                .over(len, group);
    }

    /** PyTorch's Adam step number {@code step} (from 1) with L2 weight decay, in place on {@code p, m, v}. */
    public void adam(int len, B p, B g, B m, B v, float lr, float beta1, float beta2, float eps, float weightDecay,
                     long step) {
        // The bias corrections in double on the host, as the CPU backend computes them.
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        launcher.apply("adam_step").i32(len).buffer(p).buffer(g).buffer(m).buffer(v).f32(lr).f32(beta1).f32(beta2)
                .f32(eps).f32(weightDecay).f32(c1).f32(c2).over(len, group);
    }
    /** Batch norm's statistics of {@code z [n, out]}: {@code stats [2, out]}, the means then the biased variances. */
    public void batchNormStatistics(int n, int out, B z, B stats) {
        launcher.apply("bn_stats").i32(n).i32(out).buffer(z).buffer(stats).over(out, group);
    }

    /**
     * Batch norm's statistics of {@code z [n, out]} into {@code stats [2, out]} from the GEMM's per-tile sums
     * {@code part [ceil(n / rows), 2, out]} (each tile's {@code rows} rows, shifted by its first row), the tiles merged
     * in order.
     */
    public void batchNormMergeStatistics(int n, int out, int rows, B z, B part, B stats) {
        launcher.apply("bn_stats_merge").i32(n).i32(out).i32(rows).buffer(z).buffer(part).buffer(stats)
                .over(out, group);
    }

    /** {@code y = dropout(act(gamma·(z − mean)/√(var + eps) + beta))} over {@code z [n, out]}. */
    public void batchNormForward(int n, int out, B z, B stats, B gamma, B beta, float eps, Activation act, Dropout d,
                                 B y) {
        launcher.apply("bn_forward").i32(n).i32(out).buffer(z).buffer(stats).buffer(gamma).buffer(beta).f32(eps)
                .activation(act).buffer(y).dropout(d).over((long) n * out, group);
    }

    /** Batch norm's backward: {@code dgamma, dbeta} per feature, then {@code dz} from them. */
    public void batchNormBackward(int n, int out, B dy, B y, B z, B stats, B gamma, B beta, float eps, Activation act,
                                  Dropout d, B dz, B dgamma, B dbeta) {
        launcher.apply("bn_backward_sums").i32(n).i32(out).buffer(dy).buffer(y).buffer(z).buffer(stats).buffer(gamma)
                .buffer(beta).f32(eps).activation(act).buffer(dgamma).buffer(dbeta).dropout(d).over(out, group);
        launcher.apply("bn_backward_dz").i32(n).i32(out).buffer(dy).buffer(y).buffer(z).buffer(stats).buffer(gamma)
                .buffer(beta).f32(eps).activation(act).buffer(dgamma).buffer(dbeta).buffer(dz).dropout(d)
                .over((long) n * out, group);
    }
}
