package dev.fuse4j.interop;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.BatchNorm;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.export.ModelExport;
import dev.fuse4j.reference.BatchNormReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The safetensors file read back by a parser of its own (Gson for the header, the raw bytes for the data), as a
 * loader in another framework would: every parameter by its name, with its shape, bit for bit.
 */
class SafetensorsExportTest {

    @TempDir
    Path dir;

    @Test
    void everyParameterComesBackBitForBitUnderItsName() throws IOException {
        try (Sequential model = TrainedModels.everyActivation(Backends.get("cpu"))) {
            Path file = dir.resolve("model.safetensors");
            long live = Tensor.liveCount();
            ModelExport.safetensors(model, file);
            assertEquals(live, Tensor.liveCount(), "export must not leave tensors behind");

            byte[] all = Files.readAllBytes(file);
            ByteBuffer le = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = le.getLong(0);
            assertTrue(headerLength > 0 && 8 + headerLength <= all.length, "header length " + headerLength);
            assertEquals(0, headerLength % 8, "the data should start 8-byte aligned");
            int dataStart = (int) (8 + headerLength);
            JsonObject header = JsonParser.parseString(
                    new String(all, 8, (int) headerLength, StandardCharsets.UTF_8)).getAsJsonObject();

            JsonObject meta = header.getAsJsonObject("__metadata__");
            assertEquals("pt", meta.get("format").getAsString());
            assertEquals(model.describe(), meta.get("fuse4j.architecture").getAsString());
            assertEquals("torch.nn.Sequential(collections.OrderedDict(["
                    + "('layer0', torch.nn.Linear(20, 16)), ('layer0_act', torch.nn.ReLU()), "
                    + "('layer0_dropout', torch.nn.Dropout(p=0.2)), "
                    + "('layer1', torch.nn.Linear(16, 16)), ('layer1_act', torch.nn.LeakyReLU(negative_slope=0.2)), "
                    + "('layer1_dropout', torch.nn.Dropout(p=0.2)), "
                    + "('layer2', torch.nn.Linear(16, 16)), ('layer2_act', torch.nn.GELU(approximate='tanh')), "
                    + "('layer2_dropout', torch.nn.Dropout(p=0.2)), "
                    + "('layer3', torch.nn.Linear(16, 16)), ('layer3_act', torch.nn.ELU(alpha=0.5)), "
                    + "('layer3_dropout', torch.nn.Dropout(p=0.2)), "
                    + "('layer4', torch.nn.Linear(16, 16)), ('layer4_act', torch.nn.PReLU(num_parameters=16)), "
                    + "('layer4_dropout', torch.nn.Dropout(p=0.2)), "
                    + "('layer5', torch.nn.Linear(16, 16)), ('layer5_dropout', torch.nn.Dropout(p=0.1)), "
                    + "('layer6', torch.nn.Linear(16, 5))]))", meta.get("pytorch.module").getAsString());

            Map<String, Parameter> params = model.parameters().stream()
                    .collect(Collectors.toMap(Parameter::name, p -> p));
            Set<String> names = new TreeSet<>(header.keySet());
            names.remove("__metadata__");
            assertEquals(new TreeSet<>(params.keySet()), names, "the tensors must be the model's parameters");
            assertTrue(names.containsAll(List.of("layer0.weight", "layer0.bias", "layer4_act.weight", "layer6.weight",
                    "layer6.bias")), "PReLU's slopes under the name of the PyTorch module's weight: " + names);

            List<long[]> ranges = new ArrayList<>();
            for (String name : names) {
                JsonObject t = header.getAsJsonObject(name);
                Parameter p = params.get(name);
                assertEquals("F32", t.get("dtype").getAsString(), name);
                assertArrayEquals(p.shape(), ints(t.getAsJsonArray("shape")), name + " shape");
                long[] range = Arrays.stream(ints(t.getAsJsonArray("data_offsets"))).asLongStream().toArray();
                float[] expected = p.value().toArray();
                assertEquals((long) expected.length * Float.BYTES, range[1] - range[0], name + " byte range");
                for (int i = 0; i < expected.length; i++) {
                    int bits = le.getInt(dataStart + (int) range[0] + i * Float.BYTES);
                    if (bits != Float.floatToRawIntBits(expected[i])) {
                        throw new AssertionError(name + "[" + i + "] reads back as " + Float.intBitsToFloat(bits)
                                + " but the model holds " + expected[i]);
                    }
                }
                ranges.add(range);
            }
            // The byte ranges tile the data exactly: no gaps, no overlaps, nothing after the last one.
            ranges.sort(Comparator.comparingLong(r -> r[0]));
            long end = 0;
            for (long[] r : ranges) {
                assertEquals(end, r[0], "byte ranges must be contiguous");
                end = r[1];
            }
            assertEquals(all.length - dataStart, end, "the data must end with the last tensor");
        }
    }

