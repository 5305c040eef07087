package dev.fuse4j.spi;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.BatchNormGrads;
import dev.fuse4j.LinearStatistics;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Validates every public call once, for all backends, then hands the implementation checked, typed tensors and
 * freshly allocated outputs. Outputs are closed again if the implementation throws, so a failed call leaks nothing.
 *
 * @param <T> the backend's tensor class
 */
public abstract class AbstractBackend<T extends TensorBase> implements Backend {

    private final String name;
    private final Class<T> tensorClass;

    protected AbstractBackend(String name, Class<T> tensorClass) {
        this.name = name;
        this.tensorClass = tensorClass;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + " (" + device() + ")";
    }

    // ---- what an implementation provides ---------------------------------------------------------------------

    /** A tensor with unspecified contents (every element is about to be written). */
    protected abstract T allocate(int[] shape);

    /** A tensor holding {@code data}, which is the caller's array: copy it, never keep it. */
    protected abstract T upload(float[] data, int[] shape);

    /** A tensor of zeros. */
    protected abstract T allocateZeros(int[] shape);

    /**
     * A tensor holding {@code data} (position 0, remaining exactly the size; a slice of the caller's buffer, to be
     * copied, never kept). By default a new tensor written with {@link TensorBase#write}; a backend whose driver
     * can fill a new buffer from host memory directly overrides it.
     */
    protected T upload(FloatBuffer data, int[] shape) {
        return filled(shape, t -> t.write(data));
    }

    /** Writes {@code y} and, when {@code z != null}, the pre-activation into {@code z}. */
    protected abstract void forward(LinearShape s, T x, T w, T b, Activation act, Dropout d, T y, T z);

    /**
     * Writes {@code dx, dw, db}; {@code z} is non-null when {@code act.backwardNeedsPreActivation()}; {@code dx} is
     * null when the caller skips it, and then no work goes into it.
     */
    protected abstract void backward(LinearShape s, T dy, T x, T w, T y, T z, Activation act, Dropout d,
                                     T dx, T dw, T db);

    /**
     * Writes PReLU's slope gradient {@code da [out]}: for each column j the sum over the kept elements of
     * {@code dy·s·z} where {@code z > 0} fails (PyTorch's test, so a NaN z adds NaN), from the {@code dy} and
     * {@code z} of a {@link #backward} call with the same arguments; dropped elements add nothing.
     */
    protected abstract void slopeGradient(LinearShape s, T dy, T z, Dropout d, T da);

    /**
     * PReLU's slope tensor of {@code act}, as this backend's tensor class ({@code linear} and {@code linearBackward}
     * checked it: {@code [out]}, this backend's, open); null for every other activation.
     */
    protected final T slopeOf(Activation act) {
        return act.slope() == null ? null : tensorClass.cast(act.slope());
    }

    /** Writes 1f / 0f into {@code out [rows, cols]}. */
    protected abstract void mask(int rows, int cols, Dropout d, T out);

    /** {@code out = dropout(x)} for {@code x [rows, cols]}: kept elements scaled, dropped ones 0; a copy in eval. */
    protected abstract void applyDropout(int rows, int cols, T x, Dropout d, T out);

    /**
     * Writes the gradient {@code (softmax − onehot)/batchSize} into {@code grad} and returns {@code {loss sum /
     * batchSize, correct count}}; {@code batchSize >= n} is the whole batch's row count when these rows are a slice.
     */
    protected abstract double[] crossEntropy(int n, int classes, int batchSize, T logits, T labels, T grad);

    protected abstract void sgd(T param, T grad, T velocity, float lr, float momentum, float weightDecay);

    protected abstract void adam(T param, T grad, T m, T v, float lr, float beta1, float beta2, float eps,
                                 float weightDecay, long step);

    /** Writes the per-feature means and biased variances of {@code z [n, out]} into {@code stats [2, out]}. */
    protected abstract void batchNormStatistics(int n, int out, T z, T stats);

    /**
     * Writes {@code z = x·wᵀ + b} and batch norm's statistics of {@code z} into {@code stats [2, out]}. This default
     * makes the second pass over {@code z} that a backend whose GEMM accumulates the sums in its epilogue saves.
     */
    protected void linearStatistics(LinearShape s, T x, T w, T b, T z, T stats) {
        forward(s, x, w, b, Activation.identity(), Dropout.eval(), z, null);
        batchNormStatistics(s.n(), s.out(), z, stats);
    }

