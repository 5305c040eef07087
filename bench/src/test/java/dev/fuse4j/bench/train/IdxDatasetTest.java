package dev.fuse4j.bench.train;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxDatasetTest {
    /** Three 2×3 images with pixels 0, 15, 30, ..., 240 and a last 255: bytes over 127 test unsigned reading. */
    private static final byte[] PIXELS = new byte[18];
    private static final byte[] LABELS = {4, 0, 1};

    static {
        for (int i = 0; i < PIXELS.length; i++) {
            PIXELS[i] = (byte) (i * 15 % 256);
        }
        PIXELS[17] = (byte) 255;
    }

    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    private static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(plain);
        }
        return bytes.toByteArray();
    }

    private static Path file(Path dir, String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static Path images(Path dir, String name, boolean gz) throws IOException {
        byte[] b = idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 3}, PIXELS);
        return file(dir, name, gz ? gzip(b) : b);
    }

    private static Path labels(Path dir, String name, boolean gz) throws IOException {
        byte[] b = idx(IdxDataset.LABELS_MAGIC, new int[] {3}, LABELS);
        return file(dir, name, gz ? gzip(b) : b);
    }

    private static String message(Path images, Path labels) {
        return assertThrows(IOException.class, () -> IdxDataset.load(images, labels)).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected \"" + p + "\" in: " + message);
        }
    }

    @ParameterizedTest(name = "gzip {0}")
    @ValueSource(booleans = {false, true})
    void readsShapesPixelsAndLabels(boolean gz, @TempDir Path dir) throws IOException {
        IdxDataset d = IdxDataset.load(images(dir, "img", gz), labels(dir, "lab", gz));
        assertEquals(3, d.size());
        assertEquals(2, d.rows());
        assertEquals(3, d.cols());
        assertEquals(6, d.features());
        assertEquals(5, d.classes(), "largest label 4, plus one");
        float[] expected = new float[PIXELS.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (PIXELS[i] & 0xFF) / 255f;
        }
        assertArrayEquals(expected, d.images(), 0f, "value / 255f exactly, unsigned, row-major");
        assertEquals(1f, d.images()[17], 0f, "255 scales to 1");
        assertEquals(240 / 255f, d.images()[16], 0f, "bytes over 127 are unsigned");
        assertArrayEquals(new int[] {4, 0, 1}, d.labels());
        assertArrayEquals(new float[] {4, 0, 1}, d.labelsAsFloats());
        assertEquals(4, d.label(0));
    }

    @Test
    void gzipIsToldByItsMagicBytesNotTheName(@TempDir Path dir) throws IOException {
        IdxDataset a = IdxDataset.load(images(dir, "plain.gz", false), labels(dir, "plain-labels.gz", false));
        IdxDataset b = IdxDataset.load(images(dir, "packed.idx3", true), labels(dir, "packed.idx1", true));
        assertArrayEquals(a.images(), b.images(), 0f);
        assertArrayEquals(a.labels(), b.labels());
    }

    @Test
    void labelsOf255MeanA256ClassProblem(@TempDir Path dir) throws IOException {
        Path lab = file(dir, "lab", idx(IdxDataset.LABELS_MAGIC, new int[] {3}, new byte[] {(byte) 255, 0, 7}));
        IdxDataset d = IdxDataset.load(images(dir, "img", false), lab);
        assertEquals(256, d.classes());
        assertArrayEquals(new int[] {255, 0, 7}, d.labels());
    }

    @Test
    void aLimitTakesTheFirstExamplesAndReadsNoFurther(@TempDir Path dir) throws IOException {
        Path img = images(dir, "img", true);
        Path lab = labels(dir, "lab", true);
        IdxDataset two = IdxDataset.load(img, lab, 2);
        assertEquals(2, two.size());
        assertArrayEquals(Arrays.copyOf(IdxDataset.load(img, lab).images(), 12), two.images(), 0f);
        assertArrayEquals(new int[] {4, 0}, two.labels());
        assertEquals(5, two.classes());
        assertEquals(1, IdxDataset.load(img, lab, 1).size());
        assertEquals(2, IdxDataset.load(img, lab, 2).labelsAsFloats().length);
        for (int all : new int[] {0, -1, 3, 1000}) {
            assertEquals(3, IdxDataset.load(img, lab, all).size(), "limit " + all);
        }
        // The third image is missing, but a limit of 2 never needs it.
        Path cut = file(dir, "cut", Arrays.copyOf(idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 3}, PIXELS),
                16 + 12));
        assertEquals(2, IdxDataset.load(cut, lab, 2).size());
        assertMentions(message(cut, lab), "truncated", "18 bytes", "only 12");
    }

    @Test
    void aMissingFileIsNamedWithHowToGetFashionMnist(@TempDir Path dir) throws IOException {
        Path lab = labels(dir, "lab", false);
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> IdxDataset.load(dir.resolve("nope-images"), lab));
        assertMentions(e.getMessage(), dir.resolve("nope-images").toString(), "apt-get install dataset-fashion-mnist");
        Path img = images(dir, "img", false);
        assertMentions(assertThrows(NoSuchFileException.class, () -> IdxDataset.load(img, dir.resolve("nope-lab")))
                .getMessage(), "nope-lab", "dataset-fashion-mnist");
    }

    @Test
    void aWrongMagicNumberIsShownInHexWithWhatWasExpected(@TempDir Path dir) throws IOException {
        Path img = images(dir, "img", false);
        Path lab = labels(dir, "lab", false);
        assertMentions(message(lab, img), lab.toString(), "0x00000801, expected 0x00000803",
                "swapped");
        assertMentions(message(img, img), img.toString(), "0x00000803, expected 0x00000801", "swapped");

        Path text = file(dir, "text", "hello, world\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertMentions(message(text, lab), text.toString(), "0x68656C6C", "expected 0x00000803", "not an IDX file");

        Path twoDims = file(dir, "two-dims", idx(0x00000802, new int[] {3, 6}, PIXELS));
        assertMentions(message(twoDims, lab), twoDims.toString(), "0x00000802", "0x00000803", "2 dimensions",
                "expected 3");

        Path floats = file(dir, "floats", idx(0x00000D03, new int[] {3, 2, 3}, new byte[72]));
        assertMentions(message(floats, lab), "0x00000D03", "type code 0x0D", "0x08 (unsigned bytes)");

        Path gzLabelsAsImages = file(dir, "labels.gz", gzip(idx(IdxDataset.LABELS_MAGIC, new int[] {3}, LABELS)));
        assertMentions(message(gzLabelsAsImages, lab), "labels.gz", "0x00000801", "0x00000803");
    }

    @Test
    void shortHeadersAndBadSizesAreNamed(@TempDir Path dir) throws IOException {
        Path lab = labels(dir, "lab", false);
        assertMentions(message(dir, lab), dir.toString(), "is a directory");
        Path tiny = file(dir, "tiny", new byte[] {0, 0});
        assertMentions(message(tiny, lab), tiny.toString(), "too short", "2 bytes");
        Path empty = file(dir, "empty", gzip(new byte[0]));
        assertMentions(message(empty, lab), empty.toString(), "0 bytes");

        Path header = file(dir, "header", Arrays.copyOf(idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 3}, PIXELS), 8));
        assertMentions(message(header, lab), header.toString(), "ends inside its header", "expected 12 bytes",
                "found 4");

        Path zeroRows = file(dir, "zero-rows", idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 0, 3}, new byte[0]));
        assertMentions(message(zeroRows, lab), zeroRows.toString(), "dimension 1 has size 0");

        Path huge = file(dir, "huge", idx(IdxDataset.IMAGES_MAGIC, new int[] {3, -1, 3}, PIXELS));
        assertMentions(message(huge, lab), "dimension 1 has size 4294967295");

        Path tooLarge = file(dir, "too-large", idx(IdxDataset.IMAGES_MAGIC, new int[] {100_000, 1000, 1000},
                PIXELS));
        assertMentions(message(tooLarge, lab), tooLarge.toString(), "too large", "100000000000 bytes");
    }

    @ParameterizedTest(name = "gzip {0}")
    @ValueSource(booleans = {false, true})
    void truncatedOrOverlongDataIsMeasured(boolean gz, @TempDir Path dir) throws IOException {
        Path lab = labels(dir, "lab", gz);
        byte[] whole = idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 3}, PIXELS);
        byte[] cut = Arrays.copyOf(whole, 16 + 7);
        Path cutFile = file(dir, "cut", gz ? gzip(cut) : cut);
        assertMentions(message(cutFile, lab), cutFile.toString(), "truncated", "sizes 3 x 2 x 3", "18 bytes",
                "only 7");

        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        Path longFile = file(dir, "long", gz ? gzip(longer) : longer);
        assertMentions(message(longFile, lab), longFile.toString(), "more data than its header", "18 bytes");
    }

    @Test
    void aBrokenGzipStreamIsNamed(@TempDir Path dir) throws IOException {
        Path lab = labels(dir, "lab", false);
        byte[] gz = gzip(idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 3}, PIXELS));

        Path cut = file(dir, "cut.gz", Arrays.copyOf(gz, gz.length - 12));
        assertMentions(message(cut, lab), cut.toString(), "gzip data is truncated or corrupt");

        Path header = file(dir, "header.gz", Arrays.copyOf(gz, 6));
        assertMentions(message(header, lab), header.toString(), "gzip data is truncated or corrupt");
        byte[] method = gz.clone();
        method[2] = 7;
        Path badMethod = file(dir, "method.gz", method);
        assertMentions(message(badMethod, lab), badMethod.toString(), "gzip data is truncated or corrupt");

        byte[] badCrc = gz.clone();
        badCrc[badCrc.length - 8] ^= 1;
        Path crc = file(dir, "crc.gz", badCrc);
        assertMentions(message(crc, lab), crc.toString(), "gzip data is truncated or corrupt");
        // A limit stops before gzip's trailer, so only a full read can see the bad checksum.
        assertEquals(2, IdxDataset.load(crc, lab, 2).size());
    }

    @Test
    void countsMustAgreeAndNotBeZero(@TempDir Path dir) throws IOException {
        Path img = images(dir, "img", false);
        Path fewer = file(dir, "fewer", gzip(idx(IdxDataset.LABELS_MAGIC, new int[] {2}, new byte[] {0, 1})));
        String m = message(img, fewer);
        assertMentions(m, img.toString(), "3 images", fewer.toString(), "2 labels");
        assertMentions(assertThrows(IOException.class, () -> IdxDataset.load(img, fewer, 1)).getMessage(),
                "3 images", "2 labels");

        Path noImages = file(dir, "no-images", idx(IdxDataset.IMAGES_MAGIC, new int[] {0, 2, 3}, new byte[0]));
        Path noLabels = file(dir, "no-labels", idx(IdxDataset.LABELS_MAGIC, new int[] {0}, new byte[0]));
        assertMentions(message(noImages, noLabels), noImages.toString(), noLabels.toString(), "no examples");
    }

    @Test
    void readsDebiansFashionMnist() throws IOException {
        Path dir = TrainOptions.DEBIAN_FASHION_MNIST;
        Required.assume("fashion-mnist", Files.isDirectory(dir), "Fashion-MNIST is not installed (apt-get install "
                + "dataset-fashion-mnist)");
        Path trainImages = dir.resolve("train-images-idx3-ubyte.gz");
        Path trainLabels = dir.resolve("train-labels-idx1-ubyte.gz");
        long t0 = System.nanoTime();
        IdxDataset train = IdxDataset.load(trainImages, trainLabels);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "Fashion-MNIST training set (60000 x 784, gzip) loaded in %.3f s%n",
                seconds);
        IdxDataset test = IdxDataset.load(dir.resolve("t10k-images-idx3-ubyte.gz"),
                dir.resolve("t10k-labels-idx1-ubyte.gz"));
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        assertEquals(784, test.features());
        assertEquals(10, train.classes());
        assertEquals(10, test.classes());
        assertEquals(60000 * 784, train.images().length);
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, Arrays.copyOf(train.labels(), 10));
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, Arrays.copyOf(test.labels(), 10));
        double firstImage = 0;
        for (int i = 0; i < 784; i++) {
            firstImage += train.images()[i];
        }
        assertEquals(76247 / 255.0, firstImage, 1e-3, "the first image's pixel sum, as Python's gzip module reads it");
        float max = 0;
        for (float v : train.images()) {
            assertTrue(v >= 0f && v <= 1f);
            max = Math.max(max, v);
        }
        assertEquals(1f, max, 0f);
        int[] perClass = new int[10];
        for (int l : train.labels()) {
            perClass[l]++;
        }
        int[] balanced = new int[10];
        Arrays.fill(balanced, 6000);
        assertArrayEquals(balanced, perClass, "Fashion-MNIST's training set is balanced");

        IdxDataset first = IdxDataset.load(trainImages, trainLabels, 100);
        assertArrayEquals(Arrays.copyOf(train.images(), 100 * 784), first.images(), 0f);
    }
}
