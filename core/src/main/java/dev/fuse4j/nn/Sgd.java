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
        super(check(params, lr, momentum, weightDecay), "velocity");
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    private static List<Parameter> check(List<Parameter> params, float lr, float momentum, float weightDecay) {
        if (!(lr > 0f && Float.isFinite(lr))) {
            throw new IllegalArgumentException("SGD learning rate must be finite and > 0 but is " + lr);
        }
        if (!(momentum >= 0f && momentum < 1f)) {
            throw new IllegalArgumentException("SGD momentum must be in [0, 1) but is " + momentum);
        }
        if (!(weightDecay >= 0f && Float.isFinite(weightDecay))) {
            throw new IllegalArgumentException("SGD weight decay must be finite and >= 0 but is " + weightDecay);
        }
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
