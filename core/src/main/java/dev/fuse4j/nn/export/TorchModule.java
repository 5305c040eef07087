package dev.fuse4j.nn.export;

import java.util.ArrayList;
import java.util.List;

/**
 * The PyTorch module that computes what an exported model computes, as a Python expression. Its children are
 * named after the Fuse4J layers, so its {@code state_dict()} keys are the exported tensor names
 * ({@code layer0.weight}, {@code layer0.bias}, ...) and {@code load_state_dict} takes the safetensors file as is.
 */
final class TorchModule {

    private TorchModule() {
    }

    static String expression(ExportedModel model) {
        List<String> children = new ArrayList<>();
        for (ExportedModel.DenseLayer l : model.layers()) {
            children.add(child(l.name(), "torch.nn.Linear(" + l.in() + ", " + l.out() + ")"));
            String act = switch (l.activation().kind()) {
                case RELU -> "torch.nn.ReLU()";
                case LEAKY_RELU -> "torch.nn.LeakyReLU(negative_slope=" + l.activation().alpha() + ")";
                case GELU -> "torch.nn.GELU(approximate='tanh')";
                case ELU -> "torch.nn.ELU(alpha=" + l.activation().alpha() + ")";
                case PRELU -> "torch.nn.PReLU(num_parameters=" + l.out() + ")";
                case IDENTITY -> null;
            };
            if (act != null) {
                children.add(child(l.name() + "_act", act));
            }
            if (l.dropoutP() > 0f) {
                children.add(child(l.name() + "_dropout", "torch.nn.Dropout(p=" + l.dropoutP() + ")"));
            }
        }
        return "torch.nn.Sequential(collections.OrderedDict([" + String.join(", ", children) + "]))";
    }

    private static String child(String name, String module) {
        return "(" + pythonString(name) + ", " + module + ")";
    }

    private static String pythonString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
