package dev.fuse4j;

import dev.fuse4j.spi.BackendProvider;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Finds backends through {@link ServiceLoader} and picks one.
 *
 * <p>Order of {@link #select()}: an explicit choice (system property {@code fuse4j.backend}, else environment
 * variable {@code FUSE4J_BACKEND}), else the first available of cuda, opencl, cpu. An explicit choice that cannot
 * be honoured is an error, never a silent fallback.
 */
public final class Backends {

    /** System property naming the backend to use, such as {@code opencl:1}. */
    public static final String PROPERTY = "fuse4j.backend";
    /** Environment variable read when the property is not set. */
    public static final String ENV = "FUSE4J_BACKEND";

    private static final System.Logger LOG = System.getLogger("dev.fuse4j");
    private static final Map<String, Backend> OPEN = new ConcurrentHashMap<>();
    private static volatile List<BackendProvider> providers;

    private Backends() {
    }

    /** The backend to use: the explicit choice if there is one, else the first available by priority. */
    public static Backend select() {
        String explicit = explicitChoice();
        if (explicit != null) {
            Backend b = get(explicit);
            LOG.log(System.Logger.Level.INFO, "Fuse4J backend {0} on {1} (chosen explicitly)", b.name(), b.device());
            return b;
        }
        List<String> skipped = new ArrayList<>();
        for (BackendProvider p : providers()) {
            for (BackendStatus s : p.probe()) {
                if (!s.available()) {
                    skipped.add(s.name() + ": " + s.reason());
                    continue;
                }
                try {
                    Backend b = get(s.name());
                    LOG.log(System.Logger.Level.INFO, "Fuse4J backend {0} on {1}{2}", b.name(), b.device(),
                            skipped.isEmpty() ? "" : "; not used: " + String.join("; ", skipped));
                    return b;
                } catch (BackendUnavailableException e) {
                    skipped.add(s.name() + ": " + e.getMessage());
                }
            }
        }
        throw new BackendUnavailableException("no Fuse4J backend can run here: " + String.join("; ", skipped)
                + (providers().isEmpty() ? "no backend module on the class path (add fuse4j-backend-cpu)" : ""));
    }

    /**
     * The backend called {@code name}: a family ({@code cpu}, {@code opencl}, {@code cuda}, meaning device 0) or
     * {@code family:N} for device N in {@link #probe()} order. Instances are opened once and shared.
     *
     * @throws IllegalArgumentException     for a name no backend module knows
     * @throws BackendUnavailableException for a known backend that cannot run here, with the reason
     */
    public static Backend get(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("backend name is empty; known backends: " + knownNames());
        }
        String trimmed = name.trim().toLowerCase(java.util.Locale.ROOT);
        int colon = trimmed.indexOf(':');
        String family = colon < 0 ? trimmed : trimmed.substring(0, colon);
        int index = 0;
        if (colon >= 0) {
            String digits = trimmed.substring(colon + 1);
            try {
                index = Integer.parseInt(digits);
            } catch (NumberFormatException e) {
                index = -1;
            }
            if (index < 0) {
                throw new IllegalArgumentException("backend name '" + name + "': after ':' comes a device number "
                        + "(0, 1, ...), not '" + digits + "'");
            }
        }
        BackendProvider provider = providers().stream().filter(p -> p.name().equals(family)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown backend '" + name + "'; known backends: "
                        + knownNames()));
        int device = index;
        return OPEN.computeIfAbsent(family + ":" + device, k -> provider.open(device));
    }

    /** Every device of every backend module on the class path, available or not, in {@link #select()} order. */
    public static List<BackendStatus> probe() {
        List<BackendStatus> all = new ArrayList<>();
        for (BackendProvider p : providers()) {
            all.addAll(p.probe());
        }
        return all;
    }

    /** The explicit choice from the property or the environment, or null. */
    public static String explicitChoice() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            v = System.getenv(ENV);
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static String knownNames() {
        return providers().stream().map(BackendProvider::name).collect(Collectors.joining(", "));
    }

    private static List<BackendProvider> providers() {
        List<BackendProvider> ps = providers;
        if (ps == null) {
            synchronized (Backends.class) {
                ps = providers;
                if (ps == null) {
                    ps = new ArrayList<>();
                    for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
                        ps.add(p);
                    }
                    ps.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
                    providers = ps = List.copyOf(ps);
                }
            }
        }
        return ps;
    }
}
