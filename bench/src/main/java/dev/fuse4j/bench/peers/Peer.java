package dev.fuse4j.bench.peers;

import dev.fuse4j.Dropout;

import java.util.Optional;

/**
 * Another way to compute the same fused layer, timed beside Fuse4J's backends. JMH and {@code compare} share
 * these: {@link Peers#available()} lists the ones that can run here.
 */
public interface Peer {

    /** Short name for tables and for {@code --peers}: {@code plain-java}, {@code openblas}, {@code pytorch}. */
    String name();

    /** Null when the peer can run here, else why not (shown in the report instead of a row). */
    String unavailableReason();

    /** One line on what it is: library, version, threads. */
    String description();

    /**
     * Whether its dropout mask is the Philox mask of DESIGN.md. A peer with its own RNG (PyTorch's) does the same
     * amount of work but its outputs cannot be compared element by element.
     */
    default boolean usesContractMask() {
        return true;
    }

    /**
     * The library's own matrix product when it has one whose thread count can be set, timed by {@code compare} as
     * a candidate for the machine's peak; empty by default.
     */
    default Optional<LibraryGemm> gemm() {
        return Optional.empty();
    }

    /** Loads the inputs the peer's way; throws {@link IllegalStateException} when the peer is unavailable. */
    PreparedLayer prepare(LayerInputs inputs, Dropout d);
}
