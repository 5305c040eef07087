package dev.fuse4j.contract;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FUSE4J_REQUIRE turns a skip for want of a backend or tool into a failure, and refuses names no test knows. */
class RequiredTest {
    private final String saved = System.getProperty("fuse4j.require");

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty("fuse4j.require");
        } else {
            System.setProperty("fuse4j.require", saved);
        }
    }

    /** The names this run was given are ones the tests ask about: a typo in CI's list fails here. */
    @Test
    void thisRunsRequirementsAreKnownNames() {
        assertTrue(Required.NAMES.containsAll(Required.names()), Required.names().toString());
    }

    @Test
    void namesAreCommaSeparatedAndTrimmed() {
        System.setProperty("fuse4j.require", " opencl, host-cuda,,openblas ");
        assertEquals(Set.of("opencl", "host-cuda", "openblas"), Required.names());
        assertTrue(Required.isRequired("opencl"));
        assertTrue(!Required.isRequired("cuda"));
        System.setProperty("fuse4j.require", "");
        assertEquals(Set.of(), Required.names());
    }

    @Test
    void anUnknownNameIsRefusedWithTheKnownOnes() {
        System.setProperty("fuse4j.require", "opencl,pocl");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Required::names);
        assertTrue(e.getMessage().contains("[pocl]") && e.getMessage().contains("host-cuda"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Required.isRequired("g++"));
        assertTrue(e.getMessage().contains("'g++'"), e.getMessage());
    }

    @Test
    void aMissingThingFailsWhereRequiredAndSkipsElsewhere() {
        System.setProperty("fuse4j.require", "opencl");
        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> Required.missing("opencl", "no OpenCL platform"));
        assertTrue(failed.getMessage().contains("opencl is required here")
                && failed.getMessage().contains("no OpenCL platform"), failed.getMessage());
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> Required.missing("host-cuda", "g++ is not on the PATH"));
        assertTrue(skipped.getMessage().contains("g++ is not on the PATH"), skipped.getMessage());
        assertThrows(TestAbortedException.class, () -> Required.missing(null, "nothing can require this"));
        Required.assume("opencl", true, "present: goes on");
        assertThrows(AssertionFailedError.class, () -> Required.assume("opencl", false, "absent"));
    }

    /** A suite whose backend cannot run: it skips, unless its backend is required. */
    private static final class UnavailableSuite extends BackendSuite {
        private final String name;

        UnavailableSuite(String name) {
            this.name = name;
        }

        @Override
        protected Backend createBackend() {
            throw new BackendUnavailableException("no device of this kind here");
        }

        @Override
        protected String requirement() {
            return name;
        }
    }

    @Test
    void aSuiteWhoseBackendIsRequiredFailsInsteadOfSkipping() {
        System.setProperty("fuse4j.require", "opencl");
        AssertionFailedError e = assertThrows(AssertionFailedError.class, new UnavailableSuite("opencl")::openBackend);
        assertTrue(e.getMessage().contains("no device of this kind here"), e.getMessage());
        assertThrows(TestAbortedException.class, new UnavailableSuite("cuda")::openBackend);
        assertThrows(TestAbortedException.class, new UnavailableSuite(null)::openBackend);
        BackendSuite here = new BackendSuite() {
            @Override
            protected Backend createBackend() {
                throw new BackendUnavailableException("unused");
            }
        };
        assertNull(here.requirement(), "dev.fuse4j.contract names no backend, so nothing requires its suites");
    }
}
