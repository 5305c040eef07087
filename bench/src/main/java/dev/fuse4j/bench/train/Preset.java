package dev.fuse4j.bench.train;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The networks of the notes the project grew from, as starting points for {@code train --preset NAME}: each sets the
 * hidden layers, the hidden layers' dropout and the batch size, and any of those options given beside it wins.
 */
public enum Preset {
    /** The default: two ReLU layers of 512 with dropout 0.2, which reaches 90 % on Fashion-MNIST in 20 epochs. */
    DEFAULT("default", List.of(512, 512), 0.2f, 128, "784-512-512-10, ReLU, dropout 0.2, batch 128"),
    /** The notes' MNIST-style {@code SimpleNet}: one hidden layer of 500, dropout 0.5, batches of 64. */
    SIMPLE_NET("simple-net", List.of(500), 0.5f, 64, "784-500-10, ReLU, dropout 0.5, batch 64 (the notes' SimpleNet)"),
    /** The notes' {@code Classifier}: 512 then 256, dropout 0.3 after each. */
    CLASSIFIER("classifier", List.of(512, 256), 0.3f, 128,
            "784-512-256-10, ReLU, dropout 0.3, batch 128 (the notes' Classifier)");

    private final String option;
    private final List<Integer> hidden;
    private final float dropout;
    private final int batch;
    private final String description;

    Preset(String option, List<Integer> hidden, float dropout, int batch, String description) {
        this.option = option;
        this.hidden = hidden;
        this.dropout = dropout;
        this.batch = batch;
        this.description = description;
    }

    /** The preset {@code --preset} names, or an error listing the names there are. */
    public static Preset named(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(p -> p.option.equals(n)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("--preset must be one of " + names() + ", not '"
                        + name + "'"));
    }

    static String names() {
        return Arrays.stream(values()).map(p -> p.option).collect(Collectors.joining(", "));
    }

    /** One line per preset for the usage text. */
    static String listing() {
        return Arrays.stream(values()).map(p -> String.format(Locale.ROOT, "                        %-11s %s",
                p.option, p.description)).collect(Collectors.joining("\n"));
    }

    public String option() {
        return option;
    }

    public List<Integer> hidden() {
        return hidden;
    }

    public float dropout() {
        return dropout;
    }

    public int batch() {
        return batch;
    }
}
