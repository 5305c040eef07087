package dev.fuse4j.nn;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * Saves and restores a model with its optimizer state, the layers' Philox offsets and the count of epochs done,
 * so that a resumed run continues exactly as an uninterrupted one would.
 *
 * <p>Format (big-endian): magic {@code FUSE4JCK}, version, the model's and the optimizer's descriptions, the
 * epochs done, the optimizer's step count, per layer its dropout offset (and from version 2 its running statistics,
 * a count and that many float32 values), then every parameter and state tensor
 * as name, shape and float32 data; a CRC-32 of all of that closes the file. Restoring reads and checks the whole
 * file before it touches the model: a corrupt, truncated or mismatched checkpoint is refused and leaves the model
 * and optimizer as they were.
 */
public final class Checkpoint {

    private static final byte[] MAGIC = {'F', 'U', 'S', 'E', '4', 'J', 'C', 'K'};
    private static final int VERSION = 2;
    /** The first version, without running statistics, which a model without batch norm still restores from. */
    private static final int VERSION_WITHOUT_STATISTICS = 1;

    private Checkpoint() {
    }

    /** Thrown when a checkpoint cannot be restored; the model and optimizer are then unchanged. */
    public static final class CheckpointException extends IOException {
        private static final long serialVersionUID = 1L;

        CheckpointException(String message) {
            super(message);
        }
    }

    /**
     * Writes the checkpoint to a temporary file beside {@code file} and moves it into place, so a crash while
     * saving leaves the previous checkpoint intact.
     */
    public static void save(Path file, Sequential model, Optimizer optimizer, long epochsDone) throws IOException {
        if (epochsDone < 0) {
            throw new IllegalArgumentException("epochs done must be >= 0 but is " + epochsDone);
        }
        requireSameParameters(model, optimizer);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // The CRC accumulates as the contents are written, so the (weights-sized) buffer is never copied.
        CheckedOutputStream checked = new CheckedOutputStream(bytes, new CRC32());
        DataOutputStream out = new DataOutputStream(checked);
        out.write(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(model.describe());
        out.writeUTF(optimizer.describe());
        out.writeLong(epochsDone);
        out.writeLong(optimizer.steps());
        out.writeInt(model.layers().size());
        for (Layer l : model.layers()) {
            out.writeLong(l.dropoutOffset());
        }
        for (Layer l : model.layers()) {
            float[] stats = l.runningStatistics();
            out.writeInt(stats.length);
            for (float v : stats) {
                out.writeFloat(v);
            }
        }
        List<Parameter> params = model.parameters();
        out.writeInt(params.size());
        for (Parameter p : params) {
            writeTensor(out, p.name(), p.value());
        }
        String[] slots = optimizer.slotNames();
        Tensor[][] state = optimizer.state();
        out.writeInt(slots.length);
        for (int i = 0; i < state.length; i++) {
            for (int s = 0; s < slots.length; s++) {
                writeTensor(out, optimizer.parameters().get(i).name() + "." + slots[s], state[i][s]);
            }
        }
        out.flush();
        new DataOutputStream(bytes).writeLong(checked.getChecksum().getValue());

        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".partial");
        try {
            try (OutputStream stream = Files.newOutputStream(tmp)) {
                bytes.writeTo(stream);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Restores {@code file} into {@code model} and {@code optimizer}, which must have the architecture and
     * optimizer settings the checkpoint was written with, and returns the epochs done.
     */
    public static long restore(Path file, Sequential model, Optimizer optimizer) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint " + file + " does not exist");
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + file + " cannot be read: " + e);
        }
        Contents c = parse(file, all);
        if (optimizer.isClosed()) {
            throw new IllegalStateException("cannot restore " + file + " into a closed optimizer");
        }
        try {
            requireSameParameters(model, optimizer);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("cannot restore " + file + ": " + e.getMessage());
        }
        if (!c.model.equals(model.describe())) {
            throw new CheckpointException("checkpoint " + file + " holds a different model.\n  checkpoint: "
                    + c.model.replace("\n", " | ") + "\n  this model: " + model.describe().replace("\n", " | "));
        }
        if (!c.optimizer.equals(optimizer.describe())) {
            throw new CheckpointException("checkpoint " + file + " was written with optimizer " + c.optimizer
                    + " but this run uses " + optimizer.describe());
        }
        List<Parameter> params = model.parameters();
        String[] slots = optimizer.slotNames();
        if (c.offsets.length != model.layers().size() || c.params.size() != params.size()
                || c.slotCount != slots.length || c.state.size() != params.size() * slots.length) {
            throw new CheckpointException("checkpoint " + file + " holds " + c.offsets.length + " layers, "
                    + c.params.size() + " parameters and " + c.state.size() + " optimizer tensors, but the model "
                    + "has " + model.layers().size() + " layers, " + params.size() + " parameters and the "
                    + "optimizer " + params.size() * slots.length);
        }
        for (int i = 0; i < c.statistics.length; i++) {
            int want = model.layers().get(i).runningStatistics().length;
            if (c.statistics[i].length != want) {
                throw new CheckpointException("checkpoint " + file + " holds " + c.statistics[i].length
                        + " running statistics for layer " + i + " but the layer keeps " + want);
            }
        }
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            expect(file, c.params.get(i), p.name(), p.shape());
            for (int s = 0; s < slots.length; s++) {
                expect(file, c.state.get(i * slots.length + s), p.name() + "." + slots[s], p.shape());
            }
        }

