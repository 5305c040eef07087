package dev.fuse4j.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The lead that puts a packed operand's first element on a cache line. */
class ArrayLayoutTest {

    @Test
    void theLeadReachesTheNextCacheLine() {
        // Compressed class pointers (the default), compact object headers, neither, and JDK 21 without them.
        assertEquals(12, ArrayLayout.lead(16));
        assertEquals(13, ArrayLayout.lead(12));
        assertEquals(11, ArrayLayout.lead(20));
        assertEquals(10, ArrayLayout.lead(24));
        assertEquals(0, ArrayLayout.lead(64));
        for (int base = 0; base <= 128; base += 4) {
            int lead = ArrayLayout.lead(base);
            assertTrue(lead >= 0 && lead < ArrayLayout.CACHE_LINE_BYTES / Float.BYTES, "lead " + lead);
            assertEquals(0, (base + lead * Float.BYTES) % ArrayLayout.CACHE_LINE_BYTES, "base offset " + base);
        }
    }

    @Test
    void thisJvmsBaseOffsetIsAnArrayHeadersSize() {
        // Read from the JVM, not guessed: 12 (compact headers), 16 or 20 bytes on the JVMs this project runs on.
        assertTrue(ArrayLayout.FROM_JVM, "the base offset was assumed, not read");
        assertTrue(ArrayLayout.FLOAT_BASE_OFFSET == 12 || ArrayLayout.FLOAT_BASE_OFFSET == 16
                || ArrayLayout.FLOAT_BASE_OFFSET == 20 || ArrayLayout.FLOAT_BASE_OFFSET == 24,
                "float[] base offset " + ArrayLayout.FLOAT_BASE_OFFSET);
        assertEquals(ArrayLayout.lead(ArrayLayout.FLOAT_BASE_OFFSET), ArrayLayout.LEAD);
    }

    @Test
    void compactObjectHeadersMoveTheElementsAndTheLeadFollows() throws IOException, InterruptedException {
        assumeTrue(Runtime.version().feature() >= 25,
                "compact object headers are a product option from JDK 25; this is JDK " + Runtime.version());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-XX:+UseCompactObjectHeaders", "-cp",
                System.getProperty("java.class.path"), PrintLayout.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        assertEquals("base 12, lead 13", output.strip());
    }

    /** Prints this JVM's layout, for the child JVM above. */
    static final class PrintLayout {
        public static void main(String[] args) {
            System.out.println("base " + ArrayLayout.FLOAT_BASE_OFFSET + (ArrayLayout.FROM_JVM ? "" : " (assumed)")
                    + ", lead " + ArrayLayout.LEAD);
        }
    }
}
