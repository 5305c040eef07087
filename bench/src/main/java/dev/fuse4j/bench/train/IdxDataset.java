package dev.fuse4j.bench.train;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Images and labels from a pair of MNIST-format IDX files, plain or gzipped (told apart by gzip's magic bytes,
 * not by the name). IDX: a big-endian magic {@code 0x00000803} (unsigned bytes, 3 dimensions) for images or
 * {@code 0x00000801} (1 dimension) for labels, the dimension sizes as big-endian ints, then the bytes.
 * Pixels are scaled to [0, 1] as {@code value / 255f}.
 */
public final class IdxDataset {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    /** IDX's element-type code for unsigned bytes, the only type MNIST-format files use. */
    private static final int UBYTE = 0x08;
    private static final String INSTALL_HINT = "for Fashion-MNIST install Debian's package "
            + "(apt-get install dataset-fashion-mnist) or pass the files' paths";

    // A table gives exactly value / 255f, and a load is then one lookup per pixel instead of a division.
    private static final float[] SCALE = new float[256];

    static {
        for (int v = 0; v < 256; v++) {
            SCALE[v] = v / 255f;
        }
    }

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

        IdxFormatException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Every example of the pair. */
    public static IdxDataset load(Path images, Path labels) throws IOException {
        return load(images, labels, 0);
    }

    /**
     * The first {@code limit} examples of the pair ({@code limit <= 0}: all of them). Only those examples' bytes
     * are read, so a small limit on a large file is quick.
     *
     * @throws NoSuchFileException  a file is missing (the message says which and how to get Fashion-MNIST)
     * @throws IdxFormatException   a file is not an MNIST-format IDX file of the expected kind, is truncated,
     *                              the counts differ, or there are no examples
     */
    public static IdxDataset load(Path images, Path labels, int limit) throws IOException {
        Idx img = read(images, IMAGES_MAGIC, limit);
        Idx lab = read(labels, LABELS_MAGIC, limit);
        if (img.dims[0] != lab.dims[0]) {
            throw new IdxFormatException(images + " holds " + img.dims[0] + " images but " + labels + " holds "
                    + lab.dims[0] + " labels; the two files must describe the same examples");
        }
        if (img.dims[0] == 0) {
            throw new IdxFormatException(images + " and " + labels + " hold no examples (their headers say 0)");
        }
        int n = limit > 0 ? Math.min(limit, img.dims[0]) : img.dims[0];
        float[] x = new float[img.data.length];
        byte[] px = img.data;
        for (int i = 0; i < x.length; i++) {
            x[i] = SCALE[px[i] & 0xFF];
        }
        return new IdxDataset(n, img.dims[1], img.dims[2], x, lab.data);
    }

    private record Idx(int[] dims, byte[] data) {
    }