    /** Writes {@code y = dropout(act(gamma·(z − mean)/√(var + eps) + beta))}; the arguments are checked. */
    protected abstract void batchNormForward(int n, int out, T z, T stats, T gamma, T beta, float eps, Activation act,
                                             Dropout d, T y);

    /** Writes batch norm's {@code dz, dgamma, dbeta}; the arguments are checked. */
    protected abstract void batchNormBackward(int n, int out, T dy, T y, T z, T stats, T gamma, T beta, float eps,
                                              Activation act, Dropout d, T dz, T dgamma, T dbeta);

    // ---- the public API, checked ----------------------------------------------------------------------------

    @Override
    public final Tensor tensor(float[] data, int... shape) {
        if (data == null) {
            throw new IllegalArgumentException("data is null");
        }
        int size = Shapes.checkedSize(shape);
        if (data.length != size) {
            throw new IllegalArgumentException("data has " + data.length + " values but shape "
                    + Arrays.toString(shape) + " needs " + size);
        }
        return upload(data, shape.clone());
    }

    @Override
    public final Tensor tensor(FloatBuffer data, int... shape) {
        if (data == null) {
            throw new IllegalArgumentException("data is null");
        }
        int size = Shapes.checkedSize(shape);
        if (data.remaining() != size) {
            throw new IllegalArgumentException("data has " + data.remaining() + " floats between position "
                    + data.position() + " and limit " + data.limit() + " but shape " + Arrays.toString(shape)
                    + " needs " + size);
        }
        return upload(data.slice(), shape.clone());
    }

    @Override
    public final Tensor zeros(int... shape) {
        Shapes.checkedSize(shape);
        return allocateZeros(shape.clone());
    }

    @Override
    public final Tensor linear(Tensor x, Tensor w, Tensor b, Activation act, Dropout d, Tensor preActivationOut) {
        T tx = own(x, "x", 2);
        T tw = own(w, "w", 2);
        T tb = own(b, "b", 1);
        notNull(act, "activation");
        notNull(d, "dropout (use Dropout.eval() for none)");
        LinearShape s = linearShape(tx, tw, tb);
        checkSlope(act, s, tw);
        T tz = preActivationOut == null ? null : own(preActivationOut, "preActivationOut", 2);
        if (tz != null) {
            sameShape(tz, "preActivationOut", new int[] {s.n(), s.out()});
        }
        if ((long) s.n() * s.out() > Shapes.MAX_ELEMENTS) {
            throw new IllegalArgumentException("x is " + Arrays.toString(tx.shapeView()) + " and w is "
                    + Arrays.toString(tw.shapeView()) + ": the output y would be [" + s.n() + ", " + s.out()
                    + "], more than 2^31 - 9 elements, the most a tensor holds");
        }
        Dropout bound = boundTo(d, s.out());
        return filled(new int[] {s.n(), s.out()}, y -> forward(s, tx, tw, tb, act, bound, y, tz));
    }

    @Override
    public final LinearGrads linearBackward(Tensor dy, Tensor x, Tensor w, Tensor y, Tensor preActivation,
                                            Activation act, Dropout d, boolean inputGradient) {
        T tx = own(x, "x", 2);
        T tw = own(w, "w", 2);
        notNull(act, "activation");
        notNull(d, "dropout (use Dropout.eval() for none)");
        if (tx.dim(1) != tw.dim(1)) {
            throw new IllegalArgumentException("x is " + Arrays.toString(tx.shapeView()) + " but w is "
                    + Arrays.toString(tw.shapeView()) + ": inner sizes " + tx.dim(1) + " and " + tw.dim(1) + " differ");
        }
        LinearShape s = new LinearShape(tx.dim(0), tx.dim(1), tw.dim(0));
        checkSlope(act, s, tw);
        int[] outShape = {s.n(), s.out()};
        T tdy = own(dy, "dy", 2);
        sameShape(tdy, "dy", outShape);
        T ty = own(y, "y", 2);
        sameShape(ty, "y", outShape);
        T tz = null;
        if (act.backwardNeedsPreActivation()) {
            if (preActivation == null) {
                throw new IllegalArgumentException(act + " backward needs the pre-activation z: pass a tensor as "
                        + "preActivationOut to forward and give it here");
            }
            tz = own(preActivation, "preActivation", 2);
            sameShape(tz, "preActivation", outShape);
        }
        Dropout bound = boundTo(d, s.out());
        T dx = inputGradient ? allocate(new int[] {s.n(), s.in()}) : null;
        T dw = null;
        T db = null;
        T da = null;
        try {
            dw = allocate(new int[] {s.out(), s.in()});
            db = allocate(new int[] {s.out()});
            backward(s, tdy, tx, tw, ty, tz, act, bound, dx, dw, db);
            if (act.kind() == Activation.Kind.PRELU) {
                da = allocate(new int[] {s.out()});
                slopeGradient(s, tdy, tz, bound.onOutputs(), da); // DropConnect masks no output
            }
            return new LinearGrads(dx, dw, db, da);
        } catch (RuntimeException | Error e) {
            closeAll(dx, dw, db, da);
            throw e;
        }
    }

