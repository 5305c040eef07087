package dev.fuse4j.reference;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;

/**
 * The fused layer {@code y = dropout(act(x·wᵀ + b))} and its backward in float64, straight from the formulas of the
 * design document, with the bound each float32 result must meet. Backends, peers and the compare cross-check are
 * all judged against it, so it takes nothing from the code it judges: the dropout scale and keep threshold are
 * computed here from p, the mask from the bare Philox generator with the counter layout written out, and the
 * activations from their formulas. Slow and plain on purpose.
 *
 * <p>Shapes as everywhere: {@code x [n, in]}, {@code w [out, in]}, {@code b [out]}, {@code y [n, out]}, row-major.
 */
public final class Reference {
    /** Unit roundoff of float32. */
    public static final double U = 0x1p-24;
    /** √(2/π) and the cubic coefficient of GELU's tanh form. */
    private static final double GELU_C = Math.sqrt(2 / Math.PI);
    private static final double GELU_A = 0.044715;
    /** The largest slope of tanh-GELU is about 1.129 (near z = 1.4): its Lipschitz constant, rounded up. */
    private static final double GELU_LIPSCHITZ = 1.13;
    /** Backends evaluate GELU in float32 through tanh: a few ulps of 1 absolute, whatever the value's size. */
    private static final double GELU_SLACK = 1e-6;
    /** Backends evaluate ELU's eᶻ − 1 and eᶻ in float32: a few ulps of values at most 1 in size, times α. */
    private static final double ELU_SLACK = 1e-6;

    private Reference() {
    }

    /** What forward must produce: the pre-activation {@code z}, the output {@code y}, and the mask it used. */
    public record Forward(Expected z, Expected y, boolean[] keep) {
    }

    /**
     * What backward must produce: {@code dx [n, in]}, {@code dw [out, in]}, {@code db [out]}, and for PReLU the
     * slope gradient {@code da [out]} (null for every other activation).
     */
    public record Backward(Expected dx, Expected dw, Expected db, Expected da) {
        public Backward(Expected dx, Expected dw, Expected db) {
            this(dx, dw, db, null);
        }
    }

    // ---- dropout ----------------------------------------------------------------------------------------------

    /** Scale of kept values: {@code 1/(1 − p)} in training, 0 at p = 1 (nothing is kept), 1 in evaluation. */
    public static double scale(Dropout d) {
        if (!d.training()) {
            return 1;
        }
        double p = d.p();
        return p == 1 ? 0 : 1 / (1 - p);
    }

    /** Keep threshold {@code floor(p·2³²)}, p as the float it is and the product in double; 0 in evaluation. */
    public static long threshold(Dropout d) {
        return d.training() ? (long) Math.floor(d.p() * 4294967296.0) : 0;
    }

    /**
     * The mask of a {@code [n, out]} output, element by element: element {@code (i, j)} is {@code e = e0 + i·out + j}
     * ({@code e0} the element base), drawn as word {@code e mod 4} of Philox4x32-10 on counter
     * {@code (lo32(e/4), hi32(e/4), lo32(offset), hi32(offset))} under key {@code (lo32(seed), hi32(seed))}, and kept
     * when that word, unsigned, is at least the threshold. Channel and variational dropout first map {@code e} to
     * its mask index: {@code e mod (sequences·out)} when variational, then divided by {@code featuresPerChannel}.
     * DropConnect keeps every output ({@link DropConnectReference#weightMask} has its mask).
     */
    public static boolean[] mask(int n, int out, Dropout d) {
        boolean[] keep = new boolean[n * out];
        if (d.dropConnect()) { // the mask is on the weights: every output is kept
            java.util.Arrays.fill(keep, true);
            return keep;
        }
        long threshold = threshold(d);
        int[] key = {(int) d.seed(), (int) (d.seed() >>> 32)};
        long period = (long) d.sequences() * out;
        for (int e = 0; e < keep.length; e++) {
            long flat = d.elementBase() + e;
            long element = (period == 0 ? flat : flat % period) / d.featuresPerChannel();
            long block = element >>> 2;
            int[] counter = {(int) block, (int) (block >>> 32), (int) d.offset(), (int) (d.offset() >>> 32)};
            int word = Philox.philox4x32_10(counter, key)[(int) (element & 3)];
            keep[e] = (word & 0xFFFFFFFFL) >= threshold;
        }
        return keep;
    }

    // ---- activations ------------------------------------------------------------------------------------------

