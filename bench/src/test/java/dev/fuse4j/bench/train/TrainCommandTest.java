package dev.fuse4j.bench.train;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The train command end to end on the CPU backend: small synthetic IDX files, and Fashion-MNIST when installed. */
class TrainCommandTest {

    private record Run(int code, String out, String err) {
    }

    private static Run train(String... args) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TrainCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Four classes of 6×6 images, each a bright bar at its own place plus noise: learnable in a few epochs. */
    private static void writeBars(Path dir, String prefix, int n, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] pixels = new byte[n * 36];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(4);
            labels[i] = (byte) c;
            for (int p = 0; p < 36; p++) {
                boolean bar = c < 2 ? p / 6 == 1 + 3 * c : p % 6 == 1 + 3 * (c - 2);
                int v = (bar ? 160 : 0) + r.nextInt(90);
                pixels[i * 36 + p] = (byte) v;
            }
        }
        writeIdx(dir.resolve(prefix + "-images-idx3-ubyte"), 0x803, new int[] {n, 6, 6}, pixels);
        writeIdx(dir.resolve(prefix + "-labels-idx1-ubyte"), 0x801, new int[] {n}, labels);
    }

    static void writeIdx(Path file, int magic, int[] dims, byte[] data) throws IOException {
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(file))) {
            o.writeInt(magic);
            for (int d : dims) {
                o.writeInt(d);
            }
            o.write(data);
        }
    }

    private static List<String[]> history(Path out) throws IOException {
        List<String> lines = Files.readAllLines(out.resolve("history.csv"));
        assertEquals(HistoryCsv.HEADER, lines.get(0));
        return lines.stream().skip(1).map(l -> l.split(",")).toList();
    }

    @Test
    void trainsPlotsCheckpointsAndResumesExactlyWhereItStopped(@TempDir Path dir) throws IOException {
        writeBars(dir, "train", 600, 1);
        writeBars(dir, "t10k", 200, 2);
        Path straightOut = dir.resolve("straight");
        Path splitOut = dir.resolve("split");
        String[] common = {"--data", dir.toString(), "--hidden", "32,32", "--batch", "32", "--backend", "cpu",
            "--compare-no-dropout", "--dropout", "0.3", "--lr", "0.01"};

        Run straight = train(concat(common, "--epochs", "4", "--out", straightOut.toString()));
        assertEquals(0, straight.code, straight.err);
        assertTrue(straight.out.contains("backend cpu"), straight.out);
        assertTrue(straight.out.contains("epoch   4/4"), straight.out);
        List<String> epochLines = straight.out.lines().filter(l -> l.startsWith("epoch ")).toList();
        assertEquals(8, epochLines.size(), "4 epochs with dropout, 4 without:\n" + straight.out);
        for (String l : epochLines) {
            assertTrue(l.matches(".* \\(\\d+ examples/s\\)$"), "each epoch says its examples per second: " + l);
        }
        assertFalse(straight.err.contains("not closed"), "an epoch after the first leaked tensors: " + straight.err);
        List<String[]> h = history(straightOut);
        assertEquals(8, h.size(), "4 epochs of each run");
        assertEquals("dropout 0.3", h.get(0)[0]);
        assertEquals("no dropout", h.get(4)[0]);
        double acc = Double.parseDouble(h.get(3)[7]);
        assertTrue(acc >= 0.95, "validation accuracy on the bar images after 4 epochs is " + acc);
        String svg = Files.readString(straightOut.resolve("loss-curves.svg"));
        assertTrue(svg.contains("validation loss, no dropout") && svg.contains("training accuracy, dropout 0.3"));

        // Stopped after 2 epochs (history and checkpoints are written after every epoch), then resumed to 4:
        // the same figures as the straight run, to the last digit written.
        Run first = train(concat(common, "--epochs", "2", "--out", splitOut.toString()));
        assertEquals(0, first.code, first.err);
        assertTrue(Files.exists(splitOut.resolve("model.ckpt")) && Files.exists(splitOut.resolve("model-no-dropout.ckpt")));
        Run resumed = train(concat(common, "--epochs", "4", "--resume", "--out", splitOut.toString()));
        assertEquals(0, resumed.code, resumed.err);
        assertTrue(resumed.out.contains("resumed from") && resumed.out.contains("after 2 epochs"), resumed.out);
        assertTrue(!resumed.out.contains("epoch   1/4"), "a resumed run starts at epoch 3: " + resumed.out);
        List<String[]> split = history(splitOut);
        assertEquals(h.size(), split.size(), "the history keeps the epochs before the resume");
        for (int i = 0; i < h.size(); i++) {
            assertEquals(String.join(",", java.util.Arrays.copyOf(h.get(i), 8)),
                    String.join(",", java.util.Arrays.copyOf(split.get(i), 8)), "history row " + i);
        }

        Run otherBatch = train(concat(common, "--epochs", "5", "--resume", "--batch", "16", "--out",
                splitOut.toString()));
        assertEquals(2, otherBatch.code, otherBatch.out);
        assertTrue(otherBatch.err.contains("batches of 16"), otherBatch.err);

        String[] wider = common.clone();
        wider[3] = "48,32";
        Run mismatch = train(concat(wider, "--epochs", "5", "--resume", "--out", splitOut.toString()));
        assertEquals(2, mismatch.code, mismatch.out);
        assertTrue(mismatch.err.contains("cannot resume") && mismatch.err.contains("holds a different model"),
                mismatch.err);
    }

    @Test
    void exportWritesTheTrainedModelAsOnnxAndSafetensors(@TempDir Path dir) throws IOException {
        writeBars(dir, "train", 200, 1);
        writeBars(dir, "t10k", 50, 2);
        Path export = dir.resolve("exported").resolve("mlp");
        String[] common = {"--data", dir.toString(), "--hidden", "12", "--batch", "32", "--backend", "cpu",
            "--epochs", "1", "--compare-no-dropout", "--out", dir.resolve("out").toString()};
        Run run = train(concat(common, "--export", export.toString()));
        assertEquals(0, run.code, run.err);
        assertTrue(run.out.contains("exported the trained model to " + export.resolve("model.onnx")), run.out);
        byte[] onnx = Files.readAllBytes(export.resolve("model.onnx"));
        assertTrue(new String(onnx, StandardCharsets.ISO_8859_1).contains("Gemm"), "an ONNX graph of Gemm nodes");
        // safetensors: an 8-byte little-endian header length, a JSON header naming every parameter with its shape.
        byte[] st = Files.readAllBytes(export.resolve("model.safetensors"));
        long headerLength = java.nio.ByteBuffer.wrap(st, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(st, 8, (int) headerLength, StandardCharsets.UTF_8);
        for (String tensor : List.of("\"layer0.weight\":{\"dtype\":\"F32\",\"shape\":[12,36]",
                "\"layer0.bias\":{\"dtype\":\"F32\",\"shape\":[12]",
                "\"layer1.weight\":{\"dtype\":\"F32\",\"shape\":[4,12]")) {
            assertTrue(header.contains(tensor), "safetensors header has " + tensor + ": " + header);
        }
        assertEquals(8 + headerLength + 4L * (12 * 36 + 12 + 4 * 12 + 4), st.length, "header and every weight");

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Run refused = train(concat(common, "--export", file.toString()));
        assertEquals(2, refused.code, refused.out);
        assertTrue(refused.err.contains("--export needs a folder, but " + file + " is a file"), refused.err);
        assertFalse(refused.out.contains("epoch"), "refused before training: " + refused.out);
    }

    @Test
    void badInputIsReportedWithWhatIsWrong(@TempDir Path dir) throws IOException {
        Run missing = train("--data", dir.toString());
        assertEquals(2, missing.code);
        assertTrue(missing.err.contains("train-images-idx3-ubyte"), missing.err);

        Run option = train("--dropout", "1.5");
        assertEquals(2, option.code);
        assertTrue(option.err.contains("'1.5'"), option.err);

        Run momentum = train("--optimizer", "sgd", "--momentum", "1");
        assertEquals(2, momentum.code);
        assertTrue(momentum.err.contains("--momentum") && momentum.err.contains("'1'"), momentum.err);

        Run tinyLr = train("--lr", "1e-46");
        assertEquals(2, tinyLr.code);
        assertTrue(tinyLr.err.contains("'1e-46'"), tinyLr.err);

        Run activation = train("--activation", "tanh");
        assertEquals(2, activation.code);
        assertTrue(activation.err.contains("'tanh'"), activation.err);

        writeBars(dir, "train", 10, 1);
        writeBars(dir, "t10k", 10, 2);
        writeIdx(dir.resolve("t10k-labels-idx1-ubyte"), 0x801, new int[] {9}, new byte[9]);
        Run count = train("--data", dir.toString(), "--backend", "cpu", "--out", dir.resolve("o").toString());
        assertEquals(2, count.code);
        assertTrue(count.err.contains("10") && count.err.contains("9"), count.err);

        Run help = train("--help");
        assertEquals(0, help.code);
        assertTrue(help.out.contains("--compare-no-dropout"));
    }

    /** {@code --activation elu:ALPHA} builds ELU layers with that alpha, which learn the bars; a bad alpha is named. */
    @Test
    void eluIsChosenByNameWithItsAlpha(@TempDir Path dir) throws IOException {
        assertEquals(dev.fuse4j.Activation.elu(), TrainOptions.activation("elu"));
        assertEquals(dev.fuse4j.Activation.elu(0.5f), TrainOptions.activation("ELU:0.5"));
        learnsTheBarsWith(dir, "elu:0.5");

        Run bad = train("--activation", "elu:0");
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("ELU alpha") && bad.err.contains("0.0"), bad.err);
    }

    /** {@code --activation prelu} builds PReLU layers, whose slopes are learned with the weights, and learns the bars. */
    @Test
    void preluIsChosenByName(@TempDir Path dir) throws IOException {
        assertEquals(dev.fuse4j.Activation.prelu(), TrainOptions.activation("PReLU"));
        learnsTheBarsWith(dir, "prelu");

        Run bad = train("--activation", "prelu:0.3");
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("prelu:0.3") && bad.err.contains("prelu, not"), bad.err);
    }

    /** Three epochs with {@code --activation activation} on the bar images reach 90 % and name the activation. */
    private static void learnsTheBarsWith(Path dir, String activation) throws IOException {
        writeBars(dir, "train", 400, 1);
        writeBars(dir, "t10k", 100, 2);
        Path out = dir.resolve("out");
        Run r = train("--data", dir.toString(), "--hidden", "16", "--batch", "32", "--backend", "cpu", "--epochs", "3",
                "--activation", activation, "--lr", "0.01", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains(activation), r.out);
        double acc = Double.parseDouble(history(out).get(2)[7]);
        assertTrue(acc >= 0.9, "validation accuracy on the bar images after 3 epochs of " + activation + " is " + acc);
    }

    /**
     * Each {@code --compare-with} trains one more run with its options added to the given ones: its own name in the
     * history, the table and the plot (validation curves only, beyond two runs), its own checkpoint to resume from.
     */
    @Test
    void compareWithTrainsEachVariantBesideTheOthers(@TempDir Path dir) throws IOException {
        writeBars(dir, "train", 300, 1);
        writeBars(dir, "t10k", 100, 2);
        Path out = dir.resolve("out");
        String[] common = {"--data", dir.toString(), "--hidden", "16", "--batch", "32", "--backend", "cpu",
            "--dropout", "0.3", "--lr", "0.01", "--out", out.toString(), "--compare-with", "--activation elu:0.5",
            "--compare-with=--hidden 24,8 --dropout=0.1"};
        Run r = train(concat(common, "--epochs", "1"));
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("activation elu:0.5: 36 -> 16 (elu:0.5, dropout 0.3) -> 4"), r.out);
        assertTrue(r.out.contains("hidden 24/8 dropout 0.1: 36 -> 24 (relu, dropout 0.1) -> 8 (relu, dropout 0.1)"),
                r.out);
        List<String[]> h = history(out);
        assertEquals(List.of("dropout 0.3", "activation elu:0.5", "hidden 24/8 dropout 0.1"),
                h.stream().map(row -> row[0]).toList());
        String svg = Files.readString(out.resolve("loss-curves.svg"));
        assertTrue(svg.contains("validation accuracy, hidden 24/8 dropout 0.1"), "every run in the plot");
        assertFalse(svg.contains("training loss,"), "three runs: validation curves only");
        assertTrue(Files.exists(out.resolve("model-activation-elu-0.5.ckpt")), "the variant's own checkpoint");

        Run resumed = train(concat(common, "--epochs", "2", "--resume"));
        assertEquals(0, resumed.code, resumed.err);
        assertTrue(resumed.out.contains("resumed from " + out.resolve("model-hidden-24-8-dropout-0.1.ckpt")),
                resumed.out);
        assertEquals(6, history(out).size(), "two epochs of each of the three runs");

        assertEquals(TrainRuns.parse("--compare-with", "--activation gelu"), TrainRuns.parse("--compare-with=--activation gelu"));
        for (String[] bad : new String[][] {{"--compare-with", "--out elsewhere"}, {"--compare-with", "--activation tanh"},
            {"--compare-with"}, {"--compare-with", " "}, {"--compare-with", "--seed 2", "--compare-with", "--seed=2"},
            {"--compare-with", "--dropout 0.2"}}) {
            Run refused = train(concat(new String[] {"--data", dir.toString(), "--backend", "cpu"}, bad));
            assertEquals(2, refused.code, String.join(" ", bad) + ": " + refused.out);
            assertTrue(refused.err.contains("--compare-with"), refused.err);
            assertFalse(refused.out.contains("epoch"), "refused before training: " + refused.out);
        }
    }

    /**
     * {@code --dropconnect P} trains hidden layers with DropConnect: each epoch's digest of the weight masks is the
     * same on cpu and on OpenCL (PoCL), every dropped weight's gradient was zero, and the digest is not the one of
     * output dropout at the same p and seed. {@code --dropout} beside it is refused.
     */
    @Test
    void dropConnectsMaskDigestIsEqualOnCpuAndOpenCl(@TempDir Path dir) throws IOException {
        String opencl = dev.fuse4j.Backends.probe().stream()
                .filter(st -> st.name().startsWith("opencl") && st.available())
                .map(dev.fuse4j.BackendStatus::name).findFirst().orElse(null);
        Required.assume("opencl", opencl != null, "no OpenCL device for the cpu/OpenCL digest comparison");
        writeBars(dir, "train", 200, 1);
        writeBars(dir, "t10k", 50, 2);
        String[] common = {"--data", dir.toString(), "--hidden", "24,16", "--batch", "32", "--epochs", "2",
            "--mask-digest", "--lr", "0.01"};
        List<String> cpu = digests(train(concat(common, "--dropconnect", "0.3", "--backend", "cpu",
                "--out", dir.resolve("cpu").toString())), "dropconnect 0.3");
        List<String> cl = digests(train(concat(common, "--dropconnect", "0.3", "--backend", opencl,
                "--out", dir.resolve("opencl").toString())), "dropconnect 0.3");
        assertEquals(cpu, cl, "the weight masks of cpu and " + opencl + " differ");
        List<String> outputs = digests(train(concat(common, "--dropout", "0.3", "--backend", "cpu",
                "--out", dir.resolve("outputs").toString())), "dropout 0.3");
        assertFalse(outputs.equals(cpu), "DropConnect drew the output dropout's masks");

        Run both = train("--dropout", "0.2", "--dropconnect", "0.3");
        assertEquals(2, both.code);
        assertTrue(both.err.contains("--dropout and --dropconnect cannot both be given"), both.err);
        Run range = train("--dropconnect", "1");
        assertEquals(2, range.code);
        assertTrue(range.err.contains("--dropconnect must be in [0, 1) but is '1'"), range.err);
    }

    /** The mask digests a {@code --mask-digest} run printed, one per epoch, each tied to its forward or gradient. */
    private static List<String> digests(Run r, String runName) {
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains(runName + ": "), r.out);
        List<String> lines = r.out.lines().filter(l -> l.contains("masks sha256")).toList();
        assertEquals(2, lines.size(), r.out);
        for (String l : lines) {
            assertTrue(l.endsWith("(forward agrees)"), l);
        }
        return lines.stream().map(l -> l.substring(l.indexOf("masks sha256"))).toList();
    }

    @Test
    void batchNormTrainsEveryHiddenLayerWithItAndResumes(@TempDir Path dir) throws IOException {
        assertFalse(TrainOptions.parse().batchNorm(), "off by default");
        assertTrue(TrainOptions.parse("--batch-norm").batchNorm());
        writeBars(dir, "train", 400, 1);
        writeBars(dir, "t10k", 100, 2);
        Path out = dir.resolve("out");
        String[] common = {"--data", dir.toString(), "--hidden", "16,8", "--batch", "32", "--backend", "cpu",
            "--batch-norm", "--lr", "0.01", "--out", out.toString()};
        Run r = train(concat(common, "--epochs", "2"));
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("16 (relu, batch norm, dropout 0.2) -> 8 (relu, batch norm, dropout 0.2)"), r.out);
        Run resumed = train(concat(common, "--epochs", "3", "--resume"));
        assertEquals(0, resumed.code, resumed.err);
        double acc = Double.parseDouble(history(out).get(2)[7]);
        assertTrue(acc >= 0.9, "validation accuracy on the bar images after 3 batch-norm epochs is " + acc);
        Run bad = train("--batch-norm=yes");
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("--batch-norm takes no value"), bad.err);
        Run withDropConnect = train("--batch-norm", "--dropconnect", "0.2");
        assertEquals(2, withDropConnect.code);
        assertTrue(withDropConnect.err.contains("--batch-norm and --dropconnect cannot both be given"),
                withDropConnect.err);
        Run withPrelu = train("--batch-norm", "--activation", "prelu");
        assertEquals(2, withPrelu.code);
        assertTrue(withPrelu.err.contains("--batch-norm cannot be given with --activation prelu"), withPrelu.err);
    }

    /**
     * {@code --dropout-mode} trains with channel and variational masks, which the mask digest shows are the same on
     * cpu and on OpenCL (PoCL) and differ from the plain masks; a mode that does not divide a width is refused.
     */
    @Test
    void channelAndVariationalMaskDigestsAgreeOnCpuAndOpenCl(@TempDir Path dir) throws IOException {
        List<String> openCl = dev.fuse4j.Backends.probe().stream()
                .filter(s -> s.available() && s.name().startsWith("opencl")).map(s -> s.name()).toList();
        Required.assume("opencl", !openCl.isEmpty(), "no OpenCL device here (CI installs PoCL)");
        writeBars(dir, "train", 200, 1);
        writeBars(dir, "t10k", 50, 2);
        String[] common = {"--data", dir.toString(), "--hidden", "16,12", "--batch", "32", "--epochs", "2",
            "--mask-digest", "--lr", "0.01"};
        Run cpuRun = train(concat(common, "--backend", "cpu", "--dropout-mode", "channel:4+variational:3", "--out",
                dir.resolve("cpu").toString()));
        assertTrue(cpuRun.out.contains("(relu, dropout 0.2 channel:4+variational:3)"), cpuRun.out);
        List<String> cpu = digests(cpuRun);
        List<String> cl = digests(train(concat(common, "--backend", openCl.get(0), "--dropout-mode",
                "channel:4+variational:3", "--out", dir.resolve("cl").toString())));
        List<String> plain = digests(train(concat(common, "--backend", "cpu", "--out", dir.resolve("p").toString())));
        assertEquals(2, cpu.size());
        assertEquals(cpu, cl, "the masks of cpu and opencl");
        assertFalse(cpu.get(0).equals(plain.get(0)), "channel and variational masks equal the plain ones");

        Run bad = train(concat(common, "--backend", "cpu", "--dropout-mode", "channel:5", "--out",
                dir.resolve("bad").toString()));
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("featuresPerChannel 5") && bad.err.contains("16 outputs"), bad.err);
        Run spelling = train("--dropout-mode", "spatial:2");
        assertEquals(2, spelling.code);
        assertTrue(spelling.err.contains("'spatial:2'"), spelling.err);
    }

    /**
     * {@code --input-dropout} makes the first layer drop input features (its masks enter the digest, so the digest
     * differs from a run without); {@code --mc-samples} prints the validation set's predictive uncertainty and the MC
     * mean's accuracy beside the deterministic one, which is the last epoch's validation accuracy.
     */
    @Test
    void inputDropoutAndMcSamplesAreTrainOptions(@TempDir Path dir) throws IOException {
        writeBars(dir, "train", 300, 1);
        writeBars(dir, "t10k", 80, 2);
        String[] common = {"--data", dir.toString(), "--hidden", "16", "--batch", "32", "--epochs", "2",
            "--backend", "cpu", "--mask-digest", "--lr", "0.01"};
        Run with = train(concat(common, "--input-dropout", "0.2", "--mc-samples", "5", "--out",
                dir.resolve("with").toString()));
        List<String> withDigests = digests(with);
        assertTrue(with.out.contains("36 (input dropout 0.2) -> 16 (relu, dropout 0.2)"), with.out);
        assertTrue(with.out.contains("\ndropout 0.2 input 0.2      2 "), "the summary's run column fits the name: "
                + with.out);
        String mc = with.out.lines().filter(l -> l.startsWith("MC dropout, 5 samples over 80 validation examples"))
                .findFirst().orElseThrow(() -> new AssertionError(with.out));
        double variance = Double.parseDouble(mc.replaceAll(".*mean per-class variance ([0-9.]+),.*", "$1"));
        assertTrue(variance > 0, mc);
        double lastVal = 100 * Double.parseDouble(history(dir.resolve("with")).get(1)[7]);
        assertTrue(mc.endsWith(String.format(java.util.Locale.ROOT, "(deterministic %.2f%%)", lastVal)),
                mc + " against the last epoch's " + lastVal);
        Run again = train(concat(common, "--input-dropout", "0.2", "--mc-samples", "5", "--out",
                dir.resolve("again").toString()));
        assertTrue(again.out.contains(mc), "the same seed gives the same MC line: " + again.out);
        List<String> without = digests(train(concat(common, "--out", dir.resolve("without").toString())));
        assertFalse(withDigests.get(0).equals(without.get(0)), "input masks left the digest unchanged");

        Run bad = train("--input-dropout", "1");
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("--input-dropout") && bad.err.contains("'1'"), bad.err);
        Run badSamples = train("--mc-samples", "0");
        assertEquals(2, badSamples.code);
        assertTrue(badSamples.err.contains("--mc-samples"), badSamples.err);
    }

    /**
     * The options of the merged branches together: batch norm with channel dropout and input dropout trains, names
     * each in the architecture and the run, and digests its masks against the forward; a dropout mode with
     * DropConnect is refused before training.
     */
    @Test
    void batchNormTakesADropoutModeAndInputDropoutAndDropConnectRefusesAMode(@TempDir Path dir) throws IOException {
        writeBars(dir, "train", 200, 1);
        writeBars(dir, "t10k", 50, 2);
        Run r = train("--data", dir.toString(), "--hidden", "16,8", "--batch", "32", "--epochs", "2", "--backend",
                "cpu", "--batch-norm", "--dropout-mode", "channel:4", "--input-dropout", "0.1", "--mask-digest",
                "--compare-no-dropout", "--lr", "0.01", "--out", dir.resolve("out").toString());
        List<String> d = digests(r);
        assertEquals(4, d.size(), "a digest per epoch of both runs: " + r.out);
        assertNotEquals(d.get(0), d.get(2), "the masked run digested no more than the run without dropout");
        assertTrue(r.out.contains("36 (input dropout 0.1) -> 16 (relu, batch norm, dropout 0.2 channel:4) -> 8 (relu, "
                + "batch norm, dropout 0.2 channel:4)"), r.out);
        assertTrue(r.out.contains("dropout 0.2 input 0.1: ") && r.out.contains("no dropout: "), r.out);
        assertEquals(4, history(dir.resolve("out")).size(), "two epochs of the run and of its no-dropout comparison");

        Run refused = train("--dropconnect", "0.3", "--dropout-mode", "variational:2");
        assertEquals(2, refused.code);
        assertTrue(refused.err.contains("--dropout-mode variational:2 cannot be given with --dropconnect"),
                refused.err);
    }

    /** The masks' digest of each epoch line, checking that the forward agreed with them. */
    private static List<String> digests(Run r) {
        assertEquals(0, r.code, r.err);
        List<String> d = r.out.lines().filter(l -> l.contains("masks sha256 ")).map(l -> {
            assertTrue(l.endsWith("(forward agrees)"), l);
            return l.substring(l.indexOf("masks sha256 "));
        }).toList();
        return d;
    }

    /** A run whose loss becomes NaN or infinite stops, says so, and exits 1 (ExitCode.FAILED), not 0. */
    @Test
    void aDivergingRunExitsWithOne(@TempDir Path dir) throws IOException {
        writeBars(dir, "train", 300, 1);
        writeBars(dir, "t10k", 50, 2);
        Run r = train("--data", dir.toString(), "--hidden", "32", "--batch", "32", "--backend", "cpu", "--epochs", "2",
                "--optimizer", "sgd", "--lr", "1e30", "--out", dir.resolve("out").toString());
        assertEquals(1, r.code, r.err);
        assertTrue(r.err.startsWith("train: training diverged: the loss of batch "), r.err);
    }

    /** The stated bar on real data: 6000 Fashion-MNIST images, 3 epochs, at least 80 % on the 10000 held out. */
    @Test
    void fashionMnistSliceReachesEightyPercent(@TempDir Path dir) throws IOException {
        Required.assume("fashion-mnist", Files.isDirectory(TrainOptions.DEBIAN_FASHION_MNIST),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        Path out = dir.resolve("out");
        Run r = train("--limit", "6000", "--epochs", "3", "--hidden", "256,256", "--dropout", "0.2", "--backend",
                "cpu", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        List<String[]> h = history(out);
        double acc = Double.parseDouble(h.get(h.size() - 1)[7]);
        assertTrue(acc >= 0.80, "validation accuracy " + acc + "\n" + r.out);
    }

    private static String[] concat(String[] a, String... b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
