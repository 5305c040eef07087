package dev.fuse4j.nn;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;

import java.util.List;

/**
 * Updates a fixed list of parameters in place from their gradients. Its state (momentum or moment buffers) lives
 * on the parameters' backend next to them and never crosses to the host between steps.
 */
public abstract sealed class Optimizer implements AutoCloseable permits Sgd, Adam {

    private final List<Parameter> params;
    private final String[] slotNames;
    private Tensor[][] state;
    private long steps;
    private boolean closed;

    Optimizer(List<Parameter> params, String... slotNames) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException("an optimizer needs at least one parameter");
        }
        this.params = List.copyOf(params);
        this.slotNames = slotNames.clone();
        this.state = new Tensor[this.params.size()][slotNames.length];
        try {
            for (int i = 0; i < this.params.size(); i++) {
                Parameter p = this.params.get(i);
                for (int s = 0; s < slotNames.length; s++) {
                    state[i][s] = p.value().backend().zeros(p.shape());
                }
            }
        } catch (RuntimeException e) {
            closeState(state);
            throw e;
        }
    }

    /** {@code v}, when it is finite and above 0 (or at least 0 with {@code zeroAllowed}); else an error naming it. */
    static float requireNonNegative(String what, float v, boolean zeroAllowed) {
        if (!(Float.isFinite(v) && (zeroAllowed ? v >= 0f : v > 0f))) {
            throw new IllegalArgumentException(what + " must be finite and " + (zeroAllowed ? ">= 0" : "> 0")
                    + " but is " + v);
        }
        return v;
    }

    /** {@code v}, when it lies in [0, 1); else an error naming it. */
    static float requireFraction(String what, float v) {
        if (!(v >= 0f && v < 1f)) {
            throw new IllegalArgumentException(what + " must be in [0, 1) but is " + v);
        }
        return v;
    }

    /** One update of every parameter from the gradient of the last backward pass. */
    public final void step() {
        if (closed) {
            throw new IllegalStateException("the optimizer was closed");
        }
        for (Parameter p : params) {
            if (p.grad() == null) {
                throw new IllegalStateException("parameter " + p.name() + " has no gradient: run backward "
                        + "before the optimizer step");
            }
        }
        steps++;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            update(p.value().backend(), p, state[i], steps);
        }
    }

    /** Applies one update to {@code p} with its state slots; {@code step} counts from 1. */
    abstract void update(Backend backend, Parameter p, Tensor[] slots, long step);

    /** The type and hyperparameters, which a checkpoint must match before its state is restored. */
    public abstract String describe();

    /** Steps taken so far (restored by checkpoints: Adam's bias correction depends on it). */
    public final long steps() {
        return steps;
    }

    public final List<Parameter> parameters() {
        return params;
    }

    final boolean isClosed() {
        return closed;
    }

    /** The name of slot {@code s} of each parameter's state, such as {@code velocity} or {@code m}. */
    final String[] slotNames() {
        return slotNames.clone();
    }

    final Tensor[][] state() {
        return state;
    }

    /** Swaps in restored state; the old tensors are released. */
    final void restore(Tensor[][] newState, long newSteps) {
        Tensor[][] old = state;
        state = newState;
        steps = newSteps;
        closeState(old);
    }

    private static void closeState(Tensor[][] st) {
        for (Tensor[] row : st) {
            for (Tensor t : row) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            closeState(state);
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
