package io.tributary.lake;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.SourceOffset;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** A lake in a test: opened without the raw layer, each micro-batch committed under the lease. */
final class TestLakes {
    private TestLakes() {
    }

    static Lake open(Path warehouse) {
        return Lake.open(new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT);
    }

    /** Commits {@code batch} (ascending positions) through its last position, holding the lease meanwhile. */
    static void commit(Lake lake, List<ChangeEvent> batch) {
        lake.acquireLease();
        lake.commit(batch, batch.get(batch.size() - 1).position(), new SourceOffset("o"), Set.of());
        lake.releaseLease();
    }
}
