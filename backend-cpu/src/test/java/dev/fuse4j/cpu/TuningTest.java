package dev.fuse4j.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The choices {@link Tuning} and {@link WorkerPool} make from what they read, and the errors for bad settings. */
class TuningTest {

    @Test
    void registerFileComesFromUseAvxElseFromTheWidth() {
        assertEquals(new Tuning.RegisterFile("AVX2", 16), Tuning.registerFile("amd64", "2", null, 256));
        assertEquals(new Tuning.RegisterFile("AVX-512", 32), Tuning.registerFile("amd64", "3", null, 512));
        // AVX-512 hardware held to 256-bit vectors (MaxVectorSize=32) still has 32 registers.
        assertEquals(new Tuning.RegisterFile("AVX-512", 32), Tuning.registerFile("amd64", "3", null, 256));
        assertEquals(new Tuning.RegisterFile("SSE", 16), Tuning.registerFile("amd64", "0", null, 128));
        assertEquals(new Tuning.RegisterFile("AVX-512", 32), Tuning.registerFile("amd64", null, null, 512));
        assertEquals(new Tuning.RegisterFile("AVX2", 16), Tuning.registerFile("x86_64", null, null, 256));
        assertEquals(new Tuning.RegisterFile("NEON", 32), Tuning.registerFile("aarch64", null, "0", 128));
        assertEquals(new Tuning.RegisterFile("SVE", 32), Tuning.registerFile("aarch64", null, "2", 256));
    }

    @Test
    void sixteenRegistersGetAKernelThatFitsThem() {
        // Accumulators and B vectors, plus the broadcasts C2 keeps live: one where they are ordered (x86), three
        // otherwise (C2 hoists them), must fit 16 registers.
        Tuning.RegisterFile avx2 = new Tuning.RegisterFile("AVX2", 16);
        Tuning.RegisterFile other = new Tuning.RegisterFile("riscv64", 16);
        for (int bits : new int[] {128, 256}) {
            Microkernel ordered = Tuning.blockingFor(bits, avx2, null).kernel();
            assertTrue(ordered.rows() * ordered.vectors() + ordered.vectors() + 1 <= 16, ordered.shape());
            // And at least 10 accumulators: 8 only just cover two FMA pipes of latency 4.
            assertTrue(ordered.rows() * ordered.vectors() >= 10, ordered.shape() + " at " + bits + " bits");
            Microkernel unordered = Tuning.blockingFor(bits, other, null).kernel();
            assertTrue(unordered.rows() * unordered.vectors() + unordered.vectors() + 3 <= 16, unordered.shape());
        }
    }

    @Test
    void broadcastsAreOrderedOnlyOnX86WithSixteenRegisters() {
        for (String isa : new String[] {"SSE", "AVX", "AVX2"}) {
            assertTrue(Tuning.ordersBroadcasts(new Tuning.RegisterFile(isa, 16)), isa);
        }
        // A load-load fence is a barrier instruction on AArch64, and 32 registers need no ordering.
        assertFalse(Tuning.ordersBroadcasts(new Tuning.RegisterFile("AVX-512", 32)));
        assertFalse(Tuning.ordersBroadcasts(new Tuning.RegisterFile("NEON", 32)));
        assertFalse(Tuning.ordersBroadcasts(new Tuning.RegisterFile("SVE", 32)));
        assertFalse(Tuning.ordersBroadcasts(new Tuning.RegisterFile("riscv64", 16)));
        assertEquals(Tuning.ordersBroadcasts(Tuning.REGISTERS), Tuning.ORDERED_BROADCASTS);
    }

    @Test
    void everyBlockingOfTheTableFitsTheCachesItWasMeasuredOn() {
        // {bits, registers} as machines have them: 512-bit vectors come with AVX-512's 32 registers. The B slice
        // stays in a 32 KiB L1, except at 512 bits on AMD, where the measured KC 512 streams a 64 KiB slice from L2.
        for (String vendor : new String[] {Tuning.AMD, Tuning.INTEL, "CentaurHauls", null}) {
            for (int[] machine : new int[][] {{128, 16}, {256, 16}, {128, 32}, {256, 32}, {512, 32}}) {
                Tuning.Blocking b = Tuning.blockingFor(machine[0],
                        new Tuning.RegisterFile(machine[1] == 16 ? "AVX2" : "AVX-512", machine[1]), vendor);
                int nr = b.kernel().vectors() * machine[0] / Float.SIZE;
                int slice = machine[0] >= 512 && Tuning.AMD.equals(vendor) ? 64 * 1024 : 32 * 1024;
                String where = b + " at " + machine[0] + " bits on " + vendor;
                assertTrue(b.kc() * nr * Float.BYTES <= slice, "B slice of " + where);
                assertTrue(b.mc() * b.kc() * Float.BYTES <= 288 * 1024, "A block of " + where);
            }
        }
    }

    @Test
    void kc512AtFiveHundredTwelveBitsOnAmdOnly() {
        Tuning.RegisterFile avx512 = new Tuning.RegisterFile("AVX-512", 32);
        assertEquals(512, Tuning.blockingFor(512, avx512, Tuning.AMD).kc());
        assertEquals(256, Tuning.blockingFor(512, avx512, Tuning.INTEL).kc());
        assertEquals(256, Tuning.blockingFor(512, avx512, null).kc());
        assertEquals(256, Tuning.blockingFor(256, avx512, Tuning.AMD).kc());
        assertEquals(Microkernel.K8X2, Tuning.blockingFor(512, avx512, Tuning.INTEL).kernel());
    }

