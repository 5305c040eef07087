package dev.fuse4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The layer shapes every benchmark and the compare report use, so their figures line up. */
public final class StandardShapes {
    private StandardShapes() {
    }

    /** One fused layer: {@code x [n, in]}, {@code w [out, in]}. */
    public record Shape(int n, int in, int out) {
        public Shape {
            if (n < 1 || in < 1 || out < 1) {
                throw new IllegalArgumentException("shape " + n + "x" + in + "->" + out + ": every size must be >= 1");
            }
        }

        /** Floating-point operations of one forward: {@code 2·n·in·out}. */
        public double flops() {
            return 2.0 * n * in * out;
        }

        /** Bytes a forward must move at least: x, w, b in and y out, float32. */
        public double minBytes() {
            return 4.0 * ((double) n * in + (double) out * in + out + (double) n * out);
        }

        /** Parses {@code 256x1024x1024} or {@code 256x1024->1024} (n, in, out). */
        public static Shape parse(String s) {
            String[] p = s.trim().toLowerCase(Locale.ROOT).replace("->", "x").replace("×", "x").split("x");
            if (p.length != 3) {
                throw new IllegalArgumentException("shape '" + s + "' must be NxINxOUT, for example 256x1024x1024");
            }
            try {
                return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("shape '" + s + "' must be NxINxOUT with whole numbers", e);
            }
        }

        @Override
        public String toString() {
            return n + "x" + in + "->" + out;
        }
    }

    /** The five CPU shapes of the foundation issue. */
    public static final List<Shape> CPU = List.of(
            new Shape(256, 1024, 1024), new Shape(1024, 1024, 1024), new Shape(128, 784, 512),
            new Shape(4096, 256, 256), new Shape(2048, 4096, 4096));

    /** The GPU shapes of the CUDA issue. */
    public static final List<Shape> GPU = List.of(
            new Shape(4096, 4096, 4096), new Shape(8192, 1024, 1024), new Shape(65536, 256, 256));

    /** Parses a comma-separated list such as {@code 64x64x64,128x784x512}. */
    public static List<Shape> parseList(String csv) {
        List<Shape> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                out.add(Shape.parse(s));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no shape in '" + csv + "'");
        }
        return out;
    }
}
