package io.tributary.lake.catalog;

import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.function.Supplier;

/**
 * Creates Iceberg's Parquet write builders without Hadoop's configuration files.
 *
 * <p>For a file that is not a Hadoop file, Iceberg's {@code Parquet.write} creates a new Hadoop
 * {@code Configuration} per file, and its first use parses every default resource on the classpath:
 * {@code core-default.xml} (135 KB) and {@code core-site.xml}, and {@code mapred-default.xml} (84 KB)
 * and {@code mapred-site.xml} once Parquet's codec factory has loaded {@code JobConf}. Measured warm,
 * 1.3–1.5 ms per file; at 5,000 events/s, where a micro-batch writes about 20 small files, it was
 * 12% of the process's samples (JFR, docs/benchmarks.md). Tributary writes
 * through Iceberg's {@code FileIO}, never a Hadoop file system, and every Parquet setting comes from
 * table properties, which Iceberg sets on that configuration itself: the writer needs none of those
 * files. {@code Configuration} finds them through the class loader it captures when it is created
 * (the thread's context class loader), so while a builder is created that loader is one that hides
 * {@code *-default.xml} and {@code *-site.xml} at the classpath root and delegates everything else.
 */
final class HadoopDefaults {
    private static final ClassLoader WITHOUT_HADOOP_FILES = new WithoutHadoopFiles(HadoopDefaults.class.getClassLoader());

    private HadoopDefaults() {
    }

    /** Runs {@code create} (a {@code Parquet.write…} call) with the context class loader that hides Hadoop's configuration files. */
    static <T> T withoutConfigurationFiles(Supplier<T> create) {
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(WITHOUT_HADOOP_FILES);
        try {
            return create.get();
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    /** Whether {@code name} is a Hadoop configuration file as {@code Configuration} looks it up (a name at the classpath root). */
    static boolean isConfigurationFile(String name) {
        return name.indexOf('/') < 0 && (name.endsWith("-default.xml") || name.endsWith("-site.xml"));
    }

    private static final class WithoutHadoopFiles extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        WithoutHadoopFiles(ClassLoader parent) {
            super(parent);
        }

        @Override
        public URL getResource(String name) {
            return isConfigurationFile(name) ? null : super.getResource(name);
        }

        @Override
        public Enumeration<URL> getResources(String name) throws IOException {
            return isConfigurationFile(name) ? Collections.emptyEnumeration() : super.getResources(name);
        }
    }
}
