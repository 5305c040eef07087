package dev.fuse4j.contract;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What every suite run against one backend shares: the backend is opened before each test (a backend that cannot
 * run here skips the test with its reason, never passes it) and no tensor may outlive a test.
 */
public abstract class BackendSuite {

    /** The backend under test; throw {@link BackendUnavailableException} when it cannot run here. */
    protected abstract Backend createBackend();

    protected Backend backend;
    private long liveBefore;

    @BeforeEach
    void openBackend() {
        try {
            backend = createBackend();
        } catch (BackendUnavailableException e) {
            Assumptions.abort("backend unavailable here: " + e.getMessage());
        }
        liveBefore = Tensor.liveCount();
    }

    @AfterEach
    void nothingLeaked() {
        if (backend != null) {
            assertEquals(liveBefore, Tensor.liveCount(), "tensors leaked by this test");
        }
    }
}