    /** Reads the header and the first {@code limit} items' bytes (all when {@code limit <= 0}). */
    private static Idx read(Path file, int magic, int limit) throws IOException {
        int rank = magic & 0xFF;
        if (Files.isDirectory(file)) {
            throw new IdxFormatException(file + " is a directory, not an IDX file");
        }
        boolean gzip;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            try (InputStream in = gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw) {
                byte[] head = in.readNBytes(4);
                if (head.length < 4) {
                    throw new IdxFormatException(String.format("%s is too short for an IDX file: %d bytes, expected "
                            + "at least 4 for the magic number 0x%08X", file, head.length, magic));
                }
                checkMagic(file, ByteBuffer.wrap(head).getInt(), magic);
                byte[] dimBytes = in.readNBytes(4 * rank);
                if (dimBytes.length < 4 * rank) {
                    throw new IdxFormatException(file + " ends inside its header: expected " + 4 * rank
                            + " bytes of dimension sizes, found " + dimBytes.length);
                }
                ByteBuffer h = ByteBuffer.wrap(dimBytes);
                int[] dims = new int[rank];
                long perItem = 1;
                for (int d = 0; d < rank; d++) {
                    dims[d] = h.getInt();
                    // Sizes are unsigned in the format, but nothing a Java array can hold needs the top bit.
                    if (dims[d] < 0 || (d > 0 && dims[d] == 0)) {
                        throw new IdxFormatException(file + ": dimension " + d + " has size "
                                + Integer.toUnsignedString(dims[d]) + " (header sizes " + describe(dims, d + 1)
                                + ")");
                    }
                    if (d > 0) {
                        perItem *= dims[d];
                    }
                }
                long items = limit > 0 ? Math.min(limit, dims[0]) : dims[0];
                long want = items * perItem;
                if (want > Integer.MAX_VALUE - 8) {
                    throw new IdxFormatException(file + " is too large to load: " + items + " items of "
                            + perItem + " bytes (" + want + " bytes, header sizes " + describe(dims, rank) + ")");
                }
                byte[] data = new byte[(int) want];
                int got = readFully(file, gzip, in, data);
                if (got != want) {
                    throw new IdxFormatException(file + " is truncated: its header (sizes " + describe(dims, rank)
                            + ") promises " + want + " bytes of data for " + items + " items, but only " + got
                            + " follow");
                }
                // Reading on to the end catches a header whose sizes are too small, and a gzip file's CRC is
                // checked only there.
                if (items == dims[0] && readFully(file, gzip, in, new byte[1]) != 0) {
                    throw new IdxFormatException(file + " holds more data than its header describes: the sizes "
                            + describe(dims, rank) + " promise " + want + " bytes, but more follow");
                }
                return new Idx(dims, data);
            }
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file; " + INSTALL_HINT);
        } catch (EOFException | ZipException e) {
            // Only GZIPInputStream throws these here (plain reads come up short instead), and its messages do
            // not say which file.
            throw new IdxFormatException(file + ": the gzip data is truncated or corrupt (" + e.getMessage() + ")",
                    e);
        }
    }

    private static void checkMagic(Path file, int found, int magic) throws IdxFormatException {
        if (found == magic) {
            return;
        }
        String want = magic == IMAGES_MAGIC ? "an idx3 image file" : "an idx1 label file";
        String prefix = String.format("%s: wrong magic number 0x%08X, expected 0x%08X (%s)", file, found, magic,
                want);
        int rank = magic & 0xFF;
        if (found == (magic == IMAGES_MAGIC ? LABELS_MAGIC : IMAGES_MAGIC)) {
            throw new IdxFormatException(prefix + "; this is " + (magic == IMAGES_MAGIC ? "a label" : "an image")
                    + " file: are images and labels swapped?");
        }
        if ((found >>> 16) == 0 && ((found >>> 8) & 0xFF) == UBYTE) {
            throw new IdxFormatException(prefix + "; it has " + (found & 0xFF) + " dimensions, expected " + rank);
        }
        if ((found >>> 16) == 0) {
            throw new IdxFormatException(prefix + String.format("; its elements have type code 0x%02X, expected "
                    + "0x%02X (unsigned bytes)", (found >>> 8) & 0xFF, UBYTE));
        }
        throw new IdxFormatException(prefix + "; it is not an IDX file");
    }

    /**
     * Fills {@code buf} as far as the stream goes and returns how much it read. A gzip stream that breaks off
     * throws rather than ending, so that case is turned into a message naming the file and the count so far.
     */
    private static int readFully(Path file, boolean gzip, InputStream in, byte[] buf) throws IOException {
        int off = 0;
        try {
            while (off < buf.length) {
                int r = in.read(buf, off, buf.length - off);
                if (r < 0) {
                    break;
                }
                off += r;
            }
            return off;
        } catch (EOFException | ZipException e) {
            if (!gzip) {
                throw e;
            }
            throw new IdxFormatException(file + ": the gzip data is truncated or corrupt (" + e.getMessage()
                    + ") after " + off + " of " + buf.length + " expected bytes", e);
        }
    }

    private static String describe(int[] dims, int n) {
        StringBuilder sb = new StringBuilder();
        for (int d = 0; d < n; d++) {
            sb.append(d == 0 ? "" : " x ").append(Integer.toUnsignedString(dims[d]));
        }
        return sb.toString();
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

    /** {@code rows() * cols()}: the length of one example in {@link #images()}. */
    public int features() {
        return rows * cols;
    }

    /** The largest label plus one (so at least 1, at most 256). */
    public int classes() {
        return classes;
    }

    /** Row-major {@code [size, features]} in [0, 1]; shared, not copied, so callers must not write to it. */
    public float[] images() {
        return images;
    }

    /** Example {@code i}'s label, in [0, 255]. */
    public int label(int i) {
        return labels[i] & 0xFF;
    }

    /** A fresh copy of the labels, each in [0, 255]. */
    public int[] labels() {
        int[] l = new int[size];
        for (int i = 0; i < size; i++) {
            l[i] = labels[i] & 0xFF;
        }
        return l;
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
