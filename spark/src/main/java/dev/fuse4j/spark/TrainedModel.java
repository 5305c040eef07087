package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.nn.Sequential;

import java.io.Serializable;

/**
 * A model that can travel to the executors: how to build it and its parameter values.
 *
 * @param spec       the architecture and seed
 * @param parameters every parameter value in {@link Sequential#parameterLayout()} order; not copied
 */
public record TrainedModel(ModelSpec spec, float[] parameters) implements Serializable {

    /** The model on {@code backend} with these parameters, in evaluation mode. */
    public Sequential build(Backend backend) {
        Sequential m = spec.build(backend);
        try {
            m.loadParameters(parameters);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m.eval();
    }
}
