package dev.fuse4j.nn;

import dev.fuse4j.Tensor;

/**
 * A trainable tensor and the gradient of the last backward pass, both on the model's backend. The layer that
 * created it owns both tensors: callers read them and hand them to an {@link Optimizer}, never close them.
 */
public final class Parameter {

    private final String name;
    private Tensor value;
    private Tensor grad;

    Parameter(String name, Tensor value) {
        this.name = name;
        this.value = value;
    }

    /** A name that is stable across runs, such as {@code layer0.weight}: checkpoints match parameters by it. */
    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    /** The gradient of the last backward pass, or null before the first one. */
    public Tensor grad() {
        return grad;
    }

    public int[] shape() {
        return value.shape();
    }

    /**
     * Replaces the value with {@code data} (row-major, the parameter's shape), for example weights trained
     * elsewhere. The gradient of the last backward pass no longer applies and is dropped.
     */
    public void load(float[] data) {
        if (data.length != value.size()) {
            throw new IllegalArgumentException("parameter " + name + java.util.Arrays.toString(value.shape())
                    + " holds " + value.size() + " values but " + data.length + " were given");
        }
        replaceValue(value.backend().tensor(data, value.shape()));
    }

    void setGrad(Tensor g) {
        Tensor old = grad;
        grad = g;
        if (old != null) {
            old.close();
        }
    }

    /** Swaps in a restored value; the gradient is stale after that and is dropped. */
    void replaceValue(Tensor v) {
        Tensor old = value;
        value = v;
        old.close();
        setGrad(null);
    }

    void close() {
        try {
            value.close();
        } finally {
            setGrad(null);
        }
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(value.shape());
    }
}
