package dev.fuse4j;

/**
 * The activation applied in the fused epilogue of {@link Backend#linear}: {@code y = dropout(act(x·Wᵀ + b))}.
 *
 * <p>Backward needs, besides {@code y}: nothing for {@link Kind#RELU} ({@code y <= 0} gives 0, which covers both the
 * mask and the side), {@link Kind#LEAKY_RELU} (its mask is regenerated from the Philox contract, its side is that of
 * {@code y > 0}) and {@link Kind#IDENTITY}; the pre-activation {@code z} for {@link Kind#GELU}, {@link Kind#ELU} and
 * {@link Kind#PRELU} (whose slopes may be negative, so the sign of {@code y} does not tell the side).
 *
 * <p>{@link Kind#PRELU} carries its slopes in a tensor {@code slope [out]} of the backend that runs the layer, one
 * per output feature; backward then also returns their gradient ({@link LinearGrads#da()}). {@link #prelu()}, with
 * no tensor, names PReLU for a layer that owns its slopes ({@code dev.fuse4j.nn.Dense}); the fused op refuses it.
 *
 * @param slope PReLU's per-feature slopes, or null (every other kind, and the layer form {@link #prelu()})
 */
public record Activation(Kind kind, float alpha, Tensor slope) {

    /** Activation functions known to every backend. The ordinal is passed to device kernels. */
    public enum Kind {
        /** {@code max(z, 0)}. */
        RELU,
        /** {@code z > 0 ? z : alpha·z}, alpha ≥ 0. */
        LEAKY_RELU,
        /** The tanh form: {@code 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))}. */
        GELU,
        /** {@code z}: a plain linear layer. */
        IDENTITY,
        /** {@code z > 0 ? z : alpha·(eᶻ − 1)}, alpha > 0. */
        ELU,
        /** {@code z > 0 ? z : a_j·z} with a learnable slope {@code a_j} per output feature (any real value). */
        PRELU
    }

    private static final Activation RELU = new Activation(Kind.RELU, 0f);
    private static final Activation GELU = new Activation(Kind.GELU, 0f);
    private static final Activation IDENTITY = new Activation(Kind.IDENTITY, 0f);
    private static final Activation ELU_1 = new Activation(Kind.ELU, 1f);
    private static final Activation PRELU_OF_LAYER = new Activation(Kind.PRELU, 0f, null);

    public Activation {
        if (kind == null) {
            throw new IllegalArgumentException("activation kind is null");
        }
        if (kind != Kind.PRELU && slope != null) {
            throw new IllegalArgumentException(kind + " takes no slope tensor, but one of shape "
                    + java.util.Arrays.toString(slope.shape()) + " was given");
        }
        if (kind == Kind.LEAKY_RELU && !(alpha >= 0f && Float.isFinite(alpha))) {
            throw new IllegalArgumentException("leaky ReLU slope must be finite and >= 0 but is " + alpha);
        }
        if (kind == Kind.ELU && !(alpha > 0f && Float.isFinite(alpha))) {
            throw new IllegalArgumentException("ELU alpha must be finite and > 0 but is " + alpha);
        }
        if (kind != Kind.LEAKY_RELU && kind != Kind.ELU && alpha != 0f) {
            throw new IllegalArgumentException(kind + " takes no slope, but alpha is " + alpha);
        }
    }

    /** An activation without a slope tensor: every kind but {@link Kind#PRELU}, and PReLU's layer form. */
    public Activation(Kind kind, float alpha) {
        this(kind, alpha, null);
    }

    public static Activation relu() {
        return RELU;
    }

    public static Activation leakyRelu(float alpha) {
        return new Activation(Kind.LEAKY_RELU, alpha);
    }

    public static Activation gelu() {
        return GELU;
    }

    /** ELU with alpha 1, as PyTorch's default. */
    public static Activation elu() {
        return ELU_1;
    }

    /** ELU with the given alpha: the value {@code −alpha} approached as {@code z → −∞}. */
    public static Activation elu(float alpha) {
        return new Activation(Kind.ELU, alpha);
    }

    public static Activation identity() {
        return IDENTITY;
    }

    /**
     * PReLU with the slopes in {@code slope}, a tensor {@code [out]} of the backend that runs the layer: read by
     * every call it is passed to, so a step that changes the tensor changes the activation. Checked by the call.
     */
    public static Activation prelu(Tensor slope) {
        if (slope == null) {
            throw new IllegalArgumentException("PReLU's slope tensor is null: pass the [out] tensor of slopes, or "
                    + "use Activation.prelu() for a layer that owns them");
        }
        return new Activation(Kind.PRELU, 0f, slope);
    }

    /**
     * PReLU as a layer's activation, the layer owning the slopes (initialised to 0.25, as PyTorch's
     * {@code nn.PReLU}); the fused op itself needs {@link #prelu(Tensor)}.
     */
    public static Activation prelu() {
        return PRELU_OF_LAYER;
    }

    /** Whether backward needs the pre-activation {@code z} kept from forward. */
    public boolean backwardNeedsPreActivation() {
        return kind == Kind.GELU || kind == Kind.ELU || kind == Kind.PRELU;
    }

    /** √(2/π). */
    public static final double GELU_C = 0.7978845608028654;

    @Override
    public String toString() {
        return switch (kind) {
            case LEAKY_RELU -> "leaky_relu(" + alpha + ")";
            case ELU -> "elu(" + alpha + ")";
            case PRELU -> slope == null ? "prelu" : "prelu(slope " + java.util.Arrays.toString(slope.shape()) + ")";
            default -> kind.name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