        // Everything is checked; upload it all before swapping anything in, so a failed upload changes nothing.
        Backend be = model.backend();
        List<Tensor> made = new ArrayList<>();
        Tensor[] values = new Tensor[params.size()];
        Tensor[][] state = new Tensor[params.size()][slots.length];
        try {
            for (int i = 0; i < params.size(); i++) {
                values[i] = upload(be, c.params.get(i), made);
                for (int s = 0; s < slots.length; s++) {
                    state[i][s] = upload(be, c.state.get(i * slots.length + s), made);
                }
            }
        } catch (RuntimeException | Error e) {
            made.forEach(Tensor::close);
            throw e;
        }
        for (int i = 0; i < params.size(); i++) {
            params.get(i).replaceValue(values[i]);
        }
        optimizer.restore(state, c.steps);
        for (int i = 0; i < c.offsets.length; i++) {
            model.layers().get(i).setDropoutOffset(c.offsets[i]);
            model.layers().get(i).loadRunningStatistics(c.statistics[i]);
        }
        return c.epochs;
    }

    /** A checkpoint holds one optimizer state per model parameter, in model order. */
    private static void requireSameParameters(Sequential model, Optimizer optimizer) {
        List<Parameter> mp = model.parameters();
        List<Parameter> op = optimizer.parameters();
        boolean same = mp.size() == op.size();
        for (int i = 0; same && i < mp.size(); i++) {
            same = mp.get(i) == op.get(i);
        }
        if (!same) {
            throw new IllegalArgumentException("the optimizer must update exactly the model's parameters, in "
                    + "order: the model has " + mp.size() + " (" + mp.get(0).name() + " ...), the optimizer "
                    + op.size() + (op.isEmpty() ? "" : " (" + op.get(0).name() + " ...)")
                    + ", or they are another model's");
        }
    }

    private record Stored(String name, int[] shape, float[] data) {
    }

    private record Contents(String model, String optimizer, long epochs, long steps, long[] offsets,
                            float[][] statistics, List<Stored> params, int slotCount, List<Stored> state) {
    }

    private static Contents parse(Path file, byte[] all) throws CheckpointException {
        if (all.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(all, MAGIC.length), MAGIC)) {
            throw new CheckpointException(file + " is not a Fuse4J checkpoint (it does not start with "
                    + new String(MAGIC, java.nio.charset.StandardCharsets.US_ASCII) + ")");
        }
        if (all.length < MAGIC.length + 4 + 8) {
            throw new CheckpointException("checkpoint " + file + " is truncated: " + all.length + " bytes");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        long stored = 0;
        for (int i = all.length - 8; i < all.length; i++) {
            stored = (stored << 8) | (all[i] & 0xFF);
        }
        if (stored != crc.getValue()) {
            throw new CheckpointException("checkpoint " + file + " is corrupt or truncated: its CRC-32 is "
                    + Long.toHexString(stored) + " but its contents give " + Long.toHexString(crc.getValue()));
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, MAGIC.length,
                all.length - 8 - MAGIC.length));
        try {
            int version = in.readInt();
            if (version != VERSION && version != VERSION_WITHOUT_STATISTICS) {
                throw new CheckpointException("checkpoint " + file + " has format version " + version
                        + "; this Fuse4J reads version " + VERSION);
            }
            String model = in.readUTF();
            String optimizer = in.readUTF();
            long epochs = in.readLong();
            long steps = in.readLong();
            if (epochs < 0 || epochs > Integer.MAX_VALUE || steps < 0) {
                throw new CheckpointException("checkpoint " + file + " claims " + epochs + " epochs and " + steps
                        + " optimizer steps");
            }
            long[] offsets = new long[count(in, file, "layer")];
            for (int i = 0; i < offsets.length; i++) {
                offsets[i] = in.readLong();
                if (offsets[i] < 0) {
                    throw new CheckpointException("checkpoint " + file + " gives layer " + i + " the dropout offset "
                            + offsets[i]);
                }
            }
            float[][] statistics = new float[offsets.length][];
            for (int i = 0; i < offsets.length; i++) {
                statistics[i] = new float[version == VERSION_WITHOUT_STATISTICS ? 0 : count(in, file, "statistics")];
                for (int k = 0; k < statistics[i].length; k++) {
                    statistics[i][k] = in.readFloat();
                }
            }
            int paramCount = count(in, file, "parameter");
            List<Stored> params = new ArrayList<>();
            for (int i = 0; i < paramCount; i++) {
                params.add(readTensor(in, file));
            }
            int slotCount = count(in, file, "optimizer slot");
            List<Stored> state = new ArrayList<>();
            for (long i = 0; i < (long) paramCount * slotCount; i++) {
                state.add(readTensor(in, file));
            }
            if (in.available() != 0) {
                throw new CheckpointException("checkpoint " + file + " has " + in.available()
                        + " unexpected bytes after its last tensor");
            }
            return new Contents(model, optimizer, epochs, steps, offsets, statistics, params, slotCount, state);
        } catch (EOFException e) {
            throw new CheckpointException("checkpoint " + file + " ends early, although its CRC matches");
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + file + " cannot be read: " + e.getMessage());
        }
    }

    private static int count(DataInputStream in, Path file, String what) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1 << 20) {
            throw new CheckpointException("checkpoint " + file + " claims " + n + " " + what + " entries");
        }
        return n;
    }

    private static void writeTensor(DataOutputStream out, String name, Tensor t) throws IOException {
        out.writeUTF(name);
        int[] shape = t.shape();
        out.writeInt(shape.length);
        for (int d : shape) {
            out.writeInt(d);
        }
        float[] data = t.toArray();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(data.length * Float.BYTES);
        buf.asFloatBuffer().put(data);
        out.write(buf.array());
    }

    private static Stored readTensor(DataInputStream in, Path file) throws IOException {
        String name = in.readUTF();
        int rank = in.readInt();
        if (rank < 0 || rank > 8) {
            throw new CheckpointException("checkpoint " + file + ": tensor " + name + " has rank " + rank);
        }
        int[] shape = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readInt();
            size *= shape[i];
            if (shape[i] < 0 || size > in.available() / Float.BYTES) {
                throw new CheckpointException("checkpoint " + file + ": tensor " + name + " has shape "
                        + Arrays.toString(Arrays.copyOf(shape, i + 1)) + ", more than the file holds");
            }
        }
        byte[] raw = in.readNBytes((int) size * Float.BYTES);
        float[] data = new float[(int) size];
        java.nio.ByteBuffer.wrap(raw).asFloatBuffer().get(data);
        return new Stored(name, shape, data);
    }

    private static void expect(Path file, Stored s, String name, int[] shape) throws CheckpointException {
        if (!s.name.equals(name) || !Arrays.equals(s.shape, shape)) {
            throw new CheckpointException("checkpoint " + file + " holds " + s.name + Arrays.toString(s.shape)
                    + " where the model has " + name + Arrays.toString(shape));
        }
    }

    private static Tensor upload(Backend be, Stored s, List<Tensor> made) {
        Tensor t = be.tensor(s.data, s.shape);
        made.add(t);
        return t;
    }
}
