package dev.fuse4j.cuda;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A platform JCuda publishes no natives for (macOS, ARM Linux), played by a class path without the natives jar: the
 * pom runs this class in a Surefire execution that leaves org.jcuda:jcuda-natives out and sets
 * {@value #WITHOUT_NATIVES}. Elsewhere (a -Dtest run reaches every execution) it is skipped.
 */
class CudaWithoutNativesTest {

    static final String WITHOUT_NATIVES = "fuse4j.test.withoutJCudaNatives";

    @Test
    void probeSaysThereAreNoNativesAndSelectMovesOn() {
        assumeTrue(Boolean.getBoolean(WITHOUT_NATIVES), "runs in the without-jcuda-natives Surefire execution");
        assertNull(getClass().getClassLoader().getResource("META-INF/maven/org.jcuda/jcuda-natives/pom.properties"),
                "the without-jcuda-natives execution must leave org.jcuda:jcuda-natives off the class path");
        BackendStatus cuda = Backends.probe().stream().filter(s -> s.name().startsWith("cuda")).findFirst()
                .orElseThrow();
        assertFalse(cuda.available());
        assertTrue(cuda.reason().startsWith("no JCuda natives for this platform (" + JCudaNatives.platform() + ")"),
                cuda.reason());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.get("cuda"));
        assertTrue(e.getMessage().contains("no JCuda natives for this platform"), e.getMessage());
        assertFalse(Backends.select().name().startsWith("cuda"), "select() moved on");
    }
}
