package dev.fuse4j.bench.compare;

import dev.fuse4j.bench.StandardShapes;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompareOptionsTest {

    @Test
    void defaultsAreTheStandardShapesAndAllPeers() {
        CompareOptions o = CompareOptions.parse();
        assertEquals(StandardShapes.CPU, o.shapes());
        assertEquals(List.of("plain-java", "openblas"), o.peers());
        assertEquals(0.5f, o.p());
        assertTrue(o.check());
    }

    @Test
    void optionsAreParsed() {
        CompareOptions o = CompareOptions.parse("--shapes", "2x3x4,5x6->7", "--p", "0.25", "--reps", "3", "--peers",
                "none", "--backends", "cpu", "--no-check", "--budget", "2.5");
        assertEquals(List.of(new StandardShapes.Shape(2, 3, 4), new StandardShapes.Shape(5, 6, 7)), o.shapes());
        assertEquals(0.25f, o.p());
        assertEquals(3, o.reps());
        assertEquals(List.of(), o.peers());
        assertEquals(List.of("cpu"), o.backends());
        assertEquals(2.5, o.budgetSeconds());
        assertTrue(!o.check());
    }

    @Test
    void badValuesAreNamed() {
        expect("1.5", "--p", "1.5");
        expect("'many'", "--reps", "many");
        expect("at least 1", "--reps", "0");
        expect("'gpu-magic'", "--peers", "gpu-magic");
        expect("'--fast'", "--fast");
        expect("needs a value", "--shapes");
        expect("'2x3'", "--shapes", "2x3");
    }

    private static void expect(String fragment, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompareOptions.parse(args));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
