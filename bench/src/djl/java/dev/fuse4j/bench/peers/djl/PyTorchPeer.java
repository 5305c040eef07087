package dev.fuse4j.bench.peers.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.pytorch.jni.JniUtils;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.LibraryGemm;
import dev.fuse4j.bench.peers.Peer;
import dev.fuse4j.bench.peers.PreparedLayer;

import java.util.Optional;

/**
 * PyTorch on the CPU through DJL: {@code linear}, {@code relu} and {@code dropout} as three libtorch ops, the way
 * a PyTorch model runs the layer eagerly; backward as the ops autograd would run (mask and scale, two matmuls, a
 * sum). Its dropout mask comes from PyTorch's own generator, so its output is not compared element by element.
 * Found by {@link java.util.ServiceLoader}; compiled only in the {@code djl} Maven profile.
 */
public final class PyTorchPeer implements Peer {
    private static final System.Logger LOG = System.getLogger(PyTorchPeer.class.getName());
    private static final String ENGINE = "PyTorch";

    private final Engine engine;
    private final String reason;

    public PyTorchPeer() {
        // Nothing is downloaded at run time: libtorch comes from the pytorch-native-cpu jar on the class path.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // DJL logs through SLF4J; with no binding on the class path SLF4J would print three lines of warnings.
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        Engine e = null;
        String why = null;
        try {
            e = Engine.getEngine(ENGINE);
        } catch (RuntimeException | LinkageError ex) {
            why = "DJL's PyTorch engine did not load: " + ex;
            LOG.log(System.Logger.Level.WARNING, why, ex);
        }
        this.engine = e;
        this.reason = why;
    }

    /**
     * DJL's PyTorch engine, loaded the peer's way (offline, from the native jar on the class path), for other code
     * that runs PyTorch beside Fuse4J; {@link IllegalStateException} with the reason when it does not load.
     */
    public static Engine engine() {
        PyTorchPeer peer = new PyTorchPeer();
        if (peer.reason != null) {
            throw new IllegalStateException(peer.reason);
        }
        return peer.engine;
    }

    @Override
    public String name() {
        return "pytorch";
    }

    @Override
    public String unavailableReason() {
        return reason;
    }

    @Override
    public String description() {
        return reason != null ? reason : "PyTorch " + engine.getVersion() + " on the CPU through DJL "
                + Engine.getDjlVersion() + " (eager linear, relu, dropout; its own dropout RNG)";
    }

    @Override
    public boolean usesContractMask() {
        return false;
    }

    /** {@code torch.mm}, with PyTorch's intra-op threads set for the product's lifetime. */
    @Override
    public Optional<LibraryGemm> gemm() {
        return reason != null ? Optional.empty() : Optional.of(new Matmul(engine));
    }

    /**
     * {@code a.matMul(wᵀ)} on random matrices, {@code w} stored as the layer's weight; each product is freed as soon as
     * it is made.
     */
    private record Matmul(Engine engine) implements LibraryGemm {
        @Override
        public String label() {
            return "pytorch matmul";
        }

        @Override
        public int threads() {
            return JniUtils.getNumThreads();
        }

        @Override
        public Product prepare(int m, int n, int k, int threads) {
            LibraryGemm.checkArguments(m, n, k, threads);
            NDManager manager = engine.newBaseManager(Device.cpu());
            int before = JniUtils.getNumThreads();
            NDArray a;
            NDArray wt;
            try {
                a = manager.randomUniform(-1f, 1f, new Shape(m, k));
                wt = manager.randomUniform(-1f, 1f, new Shape(n, k)).transpose();
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
            JniUtils.setNumThreads(threads);
            return new Product() {
                @Override
                public void run() {
                    a.matMul(wt).close();
                }

                @Override
                public void close() {
                    JniUtils.setNumThreads(before);
                    manager.close();
                }
            };
        }
    }

    @Override
    public PreparedLayer prepare(LayerInputs in, dev.fuse4j.Dropout d) {
        if (reason != null) {
            throw new IllegalStateException("pytorch peer unavailable: " + reason);
        }
        return new TorchLayer(engine.newBaseManager(Device.cpu()), in, d);
    }

    /** The inputs as libtorch tensors, made once; each call frees what the previous one made. */
    private static final class TorchLayer implements PreparedLayer {
        private final NDManager manager;
        private final NDArray x;
        private final NDArray w;
        private final NDArray b;
        private final NDArray dy;
        private final float p;
        private final boolean training;
        private final float scale;
        private NDArray y;

        TorchLayer(NDManager manager, LayerInputs in, dev.fuse4j.Dropout d) {
            this.manager = manager;
            int n = in.shape().n(), cin = in.shape().in(), out = in.shape().out();
            this.x = manager.create(in.x(), new Shape(n, cin));
            this.w = manager.create(in.w(), new Shape(out, cin));
            this.b = manager.create(in.b(), new Shape(out));
            this.dy = manager.create(in.dy(), new Shape(n, out));
            this.p = d.p();
            this.training = d.training();
            this.scale = d.scale();
        }

        @Override
        public void forward() {
            NDArray next;
            try (NDList z = Linear.linear(x, w, b); NDArray r = Activation.relu(z.singletonOrThrow())) {
                next = training ? Dropout.dropout(r, p, true).singletonOrThrow() : r.duplicate();
            }
            if (y != null) {
                y.close();
            }
            y = next;
        }

        @Override
        public void backward() {
            if (y == null) {
                forward();
            }
            // Every array made here goes into one list, closed at the end: nothing is read back, since libtorch's
            // CPU ops run synchronously and the work is done when they return.
            NDList made = new NDList();
            try {
                NDArray kept = keep(made, y.gt(0f));
                NDArray scaled = keep(made, dy.mul(scale));
                NDArray zero = keep(made, manager.zeros(new Shape(1)));
                NDArray dz = keep(made, NDArrays.where(kept, scaled, zero));
                keep(made, dz.matMul(w));
                keep(made, keep(made, dz.transpose()).matMul(x));
                keep(made, dz.sum(new int[] {0}));
            } finally {
                made.close();
            }
        }

        private static NDArray keep(NDList made, NDArray a) {
            made.add(a);
            return a;
        }

        @Override
        public float[] output() {
            return y.toFloatArray();
        }

        @Override
        public void close() {
            manager.close();
            y = null;
        }
    }
}
