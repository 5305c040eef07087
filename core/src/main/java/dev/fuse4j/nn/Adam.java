package dev.fuse4j.nn;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;

import java.util.List;
import java.util.Locale;

/** Adam with bias correction and coupled (L2) weight decay, as {@code torch.optim.Adam}. */
public final class Adam extends Optimizer {

    private final float lr;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;

    /** The usual defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(List<Parameter> params, float lr) {
        this(params, lr, 0.9f, 0.999f, 1e-8f, 0f);
    }

    public Adam(List<Parameter> params, float lr, float beta1, float beta2, float eps, float weightDecay) {
        super(checked(params, lr, beta1, beta2, eps, weightDecay), "m", "v");
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** Checked before the superclass allocates state, so a bad value leaks nothing. */
    private static List<Parameter> checked(List<Parameter> params, float lr, float beta1, float beta2, float eps,
                                           float weightDecay) {
        requireNonNegative("Adam learning rate", lr, false);
        requireFraction("Adam beta1", beta1);
        requireFraction("Adam beta2", beta2);
        requireNonNegative("Adam eps", eps, false);
        requireNonNegative("Adam weight decay", weightDecay, true);
        return params;
    }

    @Override
    void update(Backend backend, Parameter p, Tensor[] slots, long step) {
        backend.adamStep(p.value(), p.grad(), slots[0], slots[1], lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "adam(lr=%s, betas=(%s, %s), eps=%s, weight_decay=%s)", lr, beta1, beta2,
                eps, weightDecay);
    }
}
