package dev.fuse4j.reference;

/**
 * The loss and the optimizer steps in float64, as PyTorch defines them, for judging a backend's
 * {@code softmaxCrossEntropy}, {@code sgdStep} and {@code adamStep}.
 */
public final class TrainingReference {
    private TrainingReference() {
    }

    /** Mean loss, the count of rows whose arg-max is the label, and the gradient {@code (softmax − onehot)/n}. */
    public record CrossEntropy(double loss, int correct, double[] grad) {
    }

    /** Softmax cross-entropy of {@code logits [n, classes]} against {@code labels [n]} (class indices as floats). */
    public static CrossEntropy softmaxCrossEntropy(float[] logits, float[] labels, int n, int classes) {
        double loss = 0;
        int correct = 0;
        double[] grad = new double[n * classes];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            for (int j = 0; j < classes; j++) {
                if (logits[i * classes + j] > max) {
                    max = logits[i * classes + j];
                    arg = j;
                }
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(logits[i * classes + j] - max);
            }
            int label = (int) labels[i];
            loss += -(logits[i * classes + label] - max - Math.log(sum));
            correct += arg == label ? 1 : 0;
            for (int j = 0; j < classes; j++) {
                grad[i * classes + j] = (Math.exp(logits[i * classes + j] - max) / sum - (j == label ? 1 : 0)) / n;
            }
        }
        return new CrossEntropy(loss / n, correct, grad);
    }

    /** One step of {@code torch.optim.SGD}, in place: {@code g = grad + wd·p; v = momentum·v + g; p -= lr·v}. */
    public static void sgdStep(double[] p, double[] v, float[] grad, double lr, double momentum, double weightDecay) {
        for (int i = 0; i < p.length; i++) {
            double g = grad[i] + weightDecay * p[i];
            v[i] = momentum * v[i] + g;
            p[i] -= lr * v[i];
        }
    }

    /**
     * One step of {@code torch.optim.Adam} (L2 weight decay added to the gradient), in place, with bias correction
     * for the 1-based {@code step}.
     */
    public static void adamStep(double[] p, double[] m, double[] v, float[] grad, double lr, double beta1,
                                double beta2, double eps, double weightDecay, long step) {
        for (int i = 0; i < p.length; i++) {
            double g = grad[i] + weightDecay * p[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            double mHat = m[i] / (1 - Math.pow(beta1, step));
            double vHat = v[i] / (1 - Math.pow(beta2, step));
            p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
        }
    }
}
