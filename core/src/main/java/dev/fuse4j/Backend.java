package dev.fuse4j;

import java.nio.FloatBuffer;

/**
 * One compute device behind the Fuse4J API. Obtain it from {@link Backends}. Safe to call from several threads
 * at once; a tensor is not shared between threads while one of them writes it.
 *
 * <p>Shapes: {@code x [n, in]}, {@code w [out, in]} (the nn.Linear layout), {@code b [out]}, {@code y [n, out]},
 * all row-major float32. See docs/DESIGN.md for the exact formulas and the dropout mask contract.
 *
 * <p>An allocation the device cannot hold is refused with {@link DeviceMemoryException}, after any memory the
 * backend keeps cached has been given back; the backend and its tensors stay usable.
 */
public interface Backend {

    /** The name {@link Backends#get(String)} takes for this backend, such as {@code cpu} or {@code opencl:0}. */
    String name();

    /** A one-line description of the device. */
    String device();

    /** A new tensor holding a copy of {@code data}, whose length must equal the product of {@code shape}. */
    Tensor tensor(float[] data, int... shape);

    /**
     * A new tensor holding a copy of the floats of {@code data} between its position and its limit, whose count
     * must equal the product of {@code shape}; the buffer (heap or direct) is left as it was and may be reused
     * once this returns. See {@link Tensor} for how each kind of buffer is copied.
     */
    Tensor tensor(FloatBuffer data, int... shape);

    /** A new tensor of zeros. */
    Tensor zeros(int... shape);

    /** The flagship: {@code y = dropout(relu(x·wᵀ + b))}, shape {@code [n, out]}. */
    default Tensor linearReluDropout(Tensor x, Tensor w, Tensor b, Dropout d) {
        return linear(x, w, b, Activation.relu(), d, null);
    }

    /**
     * Backward of {@link #linearReluDropout} from {@code dy [n, out]} and the forward output {@code y}:
     * {@code dz = 0} where {@code y <= 0}, else {@code dy·s} (so a NaN y passes the gradient, as PyTorch's);
     * {@code dx = dz·W}, {@code dw = dzᵀ·X}, {@code db = Σ_i dz}.
     */
    default LinearGrads linearReluDropoutBackward(Tensor dy, Tensor x, Tensor w, Tensor y, Dropout d) {
        return linearBackward(dy, x, w, y, null, Activation.relu(), d);
    }

    /**
     * {@code y = dropout(act(z))} with {@code z = x·wᵀ + b}, fused in one pass over the output. With
     * {@link Dropout#dropConnect} the mask falls on w instead: {@code y = act(x·(w ⊙ M)ᵀ/(1 − p) + b)}, the mask
     * applied as w is read, never as a masked copy of it.
     *
     * For {@link Activation#prelu(Tensor)} the slope tensor must be {@code [out]}, of this backend and open.
     *
     * @param preActivationOut null, or an {@code [n, out]} tensor of this backend into which {@code z} is written
     *                         (needed by backward for {@link Activation.Kind#GELU}, {@link Activation.Kind#ELU}
     *                         and {@link Activation.Kind#PRELU})
     */
    Tensor linear(Tensor x, Tensor w, Tensor b, Activation act, Dropout d, Tensor preActivationOut);

    /**
     * Backward of {@link #linear}: {@code dz = dy · s · act'(z)} where the element was kept, else 0. For PReLU
     * also the slope gradient {@link LinearGrads#da()}: {@code da_j = Σ_i dy·s·z} over the kept elements of column
     * {@code j} where {@code z > 0} fails. With {@link Dropout#dropConnect}: {@code dz = dy · act'(z)},
     * {@code dx = dz·(w ⊙ M)/(1 − p)} and {@code dw = (dzᵀ·x) ⊙ M/(1 − p)}.
     *
     * @param preActivation the {@code z} written by forward; required for GELU, ELU and PReLU, ignored (may be
     *                      null) otherwise
     */
    default LinearGrads linearBackward(Tensor dy, Tensor x, Tensor w, Tensor y, Tensor preActivation, Activation act,
                                       Dropout d) {
        return linearBackward(dy, x, w, y, preActivation, act, d, true);
    }

    /**
     * As {@link #linearBackward(Tensor, Tensor, Tensor, Tensor, Tensor, Activation, Dropout)}, with the choice to
     * skip {@code dx}: the first layer of a network feeds on data, whose gradient nobody reads, and leaving it out
     * saves a third of the backward's work.
     *
     * @param inputGradient false to skip {@code dx}; {@link LinearGrads#dx()} is then null
     */
    LinearGrads linearBackward(Tensor dy, Tensor x, Tensor w, Tensor y, Tensor preActivation, Activation act,
                               Dropout d, boolean inputGradient);

    /**
     * The mask the fused op applies: 1f where an element of a {@code [rows, cols]} output is kept, else 0f; with
     * {@link Dropout#dropConnect}, where an element of a {@code [rows, cols] = [out, in]} weight is kept.
     */
    Tensor dropoutMask(int rows, int cols, Dropout d);

