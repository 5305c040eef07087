package dev.fuse4j.contract;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Tensor;
import dev.fuse4j.TensorCounts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;

import java.lang.reflect.Method;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What every suite run against one backend shares: the backend is opened before each test (a backend that cannot
 * run here skips the test with its reason, never passes it, and fails it where {@link Required} says it must run)
 * and every tensor a test makes must be closed by it.
 */
public abstract class BackendSuite {

    /** The backend under test; throw {@link BackendUnavailableException} when it cannot run here. */
    protected abstract Backend createBackend();

    /**
     * The {@link Required} name of the backend under test: by default the last part of the suite's package
     * ({@code dev.fuse4j.opencl} requires {@code opencl}), or null where that is not a known name.
     */
    protected String requirement() {
        String pkg = getClass().getPackageName();
        String last = pkg.substring(pkg.lastIndexOf('.') + 1);
        return Required.NAMES.contains(last) ? last : null;
    }

    protected Backend backend;
    private TensorCounts before;

    @BeforeEach
    void openBackend() {
        try {
            backend = createBackend();
        } catch (BackendUnavailableException e) {
            Required.missing(requirement(), "backend unavailable here: " + e.getMessage());
        }
        before = Tensor.counts();
    }

    /** Counts what this test made and did not close, so a leak is blamed on it even if the Cleaner ran meanwhile. */
    @AfterEach
    void nothingLeaked(TestInfo test) {
        if (backend != null) {
            long leaked = Tensor.counts().leakedSince(before);
            String method = test.getTestMethod().map(Method::getName).orElse("?");
            String name = test.getDisplayName().startsWith(method + "(") ? method
                    : method + " " + test.getDisplayName(); // a parameterised case: which one
            assertEquals(0, leaked, leaked + " tensor(s) made by " + getClass().getSimpleName() + "." + name
                    + " were not closed");
        }
    }
}