    @Override
    public final Tensor dropoutMask(int rows, int cols, Dropout d) {
        notNull(d, "dropout");
        int[] shape = {rows, cols};
        Shapes.checkedSize(shape);
        Dropout bound = boundTo(d, cols);
        return filled(shape, out -> mask(rows, cols, bound, out));
    }

    @Override
    public final Tensor dropout(Tensor x, Dropout d) {
        T tx = own(x, "x", 2);
        notNull(d, "dropout (use Dropout.eval() for none)");
        if (d.dropConnect()) {
            throw new IllegalArgumentException("dropout(x, d) masks the elements of x, but " + d + " masks a layer's "
                    + "weights: use Dropout.train for the elements");
        }
        int rows = tx.dim(0), cols = tx.dim(1);
        Dropout bound = boundTo(d, cols);
        return filled(new int[] {rows, cols}, out -> applyDropout(rows, cols, tx, bound, out));
    }

    /**
     * {@code d} bound to an output of {@code out} columns (the variational period is measured in them), after
     * checking that channel dropout's channels divide the columns.
     */
    private static Dropout boundTo(Dropout d, int out) {
        if (d.training() && out % d.featuresPerChannel() != 0) {
            throw new IllegalArgumentException("channel dropout's featuresPerChannel " + d.featuresPerChannel()
                    + " does not divide the output's " + out + " columns");
        }
        return out > 0 ? d.withColumns(out) : d;
    }