    /**
     * Inverted dropout on its own, as a new tensor: {@code out[i][j] = keep ? x[i][j]·s : 0} for {@code x [rows,
     * cols]}, with the mask {@link #dropoutMask}{@code (rows, cols, d)} gives (channel and variational options and the
     * element base included); a copy of {@code x} in evaluation. A network's input dropout runs it on the input, and
     * its backward is the same call on the gradient. DropConnect's {@code d}, a mask of weights, is refused.
     */
    Tensor dropout(Tensor x, Dropout d);

    /**
     * Mean softmax cross-entropy of {@code logits [n, classes]} against {@code labels [n]} (class indices held
     * as floats), the count of rows whose arg-max equals the label, and the gradient {@code (softmax − onehot)/n}.
     */
    CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels);

    /**
     * As {@link #softmaxCrossEntropy(Tensor, Tensor)} for {@code logits} that are some rows of a batch of
     * {@code batchSize} rows split across workers: the loss is the sum over these rows divided by {@code batchSize}
     * and the gradient is {@code (softmax − onehot)/batchSize}, so the slices' losses add up to the whole batch's
     * mean loss and their gradient rows are the whole batch's rows. {@code batchSize} must be at least the row count.
     */
    CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels, int batchSize);

    /**
     * In place, SGD with momentum and (L2, coupled) weight decay as PyTorch's {@code torch.optim.SGD} does it:
     * {@code g = grad + wd·param; v = momentum·v + g; param -= lr·v}.
     */
    void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay);

    /**
     * In place, Adam as PyTorch's {@code torch.optim.Adam} does it (L2 weight decay added to the gradient, bias
     * correction with the 1-based {@code step}): {@code m, v} are the moment buffers. The CPU backends store a moment
     * whose magnitude is below the smallest normal float ({@code Float.MIN_NORMAL}) as 0: arithmetic on subnormals is
     * many times slower on some CPUs, and Java cannot switch on their flush-to-zero mode. What is dropped is below
     * {@code 1.2e-38} per moment, far below what moves a weight.
     */
    void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                  float weightDecay, long step);

    /**
     * Batch normalisation's statistics of {@code z [n, out]}, per feature (column): a {@code [2, out]} tensor whose
     * first row holds the batch means and whose second row the biased variances (divided by {@code n}), as
     * PyTorch's {@code BatchNorm1d} normalises with them. Summed in a fixed order: the same bits on every run.
     */
    Tensor batchNormStatistics(Tensor z);

    /**
     * Pass 1 of batch normalisation in training: {@code z = x·wᵀ + b}, with no activation and no dropout, and the
     * statistics {@link #batchNormStatistics} would give for it ({@code [2, out]}), taken from partial sums that the
     * GEMM accumulates as it stores its tiles instead of a second pass over {@code z}. Summed in a fixed order: the
     * same bits on every run.
     */
    LinearStatistics linearWithStatistics(Tensor x, Tensor w, Tensor b);

    /**
     * Pass 2 of batch normalisation in training, fused with the activation and the dropout:
     * {@code y = dropout(act(gamma·(z − mean)/√(var + eps) + beta))}, per feature {@code j} of {@code z [n, out]},
     * with {@code mean} and {@code var} from {@code stats} ({@link #batchNormStatistics}). The mask is the fused
     * layer's, drawn from {@code d} over the {@code [n, out]} output.
     *
     * @param gamma the scale {@code [out]}
     * @param beta  the shift {@code [out]}
     * @param eps   added to the variance, finite and {@code > 0} (PyTorch's default is 1e-5)
     */
    Tensor batchNormActivation(Tensor z, Tensor stats, Tensor gamma, Tensor beta, float eps, Activation act,
                               Dropout d);

    /**
     * Backward of {@link #batchNormActivation} from {@code dy [n, out]} and its output {@code y}, as PyTorch's
     * {@code BatchNorm1d} in training (the batch statistics depend on {@code z}): with {@code du} the fused layer's
     * {@code dz} of {@code dropout(act(u))} (mask regenerated from {@code d}), {@code dbeta = Σ_i du},
     * {@code dgamma = Σ_i du·x̂} and {@code dz = gamma/√(var + eps)/n · (n·du − dbeta − x̂·dgamma)}. The layer's
     * own gradients follow from {@code dz} through {@link #linearBackward} with the identity and no dropout.
     */
    BatchNormGrads batchNormBackward(Tensor dy, Tensor y, Tensor z, Tensor stats, Tensor gamma, Tensor beta,
                                     float eps, Activation act, Dropout d);

    /**
     * Waits until all work this backend has queued is done, and throws for the first call whose queued work
     * failed. Calls of a GPU backend return once their work is queued and only reads to the host wait, so code
     * that times calls waits here; a backend that runs each call to its end returns at once.
     */
    default void synchronize() {
    }
}
