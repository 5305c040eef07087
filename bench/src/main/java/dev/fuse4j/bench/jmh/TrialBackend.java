package dev.fuse4j.bench.jmh;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;

/** Opens the backend a benchmark's {@code backend} parameter names, for a trial's setup. */
final class TrialBackend {
    private TrialBackend() {
    }

    /**
     * The backend called {@code name}; one that cannot run here fails the trial with the reason, so that JMH goes on
     * with the other benchmarks.
     */
    static Backend open(String name) {
        try {
            return Backends.get(name);
        } catch (BackendUnavailableException e) {
            throw new IllegalStateException("backend " + name + " cannot run here: " + e.getMessage(), e);
        }
    }
}