    /**
     * A batch-norm layer exports its evaluation form as a plain {@code Linear}: {@code layerN.weight} and
     * {@code layerN.bias} are the float64 fold of the running statistics, rounded to float32, and gamma and beta
     * are not in the file.
     */
    @Test
    void aBatchNormLayerExportsItsFoldedWeightsAsAPlainLinear() throws IOException {
        try (Sequential model = TrainedModels.batchNorm(Backends.get("cpu"))) {
            Path file = dir.resolve("bn.safetensors");
            ModelExport.safetensors(model, file);
            byte[] all = Files.readAllBytes(file);
            ByteBuffer le = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = le.getLong(0);
            int dataStart = (int) (8 + headerLength);
            JsonObject header = JsonParser.parseString(
                    new String(all, 8, (int) headerLength, StandardCharsets.UTF_8)).getAsJsonObject();
            Set<String> names = new TreeSet<>(header.keySet());
            names.remove("__metadata__");
            assertEquals(new TreeSet<>(List.of("layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias",
                    "layer2.weight", "layer2.bias")), names, "gamma and beta are folded into the weights");
            for (int l = 0; l < 2; l++) {
                Dense d = (Dense) model.layers().get(l);
                BatchNorm bn = d.batchNorm();
                double[][] folded = BatchNormReference.fold(d.weight().value().toArray(), d.bias().value().toArray(),
                        bn.gamma().value().toArray(), bn.beta().value().toArray(), widen(bn.runningMean()),
                        widen(bn.runningVar()), bn.eps(), d.inFeatures(), d.outFeatures());
                String[] tensors = {"layer" + l + ".weight", "layer" + l + ".bias"};
                for (int t = 0; t < 2; t++) {
                    JsonObject entry = header.getAsJsonObject(tensors[t]);
                    int start = ints(entry.getAsJsonArray("data_offsets"))[0];
                    for (int i = 0; i < folded[t].length; i++) {
                        float got = le.getFloat(dataStart + start + i * Float.BYTES);
                        assertEquals((float) folded[t][i], got, tensors[t] + "[" + i + "] is not the folded value");
                    }
                }
            }
        }
    }

    private static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    @Test
    void aSingleLinearLayerExportsIntoNewDirectoriesAsAnOrdinaryFile() throws IOException {
        try (Sequential model = Sequential.builder(Backends.get("cpu-scalar"), 3, 1).linear(2).build()) {
            Path file = dir.resolve("sub/dir/linear.safetensors");
            ModelExport.safetensors(model, file);
            byte[] all = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            JsonObject header = JsonParser.parseString(
                    new String(all, 8, (int) headerLength, StandardCharsets.UTF_8)).getAsJsonObject();
            assertEquals("torch.nn.Sequential(collections.OrderedDict([('layer0', torch.nn.Linear(3, 2))]))",
                    header.getAsJsonObject("__metadata__").get("pytorch.module").getAsString());
            assertEquals(8 + headerLength + 4 * (3 * 2 + 2), all.length);
            // Readable by whoever may read any new file here (the umask decides), not private to the writer.
            Path plain = Files.writeString(file.resolveSibling("plain.txt"), "");
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file));
            try (Stream<Path> left = Files.list(file.getParent())) {
                assertEquals(List.of("linear.safetensors", "plain.txt"),
                        left.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file may remain");
            }
        }
    }

    private static int[] ints(JsonArray a) {
        int[] v = new int[a.size()];
        int i = 0;
        for (JsonElement e : a) {
            v[i++] = e.getAsInt();
        }
        return v;
    }
}