    /**
     * {@code act(z)}: ReLU, leaky ReLU, GELU in its tanh form, the identity or ELU. PReLU's slope is per column:
     * {@link #prelu}.
     */
    public static double activation(Activation act, double z) {
        return switch (act.kind()) {
            case RELU -> Math.max(z, 0.0);
            case LEAKY_RELU -> z > 0 ? z : act.alpha() * z;
            case GELU -> 0.5 * z * (1.0 + Math.tanh(GELU_C * (z + GELU_A * z * z * z)));
            case IDENTITY -> z;
            case ELU -> z > 0 ? z : act.alpha() * Math.expm1(z);
            case PRELU -> throw perColumn();
        };
    }

    /** PReLU of one element whose column has the slope {@code a}: {@code z > 0 ? z : a·z}, so NaN stays NaN. */
    public static double prelu(double a, double z) {
        return z > 0 ? z : a * z;
    }

    /**
     * PReLU's derivative with PyTorch's test ({@code prelu_backward}: {@code input > 0 ? grad : weight·grad}): 1
     * where {@code z > 0}, else {@code a}, so a NaN z takes the slope {@code a}.
     */
    public static double preluDerivative(double a, double z) {
        return z > 0 ? 1.0 : a;
    }

    private static IllegalArgumentException perColumn() {
        return new IllegalArgumentException("PReLU's slope differs per column: use prelu(a, z), "
                + "preluDerivative(a, z), or the forward and backward that take the slopes");
    }

    /** {@code act(z)} of an element of column {@code j}: {@link #prelu} with {@code slope[j]} for PReLU. */
    private static double activation(Activation act, float[] slope, int j, double z) {
        return act.kind() == Activation.Kind.PRELU ? prelu(slope[j], z) : activation(act, z);
    }

    /**
     * {@code act'(z)} with PyTorch's tests at the kinks, which decide what a NaN {@code z} gets: ReLU's
     * {@code threshold_backward} and ELU's {@code elu_backward} test {@code z <= 0}, so NaN takes the slope 1;
     * {@code leaky_relu_backward} tests {@code z > 0}, so NaN takes the slope α.
     */
    public static double derivative(Activation act, double z) {
        return switch (act.kind()) {
            case RELU -> z <= 0 ? 0.0 : 1.0;
            case LEAKY_RELU -> z > 0 ? 1.0 : act.alpha();
            case GELU -> {
                double t = Math.tanh(GELU_C * (z + GELU_A * z * z * z));
                double du = GELU_C * (1.0 + 3 * GELU_A * z * z);
                yield 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du;
            }
            case IDENTITY -> 1.0;
            case ELU -> z <= 0 ? act.alpha() * Math.exp(z) : 1.0;
            case PRELU -> throw perColumn();
        };
    }

    /**
     * How far {@code act(z)·scale} may stray when {@code z} is off by up to {@code zError}: the error stretched by the
     * activation's steepest slope (at least 1), plus for GELU the error of a float32 tanh and for ELU that of a
     * float32 {@code eᶻ − 1}.
     */
    public static double outputBound(Activation act, double zError, double z, double scale) {
        double slope = switch (act.kind()) {
            case GELU -> GELU_LIPSCHITZ;
            case LEAKY_RELU, ELU -> Math.max(1, act.alpha());
            case RELU, IDENTITY -> 1;
            case PRELU -> throw perColumn();
        };
        double slack = switch (act.kind()) {
            case GELU -> GELU_SLACK * scale * (1 + Math.abs(z));
            case ELU -> ELU_SLACK * scale * act.alpha();
            case RELU, LEAKY_RELU, IDENTITY, PRELU -> 0;
        };
        return zError * slope * scale + slack;
    }

    /** {@link #outputBound} of PReLU with the slope {@code a}: the error stretched by {@code max(1, |a|)}. */
    public static double preluOutputBound(double a, double zError, double scale) {
        return zError * Math.max(1, Math.abs(a)) * scale;
    }

    /**
     * How far a backend's float32 {@code act'(z)} may stray, relative to {@code |dy·s|}: a few ulps of GELU's
     * derivative (at most about 1.13) and of ELU's {@code α·eᶻ} (at most α); 0 where the derivative is exact.
     */
    public static double derivativeSlack(Activation act) {
        return switch (act.kind()) {
            case GELU -> GELU_SLACK;
            case ELU -> ELU_SLACK * act.alpha();
            case RELU, LEAKY_RELU, IDENTITY, PRELU -> 0;
        };
    }

    // ---- forward ----------------------------------------------------------------------------------------------

