package dev.fuse4j.kernels;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;

/**
 * One kernel launch being prepared: arguments appended in the order of the kernel's parameters, then queued. Each
 * GPU backend supplies the four kinds of value and the enqueue; the argument groups every fused kernel shares (the
 * activation, the dropout words, DropConnect's weight-mask words) are appended here, in the order
 * {@code fuse4j_common.h} declares them.
 *
 * @param <B> the backend's buffer handle
 * @param <L> the backend's launch class, so that chained calls keep its own methods
 */
public abstract class Launch<B, L extends Launch<B, L>> {

    /** A device buffer; {@code null} passes a null pointer (a kernel's optional output). */
    public abstract L buffer(B buffer);

    public abstract L i32(int value);

    /** A 64-bit integer, for {@code long} and {@code ulong} parameters alike. */
    public abstract L i64(long value);

    public abstract L f32(float value);

    /** Queues the kernel over {@code groups} one-dimensional work-groups (blocks) of {@code size} work-items. */
    public abstract void run(long groups, int size);

    /** Queues one work-item per item in groups of {@code size}; the kernel ignores the last group's surplus. */
    public final void over(long items, int size) {
        run(Math.ceilDiv(items, size), size);
    }

    /**
     * {@code F4J_ACTIVATION_PARAMS}: the activation's kind, its slope, and PReLU's slope tensor (a null pointer for
     * the other kinds).
     */
    public final L activation(Activation act) {
        return i32(act.kind().ordinal()).f32(act.alpha()).buffer(slopeBuffer(act));
    }

    /** PReLU's slopes as a buffer of this launch's backend, which checked that the tensor is its own; else null. */
    @SuppressWarnings("unchecked")
    private B slopeBuffer(Activation act) {
        return act.slope() == null ? null : ((GpuTensor<B>) act.slope()).buffer();
    }

    /**
     * {@code F4J_DROPOUT_PARAMS}: scale, training flag, keep threshold, seed, offset and element base of
     * {@code d}, then the variational period and channel dropout's features per channel, the words every kernel
     * that draws a mask takes last. {@code d} must be bound to the call's columns (as {@code AbstractBackend} does).
     */
    public final L dropout(Dropout d) {
        Dropout o = d.onOutputs(); // DropConnect leaves the outputs unmasked: its words go to weightMask
        return f32(o.scale()).i32(o.training() ? 1 : 0).i64(o.threshold()).i64(o.seed()).i64(o.offset())
                .i64(o.elementBase()).i64(o.maskPeriod()).i64(o.featuresPerChannel());
    }

    /**
     * {@code F4J_WEIGHT_MASK_PARAMS}: whether {@code d} is DropConnect, then its scale, keep threshold, seed and
     * offset, the words the GEMM and mask kernels take right after the dropout words; all 0 without DropConnect.
     */
    public final L weightMask(Dropout d) {
        boolean on = d.dropConnect();
        return i32(on ? 1 : 0).f32(on ? d.scale() : 0f).i64(on ? d.threshold() : 0L).i64(on ? d.seed() : 0L)
                .i64(on ? d.offset() : 0L);
    }
}
