package dev.fuse4j.cpu;

/**
 * Where a float array's elements sit relative to 64-byte cache lines. A JVM places a large array at the start of a heap
 * region or page (G1's humongous regions, ZGC's and Shenandoah's large objects), so its first element lies the array
 * header's size past a cache-line boundary: 16 bytes with the default compressed class pointers, 12 with compact object
 * headers. A 512-bit load from there spans two lines, and one spanning two lines costs a second access: the 8x2 kernel
 * ran 4–8 % slower so, the GEMM at 2048×4096×4096 5–7 % (docs/performance.md, "An Intel Xeon: KC 256 at 512 bits"). The
 * packed B and C therefore start {@link #LEAD} floats into their arrays. For a small array, whose place in the heap is
 * arbitrary, that costs a few unused floats and changes nothing else.
 */
final class ArrayLayout {
    static final int CACHE_LINE_BYTES = 64;
    /** The base offset as the JVM gives it, or -1 where it could not be read. */
    private static final int READ_BASE_OFFSET = readFloatBaseOffset();
    /** Whether {@link #FLOAT_BASE_OFFSET} was read from the JVM rather than assumed. */
    static final boolean FROM_JVM = READ_BASE_OFFSET >= 0;
    /** The bytes from a float array's start to its first element, when the JVM says; else the usual 16. */
    static final int FLOAT_BASE_OFFSET = FROM_JVM ? READ_BASE_OFFSET : 16;
    /** Floats to skip so that an element lands on a cache line where the array itself starts on one. */
    static final int LEAD = lead(FLOAT_BASE_OFFSET);

    private ArrayLayout() {
    }

    /** The floats from an element {@code baseOffset} bytes past a line's start to the next line's start. */
    static int lead(int baseOffset) {
        return Math.floorMod(-baseOffset, CACHE_LINE_BYTES) / Float.BYTES;
    }

    /**
     * Read from {@code sun.misc.Unsafe}'s public constant by reflection: the field is set when that class loads and
     * reading it is no memory access (unlike its methods, which JDK 24 and later warn about). Where the class is
     * absent (a runtime image without {@code jdk.unsupported}) or the field has gone, -1, and 16 is assumed: a wrong
     * guess costs only speed.
     */
    private static int readFloatBaseOffset() {
        try {
            return Class.forName("sun.misc.Unsafe").getField("ARRAY_FLOAT_BASE_OFFSET").getInt(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return -1;
        }
    }
}
