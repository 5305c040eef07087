package dev.fuse4j.bench.train;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxDatasetTest {

    /** Three 2×2 images with pixels 0, 51, 102, ... and labels 2, 0, 1. */
    private static void writeSmall(Path dir, boolean gzip) throws IOException {
        byte[] px = new byte[12];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 51 % 256);
        }
        write(dir.resolve("img"), gzip, IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 2}, px);
        write(dir.resolve("lab"), gzip, IdxDataset.LABELS_MAGIC, new int[] {3}, new byte[] {2, 0, 1});
    }

    private static void write(Path file, boolean gzip, int magic, int[] dims, byte[] data) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream o = gzip ? new GZIPOutputStream(raw) : raw;
             java.io.DataOutputStream d = new java.io.DataOutputStream(o)) {
            d.writeInt(magic);
            for (int x : dims) {
                d.writeInt(x);
            }
            d.write(data);
        }
    }

    @Test
    void readsPlainAndGzippedFilesAlike(@TempDir Path dir) throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            writeSmall(dir, gzip);
            IdxDataset d = IdxDataset.load(dir.resolve("img"), dir.resolve("lab"));
            assertEquals(3, d.size());
            assertEquals(4, d.features());
            assertEquals(2, d.rows());
            assertEquals(3, d.classes());
            assertEquals(51 / 255f, d.images()[1], 0f);
            assertEquals(1f, d.images()[5], 0f, "pixel 255 scales to 1");
            assertArrayEquals(new float[] {2, 0, 1}, d.labelsAsFloats());
            IdxDataset two = IdxDataset.load(dir.resolve("img"), dir.resolve("lab"), 2);
            assertEquals(2, two.size());
            assertEquals(8, two.images().length);
        }
    }

    @Test
    void badFilesAreNamedWithWhatIsWrong(@TempDir Path dir) throws IOException {
        writeSmall(dir, false);
        Path img = dir.resolve("img");
        Path lab = dir.resolve("lab");

        NoSuchFileException missing = assertThrows(NoSuchFileException.class,
                () -> IdxDataset.load(dir.resolve("nope"), lab));
        assertTrue(missing.getMessage().contains("nope") && missing.getMessage().contains("dataset-fashion-mnist"),
                missing.getMessage());

        IOException magic = assertThrows(IOException.class, () -> IdxDataset.load(lab, lab));
        assertTrue(magic.getMessage().contains("0x00000801") && magic.getMessage().contains("0x00000803"),
                magic.getMessage());

        Path cut = dir.resolve("cut");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(img), 16 + 7));
        IOException truncated = assertThrows(IOException.class, () -> IdxDataset.load(cut, lab));
        assertTrue(truncated.getMessage().contains("12 bytes") && truncated.getMessage().contains("only 7"),
                truncated.getMessage());

        Path fewer = dir.resolve("fewer");
        write(fewer, true, IdxDataset.LABELS_MAGIC, new int[] {2}, new byte[] {0, 1});
        IOException count = assertThrows(IOException.class, () -> IdxDataset.load(img, fewer));
        assertTrue(count.getMessage().contains("3 images") && count.getMessage().contains("2 labels"),
                count.getMessage());
    }

    @Test
    void readsDebiansFashionMnist() throws IOException {
        Path dir = TrainOptions.DEBIAN_FASHION_MNIST;
        Assumptions.assumeTrue(Files.isDirectory(dir), "Fashion-MNIST is not installed (apt-get install "
                + "dataset-fashion-mnist)");
        IdxDataset train = IdxDataset.load(dir.resolve("train-images-idx3-ubyte.gz"),
                dir.resolve("train-labels-idx1-ubyte.gz"));
        IdxDataset test = IdxDataset.load(dir.resolve("t10k-images-idx3-ubyte.gz"),
                dir.resolve("t10k-labels-idx1-ubyte.gz"));
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        assertEquals(10, train.classes());
        int[] perClass = new int[10];
        for (int i = 0; i < train.size(); i++) {
            perClass[train.label(i)]++;
        }
        assertArrayEquals(new int[] {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, perClass,
                "Fashion-MNIST's training set is balanced");
    }
}
