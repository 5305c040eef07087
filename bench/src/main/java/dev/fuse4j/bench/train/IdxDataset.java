package dev.fuse4j.bench.train;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Images and labels from a pair of MNIST-format IDX files, plain or gzipped (told apart by gzip's magic bytes,
 * not by the name). IDX: a big-endian magic {@code 0x00000803} (unsigned bytes, 3 dimensions) for images or
 * {@code 0x00000801} (1 dimension) for labels, the dimension sizes as big-endian ints, then the bytes.
 * Pixels are scaled to [0, 1].
 */
public final class IdxDataset {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private final int size;
    private final int rows;
    private final int cols;
    private final float[] images;
    private final byte[] labels;
    private final int classes;

    private IdxDataset(int size, int rows, int cols, float[] images, byte[] labels) {
        this.size = size;
        this.rows = rows;
        this.cols = cols;
        this.images = images;
        this.labels = labels;
        int max = 0;
        for (byte l : labels) {
            max = Math.max(max, l & 0xFF);
        }
        this.classes = max + 1;
    }

    /** A file that is not a usable IDX file; the message names the file and what is wrong with it. */
    public static final class IdxFormatException extends IOException {
        private static final long serialVersionUID = 1L;

        IdxFormatException(String message) {
            super(message);
        }
    }

    public static IdxDataset load(Path images, Path labels) throws IOException {
        return load(images, labels, 0);
    }

    /** The first {@code limit} examples of the pair ({@code limit <= 0}: all of them). */
    public static IdxDataset load(Path images, Path labels, int limit) throws IOException {
        Idx img = read(images, IMAGES_MAGIC, 3, limit);
        Idx lab = read(labels, LABELS_MAGIC, 1, limit);
        if (img.dims[0] != lab.dims[0]) {
            throw new IdxFormatException(images + " holds " + img.dims[0] + " images but " + labels + " holds "
                    + lab.dims[0] + " labels");
        }
        int n = limit > 0 ? Math.min(limit, img.dims[0]) : img.dims[0];
        if (n == 0) {
            throw new IdxFormatException(images + " holds no examples");
        }
        int features = img.dims[1] * img.dims[2];
        float[] x = new float[Math.multiplyExact(n, features)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (img.data[i] & 0xFF) / 255f;
        }
        return new IdxDataset(n, img.dims[1], img.dims[2], x, java.util.Arrays.copyOf(lab.data, n));
    }

    private record Idx(int[] dims, byte[] data) {
    }

    /** Reads the header and the first {@code limit} items' bytes (all when {@code limit <= 0}). */
    private static Idx read(Path file, int magic, int rank, int limit) throws IOException {
        try (InputStream in = open(file)) {
            byte[] head = in.readNBytes(4 + 4 * rank);
            if (head.length < 4) {
                throw new IdxFormatException(file + " is too short for an IDX file (" + head.length + " bytes)");
            }
            ByteBuffer h = ByteBuffer.wrap(head);
            int found = h.getInt();
            if (found != magic) {
                throw new IdxFormatException(String.format("%s: wrong magic number 0x%08X, expected 0x%08X (%s)",
                        file, found, magic, magic == IMAGES_MAGIC ? "an idx3 image file" : "an idx1 label file"));
            }
            if (head.length < 4 + 4 * rank) {
                throw new IdxFormatException(file + " ends inside its header: " + rank + " dimension sizes "
                        + "expected");
            }
            int[] dims = new int[rank];
            long total = 1;
            for (int d = 0; d < rank; d++) {
                dims[d] = h.getInt();
                if (dims[d] < 0 || (d > 0 && dims[d] == 0)) {
                    throw new IdxFormatException(file + ": dimension " + d + " has size " + dims[d]);
                }
                total *= dims[d];
            }
            long perItem = dims[0] == 0 ? 0 : total / dims[0];
            long items = limit > 0 ? Math.min(limit, dims[0]) : dims[0];
            long want = items * perItem;
            if (want > Integer.MAX_VALUE - 8) {
                throw new IdxFormatException(file + " is too large to load: " + want + " bytes");
            }
            byte[] data = in.readNBytes((int) want);
            if (data.length != want) {
                throw new IdxFormatException(file + " is truncated: its header promises " + want + " bytes of "
                        + "data for " + items + " items, but only " + data.length + " follow");
            }
            return new Idx(dims, data);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file; for Fashion-MNIST install "
                    + "Debian's package (apt-get install dataset-fashion-mnist) or pass the files' paths");
        }
    }

    private static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
    }

    public int size() {
        return size;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int features() {
        return rows * cols;
    }

    /** The largest label plus one. */
    public int classes() {
        return classes;
    }

    /** Row-major {@code [size, features]} in [0, 1]; shared, not copied. */
    public float[] images() {
        return images;
    }

    public int label(int i) {
        return labels[i] & 0xFF;
    }

    /** The labels as float class indices, the form the backend's cross-entropy takes. */
    public float[] labelsAsFloats() {
        float[] f = new float[size];
        for (int i = 0; i < size; i++) {
            f[i] = labels[i] & 0xFF;
        }
        return f;
    }
}