    @Test
    void theVendorIsReadFromCpuinfo(@TempDir Path dir) throws Exception {
        assertEquals(Tuning.INTEL, Tuning.vendor(List.of("processor\t: 0", "vendor_id\t: GenuineIntel",
                "cpu family\t: 6")));
        assertEquals(Tuning.AMD, Tuning.vendor(List.of("vendor_id : AuthenticAMD")));
        // AArch64's cpuinfo has no vendor_id; a blank one says nothing either.
        assertNull(Tuning.vendor(List.of("processor\t: 0", "CPU implementer\t: 0x41")));
        assertNull(Tuning.vendor(List.of("vendor_id\t:")));
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
        assertEquals(Tuning.AMD, Tuning.vendor(cpuinfo));
        assertNull(Tuning.vendor(dir.resolve("absent")));
    }

    @Test
    void kcCanBeForcedWithinBounds() {
        assertEquals(384, Tuning.kc(null, 384));
        assertEquals(384, Tuning.kc(" ", 384));
        assertEquals(512, Tuning.kc(" 512 ", 256));
        assertEquals(1, Tuning.kc("1", 256));
        for (String bad : new String[] {"0", "-256", "8193", "big", "2.5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tuning.kc(bad, 256));
            assertEquals("fuse4j.cpu.kc is '" + bad + "' but must be a whole number of k steps, 1 to 8192",
                    e.getMessage());
        }
        Tuning.Blocking b = new Tuning.Blocking(Microkernel.K8X2, 512, 144).withKc(256);
        assertEquals(new Tuning.Blocking(Microkernel.K8X2, 256, 144), b);
    }

    @Test
    void forcingAKernelKeepsTheBlockAWholeNumberOfMicroPanels() {
        Tuning.Blocking b = new Tuning.Blocking(Microkernel.K4X2, 256, 96);
        for (Microkernel k : Microkernel.values()) {
            Tuning.Blocking forced = b.with(k);
            assertEquals(k, forced.kernel());
            assertEquals(0, forced.mc() % k.rows(), forced.toString());
            assertEquals(256, forced.kc());
        }
    }

    @Test
    void vectorBitsNarrowsAndRefusesWhatTheMachineCannotDo() {
        assertEquals(512, Tuning.vectorBits(null, 512));
        assertEquals(256, Tuning.vectorBits(" 256 ", 512));
        assertEquals(128, Tuning.vectorBits("128", 128));
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                () -> Tuning.vectorBits("512", 256));
        assertEquals("fuse4j.cpu.vectorBits is 512 but this JVM's widest float vector is 256 bits: only narrower "
                + "widths can be forced", wide.getMessage());
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> Tuning.vectorBits("300", 512));
        assertEquals("fuse4j.cpu.vectorBits is '300' but must be 128, 256 or 512", odd.getMessage());
    }

    @Test
    void kernelsAreFoundByTheirShape() {
        for (Microkernel k : Microkernel.values()) {
            assertEquals(k, Microkernel.named(k.shape()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Microkernel.named("5x5"));
        assertTrue(e.getMessage().startsWith("no microkernel is called '5x5'; there are 4x2, "), e.getMessage());
    }

    @Test
    void threadsComeFromThePropertyElseTheEnvironmentElseTheProcessors() {
        assertEquals(3, WorkerPool.configuredThreads("3", "5", 8));
        assertEquals(5, WorkerPool.configuredThreads(null, "5", 8));
        assertEquals(8, WorkerPool.configuredThreads(null, null, 8));
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> WorkerPool.configuredThreads("0", null, 8));
        assertEquals("fuse4j.cpu.threads is '0' but must be a whole number of threads, 1 or more", zero.getMessage());
        IllegalArgumentException word = assertThrows(IllegalArgumentException.class,
                () -> WorkerPool.configuredThreads(null, "two", 8));
        assertEquals("FUSE4J_CPU_THREADS is 'two' but must be a whole number of threads, 1 or more",
                word.getMessage());
    }

    @Test
    void theKcPropertyReachesTheBlockingOrSaysWhatIsWrong() throws IOException, InterruptedException {
        assertEquals("KC 384, problem null", childTuning("-Dfuse4j.cpu.kc=384"));
        // A bad value leaves the table's KC and names the value; the backend then reports itself unavailable.
        String bad = childTuning("-Dfuse4j.cpu.kc=0");
        assertTrue(bad.endsWith(", problem fuse4j.cpu.kc is '0' but must be a whole number of k steps, 1 to 8192"),
                bad);
    }

    /** What {@link Tuning} chose in a JVM started with {@code option}. */
    private static String childTuning(String option) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector", option, "-cp",
                System.getProperty("java.class.path"), PrintTuning.class.getName()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        return output.lines().filter(l -> l.startsWith("KC ")).findFirst().orElse(output);
    }

    /** Prints this JVM's KC and option problem, for the child JVMs above. */
    static final class PrintTuning {
        public static void main(String[] args) {
            System.out.println("KC " + Tuning.BLOCKING.kc() + ", problem " + Tuning.OPTION_PROBLEM);
        }
    }
}
