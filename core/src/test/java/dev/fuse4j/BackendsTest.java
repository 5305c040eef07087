package dev.fuse4j;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Core alone has no backend module on its class path: names must still be refused clearly. */
class BackendsTest {

    @Test
    void unknownNamesAreIllegalArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.get("tpu"));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Backends.get("cpu:x"));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backends.get(" "));
    }

    @Test
    void statusSaysEverythingInOneLine() {
        String s = BackendStatus.unavailable("cuda", "no driver (libcuda.so.1 not found)").toString();
        assertTrue(s.contains("cuda") && s.contains("unavailable") && s.contains("libcuda.so.1"), s);
        String a = BackendStatus.available("cpu", "2 cores, AVX2").toString();
        assertTrue(a.contains("cpu") && a.contains("available") && a.contains("AVX2"), a);
    }
}
