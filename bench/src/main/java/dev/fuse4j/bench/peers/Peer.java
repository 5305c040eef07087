package dev.fuse4j.bench.peers;

import dev.fuse4j.Dropout;
import dev.fuse4j.bench.StandardShapes.Shape;

/**
 * Another way to compute the same layer, timed beside Fuse4J's backends: on host arrays, with the same Philox mask
 * so its output can be checked too. JMH and {@code compare} share these.
 */
public interface Peer {

    /** Short name for tables: {@code plain-java}, {@code openblas}. */
    String name();

    /** Null when the peer can run here, else why not (shown in the report instead of a row). */
    String unavailableReason();

    /** One line on what it is. */
    String description();

    /** {@code y = dropout(relu(x·wᵀ + b))}. */
    float[] forward(float[] x, float[] w, float[] b, Shape s, Dropout d);

    /** {@code {dx, dw, db}} from {@code dy} and the forward output {@code y}; null when the peer has no backward. */
    float[][] backward(float[] dy, float[] x, float[] w, float[] y, Shape s, Dropout d);
}
