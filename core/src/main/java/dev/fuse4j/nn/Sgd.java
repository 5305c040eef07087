package dev.fuse4j.nn;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;

import java.util.List;
import java.util.Locale;

/** SGD with momentum and coupled (L2) weight decay, as {@code torch.optim.SGD} with dampening 0, not Nesterov. */
public final class Sgd extends Optimizer {

    private final float lr;
    private final float momentum;
    private final float weightDecay;

    public Sgd(List<Parameter> params, float lr, float momentum, float weightDecay) {
        super(checked(params, lr, momentum, weightDecay), "velocity");
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /** Checked before the superclass allocates state, so a bad value leaks nothing. */
    private static List<Parameter> checked(List<Parameter> params, float lr, float momentum, float weightDecay) {
        requireNonNegative("SGD learning rate", lr, false);
        requireFraction("SGD momentum", momentum);
        requireNonNegative("SGD weight decay", weightDecay, true);
        return params;
    }

    @Override
    void update(Backend backend, Parameter p, Tensor[] slots, long step) {
        backend.sgdStep(p.value(), p.grad(), slots[0], lr, momentum, weightDecay);
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "sgd(lr=%s, momentum=%s, weight_decay=%s)", lr, momentum, weightDecay);
    }
}
