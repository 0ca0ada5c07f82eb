package io.tributary.lake.silver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index file's rewrite at close: a sparse file shrinks and keeps every entry; a dense or small one is left as it is. */
class KeyIndexFileTest {
    @TempDir
    Path dir;

    @Test
    void aSparseFileIsRewrittenWithItsLivePagesOnlyAndKeepsEveryEntry() throws Exception {
        Path file = dir.resolve("index.mv.db");
        Map<String, byte[]> expected = new TreeMap<>();
        int fillRate;
        // Random overwrites with a commit every 1,000 puts, as micro-batches do: most pages die.
        try (MVStore store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open()) {
            MVMap<String, byte[]> map = store.openMap("versions");
            Random random = new Random(7);
            for (int i = 0; i < 200_000; i++) {
                String key = "Long:5:" + random.nextInt(20_000);
                byte[] value = new byte[100];
                random.nextBytes(value);
                map.put(key, value);
                expected.put(key, value);
                if (i % 1000 == 0) {
                    store.commit();
                }
            }
            store.commit();
            fillRate = KeyIndex.liveRate(store);
        }
        long before = Files.size(file);
        assertThat(fillRate).as("%% live of %s bytes", before).isLessThan(50);

        KeyIndex.rewriteIfSparse(file, 100, 0);
        assertThat(Files.size(file)).as("a dense file is left alone").isEqualTo(before);
        KeyIndex.rewriteIfSparse(file, fillRate, before);
        assertThat(Files.size(file)).as("a small file is left alone").isEqualTo(before);

        KeyIndex.rewriteIfSparse(file, fillRate, 0);
        assertThat(Files.size(file)).isLessThan(before / 2);
        try (MVStore store = new MVStore.Builder().fileName(file.toString()).readOnly().open()) {
            MVMap<String, byte[]> map = store.openMap("versions");
            assertThat(map.size()).isEqualTo(expected.size());
            expected.forEach((k, v) -> assertThat(map.get(k)).as(k).isEqualTo(v));
        }
    }
}
