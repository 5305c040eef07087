package dev.fuse4j.nn;

import dev.fuse4j.Dropout;

import java.util.Locale;

/**
 * How a layer's dropout shares its draws: plain (one per element), channel (one per row and channel of
 * {@code featuresPerChannel} consecutive features, {@link Dropout#channels}), variational (one per sequence and
 * feature, the same at every time step of a time-major batch of {@code sequences} rows per step,
 * {@link Dropout#variational}), or both.
 *
 * @param featuresPerChannel consecutive features per channel, {@code >= 1}; 1 draws per element
 * @param sequences          rows per time step of a time-major batch, {@code >= 0}; 0 for none
 */
public record DropoutMode(int featuresPerChannel, int sequences) {

    /** One draw per element. */
    public static final DropoutMode PLAIN = new DropoutMode(1, 0);

    public DropoutMode {
        if (featuresPerChannel < 1) {
            throw new IllegalArgumentException("dropout featuresPerChannel must be >= 1 but is " + featuresPerChannel);
        }
        if (sequences < 0) {
            throw new IllegalArgumentException("dropout sequences must be >= 0 but is " + sequences);
        }
    }

    public static DropoutMode channels(int featuresPerChannel) {
        return new DropoutMode(featuresPerChannel, 0);
    }

    public static DropoutMode variational(int sequences) {
        return new DropoutMode(1, sequences);
    }

    public boolean plain() {
        return featuresPerChannel == 1 && sequences == 0;
    }

    /** {@code d} with this mode's options. */
    public Dropout applyTo(Dropout d) {
        return d.channels(featuresPerChannel).variational(sequences);
    }

    /**
     * The spelling {@link #parse} reads and layers describe themselves with: {@code plain}, {@code channel:F},
     * {@code variational:S} or {@code channel:F+variational:S}.
     */
    public String spelling() {
        if (plain()) {
            return "plain";
        }
        String channel = featuresPerChannel == 1 ? "" : "channel:" + featuresPerChannel;
        String variational = sequences == 0 ? "" : "variational:" + sequences;
        return channel.isEmpty() ? variational : variational.isEmpty() ? channel : channel + "+" + variational;
    }

    /** Reads {@link #spelling()}'s forms; anything else is refused naming the text. */
    public static DropoutMode parse(String text) {
        int features = 1;
        int sequences = 0;
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("plain")) {
            for (String part : s.split("\\+", -1)) {
                int colon = part.indexOf(':');
                String kind = colon < 0 ? part : part.substring(0, colon);
                int value = colon < 0 ? -1 : number(part.substring(colon + 1));
                switch (kind) {
                    case "channel" -> features = value;
                    case "variational" -> sequences = value;
                    default -> value = -1;
                }
                if (value < 1) {
                    throw new IllegalArgumentException("a dropout mode is plain, channel:F, variational:S or "
                            + "channel:F+variational:S with F and S >= 1, not '" + text + "'");
                }
            }
        }
        return new DropoutMode(features, sequences);
    }

    /** The integer {@code v} spells, or -1 when it spells none. */
    private static int number(String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
