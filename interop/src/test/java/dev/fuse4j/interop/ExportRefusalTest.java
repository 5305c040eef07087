package dev.fuse4j.interop;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.export.ModelExport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What export refuses, with messages that say what was wrong, and that a refused export leaves files alone. */
class ExportRefusalTest {

    @TempDir
    Path dir;

    private final Backend be = Backends.get("cpu-scalar");

    private Sequential small() {
        return Sequential.builder(be, 4, 3).dense(3, Activation.relu(), 0.5f).linear(2).build();
    }

    @Test
    void aClosedModelIsRefusedAndNoFileIsWritten() {
        Sequential model = small();
        model.close();
        Path onnx = dir.resolve("closed.onnx");
        Path st = dir.resolve("closed.safetensors");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ModelExport.onnx(model, onnx));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> ModelExport.safetensors(model, st));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertFalse(Files.exists(onnx) || Files.exists(st));
    }

    @Test
    void aPathBelowAFileIsRefusedNamingTheFile() throws IOException {
        Path blocker = Files.writeString(dir.resolve("notes.txt"), "not a directory");
        try (Sequential model = small()) {
            for (Path target : List.of(blocker.resolve("model.onnx"), blocker.resolve("deeper/model.safetensors"))) {
                IOException e = assertThrows(IOException.class, () -> export(model, target));
                assertTrue(e.getMessage().contains(target.toString()) && e.getMessage().contains(blocker + " exists and is not a directory"),
                        e.getMessage());
            }
        }
        assertArrayEquals("not a directory".getBytes(), Files.readAllBytes(blocker));
    }

    @Test
    void aDirectoryIsNotReplaced() throws IOException {
        Path target = Files.createDirectory(dir.resolve("model.onnx"));
        try (Sequential model = small()) {
            IOException e = assertThrows(IOException.class, () -> ModelExport.onnx(model, target));
            assertTrue(e.getMessage().contains(target + ": it is a directory"), e.getMessage());
        }
        assertTrue(Files.isDirectory(target));
    }

    @Test
    void anOpsetOutOfRangeIsRefusedWithTheRange() throws IOException {
        Path target = dir.resolve("model.onnx");
        try (Sequential model = small()) {
            ModelExport.onnx(model, target);
            byte[] before = Files.readAllBytes(target);
            for (int opset : new int[] {ModelExport.MIN_OPSET - 1, ModelExport.MAX_OPSET + 1}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> ModelExport.onnx(model, target, opset));
                assertTrue(e.getMessage().contains(ModelExport.MIN_OPSET + " to " + ModelExport.MAX_OPSET)
                        && e.getMessage().contains("is " + opset), e.getMessage());
            }
            assertArrayEquals(before, Files.readAllBytes(target), "a refused export must leave the file as it was");
        }
    }

    @Test
    void aLayerThatIsNotDenseIsRefusedNamingIt() {
        try (Sequential model = new Sequential(be,
                List.of(new Dense(be, "layer0", 4, 3, Activation.relu(), 0f, 1, 2), new Negate(3)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelExport.onnx(model, dir.resolve("m.onnx")));
            assertTrue(e.getMessage().contains("layer 1 (negate(3))") && e.getMessage().contains("Dense"),
                    e.getMessage());
        }
    }

    @Test
    void twoLayersOfOneNameAreRefused() {
        try (Sequential model = new Sequential(be, List.of(new Dense(be, "block", 4, 4, Activation.relu(), 0f, 1, 2),
                new Dense(be, "block", 4, 2, Activation.identity(), 0f, 3, 4)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelExport.safetensors(model, dir.resolve("m.safetensors")));
            assertTrue(e.getMessage().contains("layers 0 and 1 are both named 'block'"), e.getMessage());
        }
    }

    private static void export(Sequential model, Path target) throws IOException {
        if (target.toString().endsWith(".onnx")) {
            ModelExport.onnx(model, target);
        } else {
            ModelExport.safetensors(model, target);
        }
    }

    /** A layer export knows nothing about: {@code y = -x}, no parameters. */
    private record Negate(int features) implements Layer {
        @Override
        public int inFeatures() {
            return features;
        }

        @Override
        public int outFeatures() {
            return features;
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("export tests never run the model");
        }

        @Override
        public Tensor backward(Tensor dy, boolean inputGradient) {
            throw new UnsupportedOperationException("export tests never run the model");
        }

        @Override
        public List<Parameter> parameters() {
            return List.of();
        }

        @Override
        public void setTraining(boolean training) {
        }

        @Override
        public long dropoutOffset() {
            return 0;
        }

        @Override
        public void setDropoutOffset(long offset) {
        }

        @Override
        public String describe() {
            return "negate(" + features + ")";
        }

        @Override
        public void close() {
        }
    }
}
