package dev.fuse4j;

import dev.fuse4j.spi.BackendProvider;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Finds backends through {@link ServiceLoader} and picks one.
 *
 * <p>Order of {@link #select()}: an explicit choice (system property {@code fuse4j.backend}, else environment
 * variable {@code FUSE4J_BACKEND}), else the first available device by {@link DeviceKind} (GPUs and accelerators,
 * then the Java {@code cpu} backend, then a CPU behind a device driver) and, within a kind, by provider priority
 * (cuda before opencl). An explicit choice that cannot be honoured is an error, never a silent fallback.
 */
public final class Backends {

    /** System property naming the backend to use, such as {@code opencl:1}. */
    public static final String PROPERTY = "fuse4j.backend";
    /** Environment variable read when the property is not set. */
    public static final String ENV = "FUSE4J_BACKEND";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    /** Every backend opened in this process, by {@code family:device}: the one place backends are kept. */
    private static final Map<String, Backend> OPEN = new ConcurrentHashMap<>();
    /** The choice is logged at INFO once per process; later calls say it at DEBUG. */
    private static final AtomicBoolean SELECTION_LOGGED = new AtomicBoolean();
    /** Devices whose unavailability cause has been logged, so a repeated probe does not repeat the stack. */
    private static final Set<String> CAUSES_LOGGED = ConcurrentHashMap.newKeySet();
    private static volatile List<BackendProvider> providers;

    private Backends() {
    }

    /** The backend to use: the explicit choice if there is one, else the first available in {@link #probe()} order. */
    public static Backend select() {
        String explicit = explicitChoice();
        if (explicit != null) {
            Backend b = get(explicit);
            logSelection("Fuse4J backend {0} on {1} (chosen explicitly)", b.name(), b.device());
            return b;
        }
        List<String> skipped = new ArrayList<>();
        for (BackendStatus s : probe()) {
            if (!s.available()) {
                skipped.add(s.name() + ": " + s.reason());
                continue;
            }
            try {
                Backend b = get(s.name());
                logSelection("Fuse4J backend {0} on {1}{2}", b.name(), b.device(),
                        skipped.isEmpty() ? "" : "; not used: " + String.join("; ", skipped));
                return b;
            } catch (BackendUnavailableException e) {
                skipped.add(s.name() + ": " + e.getMessage());
            }
        }
        throw new BackendUnavailableException("no Fuse4J backend can run here: " + String.join("; ", skipped)
                + (providers().isEmpty() ? "no backend module on the class path (add fuse4j-backend-cpu)" : ""));
    }

    /**
     * Why {@link #select()} did not take the available device {@code s} when it took {@code selected}: null when
     * {@code s} is the selected one.
     */
    public static String passedOver(BackendStatus s, Backend selected) {
        if (s.name().equals(selected.name())) {
            return null;
        }
        if (!s.available()) {
            return s.reason();
        }
        if (explicitChoice() != null) {
            return selected.name() + " was chosen explicitly";
        }
        if (s.kind() == DeviceKind.CPU) {
            return "a CPU behind a device driver runs only when named or when nothing else can: the Java cpu backend "
                    + "computes faster on the same cores";
        }
        int mine = order(s);
        int theirs = probe().stream().filter(p -> p.name().equals(selected.name())).findFirst()
                .map(Backends::order).orElse(Integer.MAX_VALUE);
        return mine < theirs ? "it comes first but could not be opened (the log says why)"
                : selected.name() + " comes first";
    }

    /**
     * The backend called {@code name}: a family ({@code cpu}, {@code opencl}, {@code cuda}, meaning device 0) or
     * {@code family:N} for device N in its provider's order. Instances are opened once and shared.
     *
     * @throws IllegalArgumentException     for a name no backend module knows
     * @throws BackendUnavailableException for a known backend that cannot run here, with the reason
     */
    public static Backend get(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("backend name is empty; known backends: " + knownNames());
        }
        String trimmed = name.trim().toLowerCase(Locale.ROOT);
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

    /**
     * Every device of every backend module on the class path, available or not, in {@link #select()} order. The
     * cause of an unavailable device is logged at DEBUG with its stack, once per process.
     */
    public static List<BackendStatus> probe() {
        List<BackendStatus> all = new ArrayList<>();
        for (BackendProvider p : providers()) {
            all.addAll(p.probe());
        }
        all = inSelectionOrder(all);
        for (BackendStatus s : all) {
            if (s.cause() != null && CAUSES_LOGGED.add(s.name())) {
                LOG.log(System.Logger.Level.DEBUG, s.name() + " is unavailable: " + s.reason(), s.cause());
            }
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

    /** {@code statuses}, listed by provider priority and device, sorted by kind; the sort keeps the rest in order. */
    static List<BackendStatus> inSelectionOrder(List<BackendStatus> statuses) {
        List<BackendStatus> sorted = new ArrayList<>(statuses);
        sorted.sort(Comparator.comparingInt(Backends::order));
        return sorted;
    }

    /** Rank by kind: GPUs and accelerators (and devices not found, which select() skips), Java, driven CPUs. */
    private static int order(BackendStatus s) {
        if (s.kind() == null) {
            return 0;
        }
        return switch (s.kind()) {
            case GPU, ACCELERATOR -> 0;
            case JAVA -> 1;
            case CPU -> 2;
        };
    }

    private static void logSelection(String format, Object... args) {
        System.Logger.Level level = SELECTION_LOGGED.compareAndSet(false, true) ? System.Logger.Level.INFO
                : System.Logger.Level.DEBUG;
        LOG.log(level, format, args);
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
