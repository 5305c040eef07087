package dev.fuse4j.cuda;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without a GPU the backend must say why in probe(), refuse get() with that reason, and let select() move on. */
class CudaAvailabilityTest {

    @Test
    void probeSaysWhatWasFoundOrWhyNot() {
        List<BackendStatus> cuda = Backends.probe().stream().filter(s -> s.name().startsWith("cuda")).toList();
        assertFalse(cuda.isEmpty(), "the cuda provider is registered");
        for (BackendStatus s : cuda) {
            if (s.available()) {
                assertTrue(s.device().contains("compute capability"), s.device());
            } else {
                assertEquals("cuda", s.name());
                assertFalse(s.reason().isBlank());
            }
        }
    }

    @Test
    void unavailableIsAnExplainedExceptionEveryTime() {
        BackendStatus first = Backends.probe().stream().filter(s -> s.name().startsWith("cuda")).findFirst()
                .orElseThrow();
        if (first.available()) {
            int count = (int) Backends.probe().stream().filter(s -> s.name().startsWith("cuda")).count();
            assertThrows(BackendUnavailableException.class, () -> Backends.get("cuda:" + count));
            return;
        }
        // The provider remembers the first failure (UnsatisfiedLinkError); asking again must give the same reason.
        for (int i = 0; i < 2; i++) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.get("cuda"));
            assertTrue(e.getMessage().contains(first.reason()), e.getMessage());
        }
        // A fresh load meets JCuda's NoClassDefFoundError, a LinkageError too: still unavailable, never thrown.
        assertTrue(CudaDriver.load().unavailableReason() != null);
        assertFalse(Backends.select().name().startsWith("cuda"), "select() moved on");
    }
}
