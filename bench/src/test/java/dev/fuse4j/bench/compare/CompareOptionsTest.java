package dev.fuse4j.bench.compare;

import dev.fuse4j.bench.peers.StandardShapes;
import dev.fuse4j.spi.LinearShape;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompareOptionsTest {

    @Test
    void defaultsAreTheStandardShapesEveryPeerAndTheOutFolder() {
        CompareOptions o = CompareOptions.parse();
        assertEquals(StandardShapes.CPU, o.shapes());
        assertNull(o.peers(), "every peer that can run");
        assertEquals(List.of(), o.backends(), "every available backend");
        assertEquals(0.5f, o.p());
        assertEquals(Path.of("fuse4j-out"), o.out());
        assertTrue(o.check());
    }

    @Test
    void optionsAreParsed() {
        CompareOptions o = CompareOptions.parse("--shapes", "2x3x4, 5x6->7", "--p", "0.25", "--reps", "3", "--peers",
                "none", "--backends", "cpu,opencl:0", "--no-check", "--budget", "2.5", "--warmup", "0", "--out", "x/y");
        assertEquals(List.of(new LinearShape(2, 3, 4), new LinearShape(5, 6, 7)), o.shapes());
        assertEquals(0.25f, o.p());
        assertEquals(3, o.reps());
        assertEquals(0, o.warmup());
        assertEquals(List.of(), o.peers());
        assertEquals(List.of("cpu", "opencl:0"), o.backends());
        assertEquals(2.5, o.budgetSeconds());
        assertEquals(Path.of("x/y"), o.out());
        assertFalse(o.check());
        assertEquals(List.of("openblas"), CompareOptions.parse("--peers", "openblas").peers());
        assertEquals(StandardShapes.GPU, CompareOptions.parse("--shapes", "gpu").shapes());
    }

    @Test
    void badValuesAreNamed() {
        expect("'1.5'", "--p", "1.5");
        expect("'NaN'", "--p", "NaN");
        expect("'half'", "--p", "half");
        expect("'many'", "--reps", "many");
        expect("at least 1 but is 0", "--reps", "0");
        expect("at least 0 but is -1", "--warmup", "-1");
        expect("'0'", "--budget", "0");
        expect("'--fast'", "--fast");
        expect("--shapes needs a value", "--shapes");
        expect("--p needs a value", "--p", "--reps", "3");
        expect("'2x3'", "--shapes", "2x3");
        expect("'0x3x4'", "--shapes", "0x3x4");
        expect("'axbxc'", "--shapes", "axbxc");
        expect("--backends needs at least one name", "--backends", ",");
    }

    private static void expect(String fragment, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompareOptions.parse(args));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
