package dev.fuse4j.cuda;

import org.junit.jupiter.api.Test;

import java.net.URL;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The natives check itself, on this class path and on one that hides every native library. */
class JCudaNativesTest {

    private static final ClassLoader OURS = JCudaNativesTest.class.getClassLoader();

    @Test
    void nativesForThisPlatformAreFoundWhereTheBuildAddedThem() {
        assumeFalse(Boolean.getBoolean(CudaWithoutNativesTest.WITHOUT_NATIVES), "this class path leaves them out");
        assumeTrue(JCudaNatives.platform().equals("linux-x86_64") || JCudaNatives.platform().equals("windows-x86_64"),
                "the build adds JCuda natives on linux-x86_64 and windows-x86_64 only, not on "
                        + JCudaNatives.platform());
        assertNull(JCudaNatives.missing(OURS));
    }

    @Test
    void aClassPathWithoutThemIsNamedWithThePlatform() {
        ClassLoader withoutNatives = new ClassLoader(OURS) {
            @Override
            public URL getResource(String name) {
                return name.startsWith("lib/") ? null : super.getResource(name);
            }
        };
        String reason = JCudaNatives.missing(withoutNatives);
        assertNotNull(reason);
        assertTrue(reason.startsWith("no JCuda natives for this platform (" + JCudaNatives.platform() + "): lib/"),
                reason);
        assertTrue(reason.contains("JCudaDriver-"), reason);
    }
}
