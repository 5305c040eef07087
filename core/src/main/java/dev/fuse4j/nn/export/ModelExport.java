package dev.fuse4j.nn.export;

import dev.fuse4j.nn.Sequential;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a trained {@link Sequential} in formats other frameworks load, for inference: ONNX (the computation and
 * the weights, for ONNX Runtime and other runtimes) and safetensors (the weights by name, for PyTorch).
 *
 * <p>The exported model is the model in evaluation mode: {@code y = act(x·Wᵀ + b)} per layer, without dropout.
 * Each file is written beside its destination and moved into place, so a failed export leaves no partial file.
 */
public final class ModelExport {

    /** The ONNX opset written unless another is asked for: one that most runtimes in use accept. */
    public static final int DEFAULT_OPSET = 17;
    /** The lowest and highest ONNX opsets {@link #onnx(Sequential, Path, int)} writes. */
    public static final int MIN_OPSET = OnnxEncoder.MIN_OPSET;
    public static final int MAX_OPSET = OnnxEncoder.MAX_OPSET;
    /** The ONNX graph's input, float32 {@code [batch, inFeatures]} with the batch size left open. */
    public static final String INPUT_NAME = "input";
    /** The ONNX graph's output, float32 {@code [batch, outFeatures]}. */
    public static final String OUTPUT_NAME = "output";

    private ModelExport() {
    }

    /** As {@link #onnx(Sequential, Path, int)} with {@link #DEFAULT_OPSET}. */
    public static void onnx(Sequential model, Path file) throws IOException {
        onnx(model, file, DEFAULT_OPSET);
    }

    /**
     * Writes {@code model} as one ONNX file: per layer a {@code Gemm} ({@code transB = 1}, weights {@code [out, in]}
     * as {@code layer0.weight}, ...) and its activation ({@code Relu}, {@code LeakyRelu} with the layer's slope,
     * GELU's tanh form as a {@code Gelu} node from opset 20 and as its formula before that, {@code Elu} with the
     * layer's alpha, {@code PRelu} with the layer's slopes {@code [out]} as {@code layer0_act.weight}, nothing for a
     * linear layer). The graph maps {@link #INPUT_NAME} to {@link #OUTPUT_NAME}.
     *
     * @param opset {@link #MIN_OPSET} to {@link #MAX_OPSET}
     * @throws IllegalStateException    if the model was closed
     * @throws IllegalArgumentException for an opset out of range or a layer that is not a {@code Dense}
     * @throws IOException              if the file cannot be written; it is then left as it was
     */
    public static void onnx(Sequential model, Path file, int opset) throws IOException {
        Objects.requireNonNull(file, "file");
        OnnxEncoder.irVersion(opset);
        ExportedModel m = ExportedModel.of(model);
        byte[] bytes = OnnxEncoder.encode(m, opset, INPUT_NAME, OUTPUT_NAME);
        writeAtomically(file, out -> out.write(bytes));
    }

    /**
     * Writes the weights of {@code model} as one safetensors file: {@code layer0.weight} (float32
     * {@code [out, in]}), {@code layer0.bias} ({@code [out]}), and so on in layer order, with the metadata
     * {@code format = pt}, {@code fuse4j.architecture} (the model's {@link Sequential#describe()}) and
     * {@code pytorch.module}, a PyTorch expression for the same network whose {@code state_dict} keys are those
     * names, so that {@code load_state_dict} takes the file as it is.
     *
     * @throws IllegalStateException    if the model was closed
     * @throws IllegalArgumentException for a layer that is not a {@code Dense}
     * @throws IOException              if the file cannot be written; it is then left as it was
     */
    public static void safetensors(Sequential model, Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        ExportedModel m = ExportedModel.of(model);
        writeAtomically(file, out -> SafetensorsEncoder.write(m, out));
    }

    private interface Contents {
        void writeTo(OutputStream out) throws IOException;
    }

    private static void writeAtomically(Path file, Contents contents) throws IOException {
        Path abs = file.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new IOException("cannot export to " + abs + ": it is a directory");
        }
        Path dir = abs.getParent();
        // The file system would say only "Not a directory" about the path below; name the file in the way.
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new IOException("cannot export to " + abs + ": " + p + " exists and is not a directory");
                }
                break;
            }
        }
        // Not Files.createTempFile: its files are private to the owner (0600), and the move would keep that.
        Path tmp = dir.resolve("." + abs.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".partial");
        try {
            Files.createDirectories(dir);
            try (OutputStream out = new BufferedOutputStream(
                    Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16)) {
                contents.writeTo(out);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IOException("cannot export to " + abs + ": " + reason(e), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** What went wrong, in words: the file system exceptions' own messages name only the path. */
    private static String reason(IOException e) {
        if (!(e instanceof FileSystemException f)) {
            return e.toString();
        }
        String what = f.getReason() != null ? f.getReason()
                : e instanceof AccessDeniedException ? "permission denied"
                : e.getClass().getSimpleName();
        return f.getFile() + ": " + what;
    }
}
