package dev.fuse4j.bench.peers;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Every peer this build knows: the built-in plain-Java and OpenBLAS peers, then those found by
 * {@link ServiceLoader} (the PyTorch peer, which only the {@code djl} Maven profile compiles and puts on the
 * class path). A peer that cannot run here is still listed, with its reason.
 */
public final class Peers {
    private static final System.Logger LOG = System.getLogger(Peers.class.getName());

    private Peers() {
    }

    /** Every known peer, available or not, built-ins first. */
    public static List<Peer> all() {
        List<Peer> out = new ArrayList<>(List.of(new PlainJavaPeer(), new OpenBlasPeer()));
        try {
            for (Peer p : ServiceLoader.load(Peer.class)) {
                out.add(p);
            }
        } catch (ServiceConfigurationError e) {
            // A stale profile build can leave a peer registered whose library is gone from the class path.
            LOG.log(System.Logger.Level.WARNING, "a peer could not be loaded and is left out: " + e.getMessage());
        }
        return List.copyOf(out);
    }

    /** The peers that can run here. */
    public static List<Peer> available() {
        return all().stream().filter(p -> p.unavailableReason() == null).toList();
    }

    /** The peer of that name, available or not; {@link IllegalArgumentException} naming the known ones if none. */
    public static Peer byName(String name) {
        List<Peer> all = all();
        return all.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown peer '" + name + "'; this build has "
                        + all.stream().map(Peer::name).toList()
                        + (name.equals("pytorch") ? " (the PyTorch peer needs the djl profile:"
                        + " FUSE4J_PROFILES=djl ./fuse4j compare)" : "")));
    }
}
