package dev.fuse4j.bench.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** Figures as tables and charts print them. */
public final class Numbers {
    private Numbers() {
    }

    /** A sensible number of digits for the figure's size: 1234, 56.7, 8.90; "-" for a figure that does not exist. */
    public static String fixed(double v) {
        if (!Double.isFinite(v)) {
            return "-";
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
    }

    /** Up to six significant digits without trailing zeros, as axis labels read: 40, 0.5, 2.5. */
    public static String plain(double v) {
        return BigDecimal.valueOf(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }
}
