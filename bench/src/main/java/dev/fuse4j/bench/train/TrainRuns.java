package dev.fuse4j.bench.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The runs one {@code train} invocation trains: the options as given, and one more run per {@code --compare-with
 * OPTIONS}, whose options are the given ones with {@code OPTIONS} after them (so they win). All runs share the data,
 * the backend, the output folder and its plot, which is how variants are compared on the same footing.
 *
 * @param base     the options as given, {@code --compare-with} taken out
 * @param variants the further runs, in the order given
 */
record TrainRuns(TrainOptions base, List<Variant> variants) {

    static final String OPTION = "--compare-with";

    /**
     * Options a variant may not change: they belong to the invocation (where it reads and writes, which device),
     * not to the model, and every run of one invocation shares them.
     */
    private static final Set<String> SHARED = Set.of("--data", "--train-images", "--train-labels", "--val-images",
            "--val-labels", "--limit", "--backend", "--out", "--resume", "--export", "--compare-no-dropout",
            "--mask-digest", "--mc-samples", OPTION);

    /**
     * One further run.
     *
     * @param name    the run's name in the history, the table and the plot: its options without dashes, commas
     *                (the history is CSV) written as slashes
     * @param options the options it trains with
     */
    record Variant(String name, TrainOptions options) {
    }

    static TrainRuns parse(String... args) {
        List<String> baseArgs = new ArrayList<>();
        List<String> variantArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals(OPTION)) {
                // Not CliArgs.value: the value is itself options, so it starts with "--".
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(OPTION + " needs a value: the options of the run to compare, "
                            + "such as '--activation elu'");
                }
                variantArgs.add(args[++i]);
            } else if (a.startsWith(OPTION + "=")) {
                variantArgs.add(a.substring(OPTION.length() + 1));
            } else {
                baseArgs.add(a);
            }
        }
        String[] given = baseArgs.toArray(String[]::new);
        TrainOptions base = TrainOptions.parse(given);
        List<Variant> variants = new ArrayList<>();
        for (String v : variantArgs) {
            String[] words = v.isBlank() ? new String[0] : v.trim().split("\\s+");
            if (words.length == 0) {
                throw new IllegalArgumentException(OPTION + " needs options, such as '--activation elu', not '"
                        + v + "'");
            }
            for (String w : words) {
                String option = w.contains("=") ? w.substring(0, w.indexOf('=')) : w;
                if (SHARED.contains(option)) {
                    throw new IllegalArgumentException(OPTION + " '" + v + "': " + option + " is shared by every run "
                            + "of one train command; give it outside " + OPTION);
                }
            }
            String[] all = Arrays.copyOf(given, given.length + words.length);
            System.arraycopy(words, 0, all, given.length, words.length);
            TrainOptions options;
            try {
                options = TrainOptions.parse(all);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(OPTION + " '" + v + "': " + e.getMessage(), e);
            }
            variants.add(new Variant(name(words), options));
        }
        List<String> taken = new ArrayList<>(List.of(runName(base, base.dropout(), base.inputDropout()),
                runName(base, 0f, 0f)));
        List<String> files = new ArrayList<>(List.of("model.ckpt", "model-no-dropout.ckpt"));
        for (Variant v : variants) {
            if (taken.contains(v.name()) || files.contains(checkpointName(v))) {
                throw new IllegalArgumentException(OPTION + " '" + v.name() + "' names a run that is already "
                        + "trained by this command");
            }
            taken.add(v.name());
            files.add(checkpointName(v));
        }
        return new TrainRuns(base, List.copyOf(variants));
    }

    /**
     * The name of the run of options {@code o} with hidden-layer dropout {@code p} (on the weights with
     * {@code --dropconnect}) and input dropout {@code inputP}: the options' own, or 0 and 0 for its no-dropout
     * comparison ({@code dropout 0.2 input 0.1}, {@code dropconnect 0.3}, {@code no dropout}).
     */
    static String runName(TrainOptions o, float p, float inputP) {
        return (p > 0f ? String.format(Locale.ROOT, o.dropConnect() ? "dropconnect %s" : "dropout %s", p)
                : "no dropout") + (inputP > 0f ? String.format(Locale.ROOT, " input %s", inputP) : "");
    }

    /** {@code --activation elu:0.5 --hidden=256,256} → {@code activation elu:0.5 hidden 256/256}. */
    private static String name(String[] words) {
        List<String> parts = new ArrayList<>();
        for (String w : words) {
            parts.add(w.replaceFirst("^--", "").replace('=', ' ').replace(',', '/'));
        }
        return String.join(" ", parts).toLowerCase(Locale.ROOT);
    }

    /** A checkpoint file name for a variant's run: its name with every character but letters and digits as '-'. */
    static String checkpointName(Variant v) {
        return "model-" + v.name().replaceAll("[^A-Za-z0-9.]+", "-") + ".ckpt";
    }
}
