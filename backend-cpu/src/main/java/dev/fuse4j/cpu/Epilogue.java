package dev.fuse4j.cpu;

import dev.fuse4j.Activation;

/** The activation and its derivative in float32, as every CPU path applies them. */
final class Epilogue {
    private Epilogue() {
    }

    static final float GELU_C = (float) Activation.GELU_C;
    static final float GELU_A = 0.044715f;

    /** {@code act(z)}; for PRELU {@code alpha} is the slope of z's column. */
    static float activate(Activation.Kind kind, float alpha, float z) {
        return switch (kind) {
            case RELU -> Math.max(z, 0f);
            case LEAKY_RELU -> z > 0f ? z : alpha * z;
            case GELU -> 0.5f * z * (1f + (float) Math.tanh(GELU_C * (z + GELU_A * z * z * z)));
            case IDENTITY -> z;
            case ELU -> z > 0f ? z : alpha * (float) Math.expm1(z);
            case PRELU -> z > 0f ? z : alpha * z;
        };
    }

    static float geluDerivative(float z) {
        float t = (float) Math.tanh(GELU_C * (z + GELU_A * z * z * z));
        float du = GELU_C * (1f + 3f * GELU_A * z * z);
        return 0.5f * (1f + t) + 0.5f * z * (1f - t * t) * du;
    }

    /** ELU's slope {@code α·eᶻ} on its side {@code z <= 0}. */
    static float eluDerivative(float alpha, float z) {
        return alpha * (float) Math.exp(z);
    }

    /**
     * dz for one element, with PyTorch's tests at the kinks. RELU reads mask and side off y ({@code y <= 0} gives 0,
     * so a NaN y passes the gradient); the others are told whether the element was kept (the regenerated Philox
     * mask): LEAKY_RELU takes its side from {@code y > 0} (a NaN takes the slope α), ELU from {@code z <= 0} (a NaN
     * passes the gradient), PRELU (alpha: the column's slope) from {@code z > 0} (a NaN takes the slope).
     */
    static float dz(Activation.Kind kind, float alpha, float scale, float dy, float y, float z, boolean kept) {
        return switch (kind) {
            case RELU -> y <= 0f ? 0f : dy * scale;
            case LEAKY_RELU -> kept ? (y > 0f ? dy * scale : dy * scale * alpha) : 0f;
            case GELU -> kept ? dy * scale * geluDerivative(z) : 0f;
            case IDENTITY -> kept ? dy * scale : 0f;
            case ELU -> kept ? (z <= 0f ? dy * scale * eluDerivative(alpha, z) : dy * scale) : 0f;
            case PRELU -> kept ? (z > 0f ? dy * scale : dy * scale * alpha) : 0f;
        };
    }

    /**
     * One element's term of PReLU's slope gradient: {@code dy·s·z} where kept and {@code z > 0} fails (PyTorch's
     * test, so a NaN z gives NaN), else 0.
     */
    static float slopeTerm(float scale, float dy, float z, boolean kept) {
        return kept && !(z > 0f) ? dy * scale * z : 0f;
    }
}
