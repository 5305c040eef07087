package dev.fuse4j.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The vector shape this JVM computes with and the GEMM blocking chosen for it; every width-dependent constant of the
 * backend lives here. The float species comes from the Vector API; the register file C2 allocates from does not, so
 * it is read from HotSpot's {@code UseAVX} / {@code UseSVE} flags, else inferred from the species width. The
 * microkernel and its cache blocking come from a table measured per width and register count
 * ({@link #blockingFor}).
 *
 * <p>The CPU's vendor ({@code /proc/cpuinfo}'s {@code vendor_id}, where there is one) enters the table too: at 512 bits
 * an AMD Zen 5 and an Intel Xeon wanted different KC.
 *
 * <p>Three system properties override the choice so that every variant can be tested and timed on any machine:
 * {@value #VECTOR_BITS} (128, 256 or 512, at most this JVM's own width) narrows the species and picks that width's
 * blocking; {@value #KERNEL} ({@code 4x2}, {@code 6x2}, ...) forces a microkernel; {@value #KC} forces the k steps
 * per block.
 */
final class Tuning {
    static final String VECTOR_BITS = "fuse4j.cpu.vectorBits";
    static final String KERNEL = "fuse4j.cpu.kernel";
    static final String KC = "fuse4j.cpu.kc";
    /** The largest KC {@value #KC} may force: a B slice of 8192 k steps is far past every L2. */
    static final int MAX_KC = 8192;
    static final String AMD = "AuthenticAMD";
    static final String INTEL = "GenuineIntel";

    /** The ISA C2 emits vector code for and the count of vector registers it allocates from. */
    record RegisterFile(String isa, int count) {
    }

    /**
     * A microkernel and its cache blocking: {@code kc} k steps per block (one B panel slice of {@code kc × NR}
     * floats stays in L1 while A micro-panels stream past it) and {@code mc} rows per packed A block (in L2).
     */
    record Blocking(Microkernel kernel, int kc, int mc) {
        Blocking {
            if (kc < 1 || mc < kernel.rows() || mc % kernel.rows() != 0) {
                throw new IllegalArgumentException("blocking KC " + kc + ", MC " + mc + " does not fit kernel "
                        + kernel.shape() + ": KC must be positive and MC a positive multiple of " + kernel.rows());
            }
        }

        Blocking with(Microkernel other) {
            return new Blocking(other, kc, Math.max(1, mc / other.rows()) * other.rows());
        }

        Blocking withKc(int otherKc) {
            return new Blocking(kernel, otherKc, mc);
        }
    }

    static final VectorSpecies<Float> S;
    /** Floats per vector. */
    static final int L;
    static final RegisterFile REGISTERS;
    /** The CPU's {@code vendor_id} ({@link #INTEL}, {@link #AMD}, ...), or null where the OS does not say. */
    static final String VENDOR;
    /** Whether the {@code 6x2} kernel keeps each row's broadcast after the row before ({@link #ordersBroadcasts}). */
    static final boolean ORDERED_BROADCASTS;
    static final Blocking BLOCKING;
    /** What was wrong with the {@code fuse4j.cpu} options, or null when they were honoured. */
    static final String OPTION_PROBLEM;

    static {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String problem = null;
        int bits = preferred;
        try {
            bits = vectorBits(System.getProperty(VECTOR_BITS), preferred);
        } catch (IllegalArgumentException e) {
            problem = withProblem(problem, e.getMessage());
        }
        S = bits == preferred ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        L = S.length();
        REGISTERS = registerFile(System.getProperty("os.arch"), vmOption("UseAVX"), vmOption("UseSVE"), preferred);
        ORDERED_BROADCASTS = ordersBroadcasts(REGISTERS);
        VENDOR = vendor(Path.of("/proc/cpuinfo"));
        Blocking blocking = blockingFor(bits, REGISTERS, VENDOR);
        String forced = System.getProperty(KERNEL);
        if (forced != null) {
            try {
                blocking = blocking.with(Microkernel.named(forced));
            } catch (IllegalArgumentException e) {
                problem = withProblem(problem, KERNEL + ": " + e.getMessage());
            }
        }
        try {
            blocking = blocking.withKc(kc(System.getProperty(KC), blocking.kc()));
        } catch (IllegalArgumentException e) {
            problem = withProblem(problem, e.getMessage());
        }
        BLOCKING = blocking;
        OPTION_PROBLEM = problem;
    }

    /** {@code problems} (null: none yet) with {@code why} added, so that every bad option is named at once. */
    private static String withProblem(String problems, String why) {
        return problems == null ? why : problems + "; " + why;
    }

    private Tuning() {
    }

    /**
     * The microkernel and cache blocking for {@code bits}-wide vectors, {@code registers} vector registers and a CPU of
     * {@code vendor} (null: unknown): the measured table. With 16 registers, {@code 6x2} (12 accumulators) with its
     * broadcasts ordered ({@link #ordersBroadcasts}) beat {@code 4x2} in the whole layer by 3–8 % forward and up to 8 %
     * backward (0.99 at one shape) on AVX2: 8 accumulators are exactly the FMAs two pipes of latency 4 keep in flight,
     * and the kernel loop reached 100 GFLOP/s against 110 for {@code 6x2} and 113 for the FMA loop; where broadcasts
     * cannot be ordered, {@code 4x2} stays (docs/performance.md, "Twelve accumulators in sixteen registers"). On an
     * Intel Xeon's AVX2 KC 256, 384 and 512 came within 3 % of each other. With 32, {@code 8x2} led {@code 6x2},
     * {@code 6x4} and {@code 12x2} at every width on Zen 5, and KC 256 beat 128 and 192 (K of 256 is common, and a
     * shorter KC adds a pass over C). At 512 bits an AMD Zen 5 then ran KC 512 faster than 256 and 384 at every
     * standard shape, by 1–6 % (up to 15 % where K is 784: 512 + 272 instead of 3 × 256 + 16), its 64 KiB B slice
     * streaming from L2 in order (docs/performance.md, "KC at 512 bits"); an Intel Xeon (Granite Rapids class, 48 KiB
     * L1, 2 MiB L2) ran the GEMM 1.07–1.11× faster with KC 256 where K ≥ 1024 (1.01× at K = 784), its 32 KiB slice
     * staying in L1 (docs/performance.md, "An Intel Xeon: KC 256 at 512 bits"). So KC 512 is kept for AMD only; a CPU
     * of another or unknown vendor gets the slice that fits L1. The A block ({@code MC × KC}) is at most 288 KiB,
     * within an L2 of the machines measured; {@link PackedGemm#aBlockRows} makes it larger where B is too large to stay
     * in the caches.
     */
    static Blocking blockingFor(int bits, RegisterFile registers, String vendor) {
        if (registers.count() >= 32) {
            return new Blocking(Microkernel.K8X2, bits >= 512 && AMD.equals(vendor) ? 512 : 256, 144);
        }
        // Unordered, 6x2 spills and runs at half speed: 4x2 is the largest tile that fits.
        return new Blocking(ordersBroadcasts(registers) ? Microkernel.K6X2 : Microkernel.K4X2, 384, 96);
    }

    /** The CPU vendor in {@code cpuinfo} (Linux's {@code /proc/cpuinfo}), or null where it is absent or unreadable. */
    static String vendor(Path cpuinfo) {
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return vendor(lines.limit(64).toList());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The value of the first {@code vendor_id} line of {@code cpuinfo}'s lines, or null. */
    static String vendor(List<String> lines) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("vendor_id")) {
                String value = line.substring(colon + 1).trim();
                return value.isEmpty() ? null : value;
            }
        }
        return null;
    }

    /** The KC {@code property} asks for (null: {@code chosen}, the table's). */
    static int kc(String property, int chosen) {
        if (property == null || property.isBlank()) {
            return chosen;
        }
        int kc = wholeNumber(property);
        if (kc < 1 || kc > MAX_KC) {
            throw new IllegalArgumentException(KC + " is '" + property + "' but must be a whole number of k steps, 1 "
                    + "to " + MAX_KC);
        }
        return kc;
    }

    /** {@code property} read as a whole number, or -1 where it is not one. */
    private static int wholeNumber(String property) {
        try {
            return Integer.parseInt(property.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Whether the {@code 6x2} kernel orders each row's broadcast after the previous row's with a load-load fence:
     * where the register file has 16 registers, which its tile fills only if C2 keeps one or two broadcasts live, and
     * only on x86, where that fence emits no instruction. Elsewhere (AArch64: {@code dmb ishld}) it would cost a
     * barrier per row, and 32 registers need no ordering.
     */
    static boolean ordersBroadcasts(RegisterFile registers) {
        return registers.count() <= 16 && switch (registers.isa()) {
            case "SSE", "AVX", "AVX2" -> true;
            default -> false;
        };
    }

    /** The vector width {@code property} asks for (null: the JVM's own), checked against {@code preferred}. */
    static int vectorBits(String property, int preferred) {
        if (property == null || property.isBlank()) {
            return preferred;
        }
        int bits = wholeNumber(property);
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException(VECTOR_BITS + " is '" + property + "' but must be 128, 256 or 512");
        }
        if (bits > preferred) {
            throw new IllegalArgumentException(VECTOR_BITS + " is " + bits + " but this JVM's widest float vector is "
                    + preferred + " bits: only narrower widths can be forced");
        }
        return bits;
    }

    /**
     * The register file C2 compiles vectors for. {@code useAvx} and {@code useSve} are HotSpot's flags (null when
     * unknown); without them it is inferred from the JVM's own vector width {@code preferredBits}.
     */
    static RegisterFile registerFile(String arch, String useAvx, String useSve, int preferredBits) {
        String a = arch == null ? "" : arch.toLowerCase(Locale.ROOT);
        if (a.equals("amd64") || a.equals("x86_64") || a.equals("x86") || a.equals("i386")) {
            int level = useAvx != null ? Integer.parseInt(useAvx.trim()) : preferredBits >= 512 ? 3
                    : preferredBits >= 256 ? 2 : 0;
            return switch (level) {
                case 0 -> new RegisterFile("SSE", 16);
                case 1 -> new RegisterFile("AVX", 16);
                case 2 -> new RegisterFile("AVX2", 16);
                default -> new RegisterFile("AVX-512", 32); // EVEX encoding reaches 32 registers at every width
            };
        }
        if (a.equals("aarch64") || a.equals("arm64")) {
            boolean sve = useSve != null ? Integer.parseInt(useSve.trim()) > 0 : preferredBits > 128;
            return new RegisterFile(sve ? "SVE" : "NEON", 32);
        }
        return new RegisterFile(arch, preferredBits >= 512 ? 32 : 16);
    }

    /** HotSpot's flag {@code name}, or null where it does not exist or the management module is absent. */
    private static String vmOption(String name) {
        try {
            return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name).getValue();
        } catch (IllegalArgumentException | LinkageError e) {
            return null;
        }
    }

    /** The choice in one line, such as {@code AVX2 (GenuineIntel), 256-bit, kernel 6x2L, KC 384}. */
    static String describe(Blocking blocking) {
        return REGISTERS.isa() + (VENDOR == null ? "" : " (" + VENDOR + ")") + ", " + S.vectorBitSize()
                + "-bit, kernel " + blocking.kernel().shape() + "L, KC " + blocking.kc();
    }
}
