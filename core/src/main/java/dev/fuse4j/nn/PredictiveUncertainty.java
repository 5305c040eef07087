package dev.fuse4j.nn;

/**
 * What MC dropout predicts for {@code rows} examples of {@code classes} classes: per example and class the mean of
 * the softmax outputs over the stochastic passes, and their variance (over the passes, divided by their count).
 * Arrays are row-major {@code [rows, classes]}.
 */
public record PredictiveUncertainty(int rows, int classes, int samples, float[] mean, float[] variance) {

    public PredictiveUncertainty {
        if ((long) rows * classes != mean.length || mean.length != variance.length) {
            throw new IllegalArgumentException("mean and variance must hold " + rows + " x " + classes
                    + " values but hold " + mean.length + " and " + variance.length);
        }
    }

    /** The class with the highest mean probability for example {@code i} (the first on a tie). */
    public int predictedClass(int i) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (mean[i * classes + c] > mean[i * classes + best]) {
                best = c;
            }
        }
        return best;
    }

    /** The per-class variance averaged over every example and class: one number for how unsure the model is. */
    public double meanVariance() {
        double sum = 0;
        for (float v : variance) {
            sum += v;
        }
        return variance.length == 0 ? 0 : sum / variance.length;
    }

    /** The examples whose {@link #predictedClass} equals their label (class indices held as floats). */
    public int correct(float[] labels) {
        if (labels.length != rows) {
            throw new IllegalArgumentException(labels.length + " labels for " + rows + " examples");
        }
        int hits = 0;
        for (int i = 0; i < rows; i++) {
            hits += predictedClass(i) == (int) labels[i] ? 1 : 0;
        }
        return hits;
    }
}
