package io.tributary.lake.silver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A micro-batch's keys are looked up in the index's order when that order is known (single whole-number keys). */
class KeyIndexOrderTest {
    @Test
    void singleWholeNumberKeysComeInAscendingOrder() {
        List<List<Object>> keys = List.of(List.of(42L), List.of(-7L), List.of(1_000_000L), List.of(3L));
        assertThat(KeyIndex.inIndexOrder(keys)).containsExactly(List.of(-7L), List.of(3L), List.of(42L), List.of(1_000_000L));
    }

    @Test
    void otherKeysKeepTheirOrderAndNoneIsLost() {
        LinkedHashSet<List<Object>> keys = new LinkedHashSet<>(List.of(List.of(2L, "b"), List.of(1L, "a"), List.of(3L, "c")));
        assertThat(KeyIndex.inIndexOrder(keys)).containsExactly(List.of(2L, "b"), List.of(1L, "a"), List.of(3L, "c"));
        List<List<Object>> mixed = List.of(List.of(5L), List.of("text"), List.of(1L));
        assertThat(KeyIndex.inIndexOrder(mixed)).containsExactly(List.of(5L), List.of("text"), List.of(1L));
    }
}
