package dev.fuse4j.cuda;

import jcuda.LibUtils;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Tells whether JCuda's native binding for this platform is on the class path. JCuda loads it from
 * {@code lib/libJCudaDriver-VERSION-OS-ARCH.so} (or .dll) in a natives jar, published for linux-x86_64 and
 * windows-x86_64 only; the build leaves that jar out on every other platform.
 */
final class JCudaNatives {
    /** Written into the jcuda jar by Maven; its version is part of the natives' file name. */
    private static final String JCUDA_POM_PROPERTIES = "META-INF/maven/org.jcuda/jcuda/pom.properties";

    private JCudaNatives() {
    }

    /** Null when the natives for this platform are there (or JCuda's version cannot be told), else the reason. */
    static String missing(ClassLoader loader) {
        String version = version(loader);
        if (version == null) {
            return null;
        }
        String library = "lib/" + LibUtils.createLibraryFileName(LibUtils.createPlatformLibraryName("JCudaDriver-"
                + version));
        if (loader.getResource(library) != null) {
            return null;
        }
        return "no JCuda natives for this platform (" + platform() + "): " + library + " is not on the class path;"
                + " JCuda " + version + " publishes them for linux-x86_64 and windows-x86_64 only";
    }

    /** JCuda's name for this platform, as in its natives' classifier: {@code linux-x86_64}, {@code linux-aarch64}. */
    static String platform() {
        return LibUtils.createPlatformLibraryName("").substring(1);
    }

    private static String version(ClassLoader loader) {
        try (InputStream in = loader.getResourceAsStream(JCUDA_POM_PROPERTIES)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            return null;
        }
    }
}
