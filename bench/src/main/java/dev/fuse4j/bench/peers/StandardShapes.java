package dev.fuse4j.bench.peers;

import dev.fuse4j.spi.LinearShape;

import java.util.List;
import java.util.Locale;

/** The layer shapes every benchmark and the compare report use, so their figures line up. */
public final class StandardShapes {
    private StandardShapes() {
    }

    /** CPU-sized layers: an MLP's hidden layers at a few batch sizes, MNIST's input layer, and one large layer. */
    public static final List<LinearShape> CPU = List.of(
            new LinearShape(256, 1024, 1024), new LinearShape(1024, 1024, 1024), new LinearShape(128, 784, 512),
            new LinearShape(4096, 256, 256), new LinearShape(2048, 4096, 4096));

    /** GPU-sized layers: large enough to fill a data-centre GPU. */
    public static final List<LinearShape> GPU = List.of(
            new LinearShape(4096, 4096, 4096), new LinearShape(8192, 1024, 1024), new LinearShape(65536, 256, 256));

    /** Parses {@code 256x1024x1024} or {@code 256x1024->1024} (n, in, out). */
    public static LinearShape parse(String s) {
        String[] p = s.trim().toLowerCase(Locale.ROOT).replace("->", "x").replace("×", "x").split("x");
        if (p.length != 3) {
            throw new IllegalArgumentException("shape '" + s + "' must be NxINxOUT, for example 256x1024x1024");
        }
        try {
            return new LinearShape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shape '" + s + "' must be NxINxOUT with whole numbers", e);
        }
    }
}