    @Override
    public final CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels) {
        return softmaxCrossEntropy(logits, labels, own(logits, "logits", 2).dim(0));
    }

    @Override
    public final CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels, int batchSize) {
        T tl = own(logits, "logits", 2);
        T tlab = own(labels, "labels", 1);
        if (tlab.dim(0) != tl.dim(0)) {
            throw new IllegalArgumentException("logits are " + Arrays.toString(tl.shapeView()) + " but labels are "
                    + Arrays.toString(tlab.shapeView()) + ": " + tl.dim(0) + " rows need " + tl.dim(0) + " labels");
        }
        if (batchSize < tl.dim(0)) {
            throw new IllegalArgumentException("batch size " + batchSize + " is smaller than the " + tl.dim(0)
                    + " rows of logits " + Arrays.toString(tl.shapeView()) + ": it counts the rows of the whole batch"
                    + " these rows belong to");
        }
        T grad = allocate(tl.shape());
        try {
            double[] r = crossEntropy(tl.dim(0), tl.dim(1), batchSize, tl, tlab, grad);
            return new CrossEntropy((float) r[0], (int) r[1], grad);
        } catch (RuntimeException | Error e) {
            grad.close();
            throw e;
        }
    }

    @Override
    public final void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum,
                              float weightDecay) {
        T p = own(param, "param", -1);
        T g = own(grad, "grad", -1);
        T v = own(velocity, "velocity", -1);
        sameShape(g, "grad", p.shapeView());
        sameShape(v, "velocity", p.shapeView());
        finiteNonNegative(lr, "learning rate");
        finiteNonNegative(momentum, "momentum");
        finiteNonNegative(weightDecay, "weight decay");
        sgd(p, g, v, lr, momentum, weightDecay);
    }

    @Override
    public final void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                               float eps, float weightDecay, long step) {
        T p = own(param, "param", -1);
        T g = own(grad, "grad", -1);
        T tm = own(m, "m", -1);
        T tv = own(v, "v", -1);
        sameShape(g, "grad", p.shapeView());
        sameShape(tm, "m", p.shapeView());
        sameShape(tv, "v", p.shapeView());
        finiteNonNegative(lr, "learning rate");
        finiteNonNegative(weightDecay, "weight decay");
        if (!(beta1 >= 0f && beta1 < 1f) || !(beta2 >= 0f && beta2 < 1f)) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1) but are " + beta1 + " and " + beta2);
        }
        if (!(eps > 0f && Float.isFinite(eps))) {
            throw new IllegalArgumentException("Adam eps must be finite and > 0 but is " + eps);
        }
        if (step < 1) {
            throw new IllegalArgumentException("Adam step counts from 1 but is " + step);
        }
        adam(p, g, tm, tv, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public final Tensor batchNormStatistics(Tensor z) {
        T tz = own(z, "z", 2);
        return filled(new int[] {2, tz.dim(1)}, stats -> batchNormStatistics(tz.dim(0), tz.dim(1), tz, stats));
    }

    @Override
    public final LinearStatistics linearWithStatistics(Tensor x, Tensor w, Tensor b) {
        T tx = own(x, "x", 2);
        T tw = own(w, "w", 2);
        T tb = own(b, "b", 1);
        LinearShape s = linearShape(tx, tw, tb);
        if ((long) s.n() * s.out() > Shapes.MAX_ELEMENTS) {
            throw new IllegalArgumentException("x is " + Arrays.toString(tx.shapeView()) + " and w is "
                    + Arrays.toString(tw.shapeView()) + ": z would be [" + s.n() + ", " + s.out()
                    + "], more than 2^31 - 9 elements, the most a tensor holds");
        }
        T z = allocate(new int[] {s.n(), s.out()});
        try {
            T stats = filled(new int[] {2, s.out()}, st -> linearStatistics(s, tx, tw, tb, z, st));
            return new LinearStatistics(z, stats);
        } catch (RuntimeException | Error e) {
            z.close();
            throw e;
        }
    }

    @Override
    public final Tensor batchNormActivation(Tensor z, Tensor stats, Tensor gamma, Tensor beta, float eps,
                                            Activation act, Dropout d) {
        BatchNormOperands<T> o = batchNormOperands(z, stats, gamma, beta, eps, act, d);
        T tz = o.z(), ts = o.stats(), tg = o.gamma(), tb = o.beta();
        int n = tz.dim(0), out = tz.dim(1);
        Dropout bound = boundTo(d, out);
        return filled(new int[] {n, out}, y -> batchNormForward(n, out, tz, ts, tg, tb, eps, act, bound, y));
    }

    @Override
    public final BatchNormGrads batchNormBackward(Tensor dy, Tensor y, Tensor z, Tensor stats, Tensor gamma,
                                                  Tensor beta, float eps, Activation act, Dropout d) {
        BatchNormOperands<T> o = batchNormOperands(z, stats, gamma, beta, eps, act, d);
        T tz = o.z(), ts = o.stats(), tg = o.gamma(), tb = o.beta();
        int n = tz.dim(0), out = tz.dim(1);
        T tdy = own(dy, "dy", 2);
        sameShape(tdy, "dy", tz.shapeView());
        T ty = own(y, "y", 2);
        sameShape(ty, "y", tz.shapeView());
        Dropout bound = boundTo(d, out);
        T dz = allocate(new int[] {n, out});
        T dgamma = null;
        T dbeta = null;
        try {
            dgamma = allocate(new int[] {out});
            dbeta = allocate(new int[] {out});
            batchNormBackward(n, out, tdy, ty, tz, ts, tg, tb, eps, act, bound, dz, dgamma, dbeta);
            return new BatchNormGrads(dz, dgamma, dbeta);
        } catch (RuntimeException | Error e) {
            closeAll(dz, dgamma, dbeta);
            throw e;
        }
    }

    // ---- checks ------------------------------------------------------------------------------------------------

    /** Checks that {@code t} is an open tensor of this backend with {@code rank} dimensions (-1: any). */
    protected final T own(Tensor t, String role, int rank) {
        if (t == null) {
            throw new IllegalArgumentException(role + " is null");
        }
        if (t.backend() != this || !tensorClass.isInstance(t)) {
            throw new IllegalArgumentException(role + " belongs to backend " + t.backend().name() + ", not " + name
                    + ": copy it with toArray() and tensor(...) to move it");
        }
        T tt = tensorClass.cast(t);
        tt.checkOpen(role);
        if (rank >= 0 && tt.shapeView().length != rank) {
            throw new IllegalArgumentException(role + " must have " + rank + " dimension" + (rank == 1 ? "" : "s")
                    + " but is " + Arrays.toString(tt.shapeView()));
        }
        return tt;
    }

    private static LinearShape linearShape(TensorBase x, TensorBase w, TensorBase b) {
        if (x.dim(1) != w.dim(1)) {
            throw new IllegalArgumentException("x is " + Arrays.toString(x.shapeView()) + " but w is "
                    + Arrays.toString(w.shapeView()) + ": inner sizes " + x.dim(1) + " and " + w.dim(1) + " differ");
        }
        if (b.dim(0) != w.dim(0)) {
            throw new IllegalArgumentException("b is " + Arrays.toString(b.shapeView()) + " but w is "
                    + Arrays.toString(w.shapeView()) + ": b needs " + w.dim(0) + " values, one per output");
        }
        return new LinearShape(x.dim(0), x.dim(1), w.dim(0));
    }

    /**
     * PReLU's slope tensor: present (not the layer form {@link Activation#prelu()}), this backend's, open, and
     * {@code [out]}; the message names its shape and w's.
     */
    private void checkSlope(Activation act, LinearShape s, TensorBase w) {
        if (act.kind() != Activation.Kind.PRELU) {
            return;
        }
        if (act.slope() == null) {
            throw new IllegalArgumentException("PReLU needs its slope tensor [" + s.out() + "] (w is "
                    + Arrays.toString(w.shapeView()) + "): pass Activation.prelu(slope); Activation.prelu() names "
                    + "PReLU for a layer that owns its slopes");
        }
        T a = own(act.slope(), "PReLU slope", 1);
        if (a.dim(0) != s.out()) {
            throw new IllegalArgumentException("PReLU slope is " + Arrays.toString(a.shapeView()) + " but w is "
                    + Arrays.toString(w.shapeView()) + ": the slope needs " + s.out() + " values, one per output");
        }
    }

    /** Batch norm's operands as this backend's tensors, owned and checked once for both of its passes. */
    private record BatchNormOperands<U>(U z, U stats, U gamma, U beta) {
    }

    private BatchNormOperands<T> batchNormOperands(Tensor z, Tensor stats, Tensor gamma, Tensor beta, float eps,
                                                   Activation act, Dropout d) {
        T tz = own(z, "z", 2);
        T ts = own(stats, "stats", 2);
        T tg = own(gamma, "gamma", 1);
        T tb = own(beta, "beta", 1);
        checkBatchNorm(tz, ts, tg, tb, eps, act, d);
        return new BatchNormOperands<>(tz, ts, tg, tb);
    }

    /** The shapes batch norm's passes share: {@code stats [2, out]}, {@code gamma} and {@code beta [out]}. */
    private static void checkBatchNorm(TensorBase z, TensorBase stats, TensorBase gamma, TensorBase beta, float eps,
                                       Activation act, Dropout d) {
        int out = z.dim(1);
        sameShape(stats, "stats (the batch statistics of z " + Arrays.toString(z.shapeView()) + ")",
                new int[] {2, out});
        sameShape(gamma, "gamma (one scale per feature of z " + Arrays.toString(z.shapeView()) + ")",
                new int[] {out});
        sameShape(beta, "beta (one shift per feature of z " + Arrays.toString(z.shapeView()) + ")", new int[] {out});
        if (!(eps > 0f && Float.isFinite(eps))) {
            throw new IllegalArgumentException("batch norm eps must be finite and > 0 but is " + eps);
        }
        notNull(act, "activation");
        notNull(d, "dropout (use Dropout.eval() for none)");
        if (act.kind() == Activation.Kind.PRELU) {
            throw new IllegalArgumentException("batch norm's activation pass has no per-feature slopes: PReLU "
                    + "cannot follow batch norm (leaky ReLU can)");
        }
        if (d.dropConnect()) {
            throw new IllegalArgumentException("DropConnect masks the weights of the GEMM that makes z, not batch "
                    + "norm's output: " + d);
        }
    }

    /** A new tensor of {@code shape} that {@code fill} writes; closed again, not leaked, when filling fails. */
    private T filled(int[] shape, java.util.function.Consumer<T> fill) {
        T t = allocate(shape);
        try {
            fill.accept(t);
            return t;
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    private static void sameShape(TensorBase t, String role, int[] expected) {
        if (!Arrays.equals(t.shapeView(), expected)) {
            throw new IllegalArgumentException(role + " is " + Arrays.toString(t.shapeView()) + " but must be "
                    + Arrays.toString(expected));
        }
    }

    private static void notNull(Object o, String role) {
        if (o == null) {
            throw new IllegalArgumentException(role + " is null");
        }
    }

    private static void finiteNonNegative(float v, String role) {
        if (!(v >= 0f && Float.isFinite(v))) {
            throw new IllegalArgumentException(role + " must be finite and >= 0 but is " + v);
        }
    }

    private static void closeAll(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null) {
                t.close();
            }
        }
    }
}