    /** {@code z[i][j] = b[j] + Σ_k x[i][k]·w[j][k]}. */
    public static double[] preActivation(float[] x, float[] w, float[] b, int n, int in, int out) {
        double[] z = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double s = b[j];
                for (int k = 0; k < in; k++) {
                    s += (double) x[i * in + k] * w[j * in + k];
                }
                z[i * out + j] = s;
            }
        }
        return z;
    }

    /** {@code |b[j]| + Σ_k |x[i][k]·w[j][k]|}: the magnitude the rounding error of z scales with. */
    public static double[] magnitude(float[] x, float[] w, float[] b, int n, int in, int out) {
        double[] m = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double s = Math.abs(b[j]);
                for (int k = 0; k < in; k++) {
                    s += Math.abs((double) x[i * in + k] * w[j * in + k]);
                }
                m[i * out + j] = s;
            }
        }
        return m;
    }

    /** The bound of the design document, {@code 2·K·u·magnitude·scale}, with K = k + 1 terms (the bias counts). */
    public static double bound(int k, double magnitude, double scale) {
        return 2.0 * (k + 1) * U * magnitude * scale;
    }

    /**
     * The forward of the fused layer: {@code z} within the bound of a sum of {@code in + 1} terms, and
     * {@code y = keep ? act(z)·s : 0}, a kept element within that bound stretched by the activation's slope and
     * scaled by s, a dropped one exactly 0. DropConnect is {@link DropConnectReference#forward}.
     */
    public static Forward forward(float[] x, float[] w, float[] b, int n, int in, int out, Activation act,
                                  Dropout d) {
        return forward(x, w, b, n, in, out, act, d, null);
    }

    /**
     * {@link #forward(float[], float[], float[], int, int, int, Activation, Dropout)} where PReLU's column j has
     * the slope {@code slope[j]} ({@code slope} is read only for PReLU, and may be null otherwise).
     */
    public static Forward forward(float[] x, float[] w, float[] b, int n, int in, int out, Activation act,
                                  Dropout d, float[] slope) {
        checkSlopes(act, slope, out);
        if (d.dropConnect()) {
            return DropConnectReference.forward(x, w, b, n, in, out, act, d, slope);
        }
        double[] z = preActivation(x, w, b, n, in, out);
        double[] mag = magnitude(x, w, b, n, in, out);
        boolean[] keep = mask(n, out, d);
        double s = scale(d);
        double[] zBound = new double[z.length];
        double[] y = new double[z.length];
        double[] yBound = new double[z.length];
        for (int e = 0; e < z.length; e++) {
            zBound[e] = bound(in, mag[e], 1);
            if (keep[e]) {
                int j = e % out;
                y[e] = activation(act, slope, j, z[e]) * s;
                yBound[e] = act.kind() == Activation.Kind.PRELU ? preluOutputBound(slope[j], zBound[e], s)
                        : outputBound(act, zBound[e], z[e], s);
            }
        }
        return new Forward(new Expected(z, zBound), new Expected(y, yBound), keep);
    }

    // ---- backward ---------------------------------------------------------------------------------------------

    /**
     * {@code dz} as the contract defines it from the backend's own forward output {@code y} and, for GELU and ELU,
     * its own {@code z}: {@code dy·s·act'(z)} where kept, else 0. ReLU reads both mask and side off y as PyTorch's
     * {@code threshold_backward(grad, result, 0)}: {@code y <= 0 ? 0 : dy·s}, so a NaN y passes the gradient; leaky
     * ReLU takes the mask and, on kept elements, the side {@code y > 0} (that of {@code z > 0}, NaN failing it).
     */
    public static double[] dz(float[] dy, float[] y, float[] z, boolean[] keep, Activation act, Dropout d) {
        return dz(dy, y, z, keep, act, d, null);
    }

    /**
     * {@link #dz(float[], float[], float[], boolean[], Activation, Dropout)} where PReLU's column j has the slope
     * {@code slope[j]} ({@code slope.length} columns): {@code dy·s·(z > 0 ? 1 : a_j)} where kept, from the backend's
     * own z (a slope may be negative, so y's sign cannot tell the side).
     */
    public static double[] dz(float[] dy, float[] y, float[] z, boolean[] keep, Activation act, Dropout d,
                              float[] slope) {
        double s = scale(d);
        double[] dz = new double[dy.length];
        for (int e = 0; e < dy.length; e++) {
            dz[e] = switch (act.kind()) {
                case RELU -> y[e] <= 0 ? 0.0 : dy[e] * s;
                case LEAKY_RELU -> keep[e] ? (y[e] > 0 ? dy[e] * s : dy[e] * s * act.alpha()) : 0.0;
                case GELU, ELU -> keep[e] ? dy[e] * s * derivative(act, z[e]) : 0.0;
                case IDENTITY -> keep[e] ? dy[e] * s : 0.0;
                case PRELU -> keep[e] ? dy[e] * s * preluDerivative(slope[e % slope.length], z[e]) : 0.0;
            };
        }
        return dz;
    }

    /**
     * The backward of the fused layer from the backend's own {@code y} and {@code z}: {@code dx = dz·W},
     * {@code dw = dzᵀ·X}, {@code db = Σ_i dz}, each within the bound of its sum; GELU and ELU add the slack of their
     * float32 derivatives ({@link #derivativeSlack} of {@code |dy·s|}) carried through the same sum. DropConnect is
     * {@link DropConnectReference#backward}.
     */
    public static Backward backward(float[] dy, float[] x, float[] w, float[] y, float[] z, boolean[] keep, int n,
                                    int in, int out, Activation act, Dropout d) {
        return backward(dy, x, w, y, z, keep, n, in, out, act, d, null);
    }

    /**
     * {@link #backward(float[], float[], float[], float[], float[], boolean[], int, int, int, Activation, Dropout)}
     * where PReLU's column j has the slope {@code slope[j]}; for PReLU also the slope gradient
     * ({@link #slopeGradient}).
     */
    public static Backward backward(float[] dy, float[] x, float[] w, float[] y, float[] z, boolean[] keep, int n,
                                    int in, int out, Activation act, Dropout d, float[] slope) {
        checkSlopes(act, slope, out);
        if (d.dropConnect()) {
            return DropConnectReference.backward(dy, x, w, y, z, n, in, out, act, d, slope);
        }
        double[] dz = dz(dy, y, z, keep, act, d, slope);
        double[] slack = new double[dz.length];
        double relative = derivativeSlack(act);
        if (relative > 0) {
            double s = scale(d);
            for (int e = 0; e < dz.length; e++) {
                slack[e] = keep[e] ? relative * Math.abs(dy[e]) * s : 0;
            }
        }
        double[] ones = new double[n];
        java.util.Arrays.fill(ones, 1.0);
        return new Backward(product(dz, slack, false, n, out, widen(w), in),
                product(dz, slack, true, out, n, widen(x), in), product(dz, slack, true, out, n, ones, 1),
                act.kind() == Activation.Kind.PRELU ? slopeGradient(dy, z, keep, n, out, d) : null);
    }

    /**
     * PReLU's slope gradient from the backend's own {@code z}: {@code da[j] = Σ_i dy·s·z} over the kept elements
     * of column j where {@code z > 0} fails (PyTorch's {@code prelu_backward}: {@code input > 0 ? 0 : input·grad},
     * {@code grad} being the gradient at the activation's output, {@code dy·s} where kept), within the bound of a
     * sum of n terms. A dropped element adds nothing, as it passes no gradient.
     */
    public static Expected slopeGradient(float[] dy, float[] z, boolean[] keep, int n, int out, Dropout d) {
        double s = scale(d);
        double[] value = new double[out];
        double[] bound = new double[out];
        for (int j = 0; j < out; j++) {
            double sum = 0;
            double mag = 0;
            for (int i = 0; i < n; i++) {
                int e = i * out + j;
                if (keep[e] && !(z[e] > 0)) {
                    double term = dy[e] * s * z[e];
                    sum += term;
                    mag += Math.abs(term);
                }
            }
            value[j] = sum;
            bound[j] = bound(n, mag, 1);
        }
        return new Expected(value, bound);
    }

    private static void checkSlopes(Activation act, float[] slope, int out) {
        if (act.kind() == Activation.Kind.PRELU && (slope == null || slope.length != out)) {
            throw new IllegalArgumentException("PReLU needs " + out + " slopes, one per column, but has "
                    + (slope == null ? "none" : slope.length));
        }
    }

    /**
     * {@code C = op(A)·B} with its bounds, for {@code A = dz}: {@code op(A)} is {@code [rows, inner]}, stored so
     * ({@code transposed} false) or as {@code [inner, rows]}; {@code B} is {@code [inner, cols]}. The slack of each
     * element of A is carried through the sum with {@code |B|}.
     */
    static Expected product(double[] a, double[] slack, boolean transposed, int rows, int inner, double[] b,
                            int cols) {
        double[] value = new double[rows * cols];
        double[] bound = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double sum = 0;
                double mag = 0;
                double extra = 0;
                for (int t = 0; t < inner; t++) {
                    int at = transposed ? t * rows + r : r * inner + t;
                    double bv = b[t * cols + c];
                    sum += a[at] * bv;
                    mag += Math.abs(a[at] * bv);
                    extra += slack[at] * Math.abs(bv);
                }
                value[r * cols + c] = sum;
                bound[r * cols + c] = bound(inner, mag, 1) + extra;
            }
        }
        return new Expected(value, bound);
    }

    /** {@code v} in float64, element by element. */
    static double[] widen(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
