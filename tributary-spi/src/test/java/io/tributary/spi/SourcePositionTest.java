package io.tributary.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SourcePositionTest {
    @Test
    void sequenceFormSortsInPositionOrderAndRoundTrips() {
        SourcePosition a = SourcePosition.ofSequence(0x16B3748L, 5);
        SourcePosition b = SourcePosition.ofSequence(0x16B3748L, 12);
        SourcePosition c = SourcePosition.ofSequence(1L << 32, 0);
        assertThat(a.encoded()).isEqualTo("00000000016B3748-000000000005");
        assertThat(a.encoded()).isLessThan(b.encoded());
        assertThat(b.encoded()).isLessThan(c.encoded());
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(c);
        assertThat(SourcePosition.decode(c.encoded())).isEqualTo(c);
        assertThat(c.sequence()).hasValue(1L << 32);
        assertThat(c.toString()).isEqualTo("1/0#0");
        assertThat(SourcePosition.ofSequence(Long.MAX_VALUE, 999_999_999_999L).encoded()).isEqualTo("7FFFFFFFFFFFFFFF-999999999999");
    }

    @Test
    void positionsWrittenBeforeCommitKeysWereNeutralReadAsVersionOne() {
        // The form every earlier lake holds in _position and its snapshot summaries.
        SourcePosition old = SourcePosition.decode("0000000022E8FC28-000000000003");
        assertThat(old).isEqualTo(SourcePosition.ofSequence(0x22E8FC28L, 3));
        assertThat(old.commitKey()).isEqualTo("0000000022E8FC28");
        assertThat(SourcePosition.decode("0000000000000000-000000000000")).isEqualTo(SourcePosition.BEGINNING);
    }

    @Test
    void otherCommitKeysSortAfterTheBeginningAndAmongThemselvesAsText() {
        SourcePosition first = new SourcePosition("f1:2026-12-06/orders.csv", 41);
        SourcePosition later = new SourcePosition("f1:2026-12-07/orders.csv", 0);
        assertThat(first).isGreaterThan(SourcePosition.BEGINNING);
        assertThat(first.encoded()).isEqualTo("f1:2026-12-06/orders.csv-000000000041").isLessThan(later.encoded());
        assertThat(SourcePosition.decode(first.encoded())).isEqualTo(first);
        assertThat(first.sequence()).isEmpty();
        assertThat(first.toString()).isEqualTo("f1:2026-12-06/orders.csv#41");
    }

    @Test
    void refusesMalformedPositions() {
        assertThatThrownBy(() -> SourcePosition.decode("16B374D848")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16B374D848");
        assertThatThrownBy(() -> SourcePosition.decode("00000000016B3748-00000000000x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("12 decimal digits");
        assertThatThrownBy(() -> new SourcePosition("a b", 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a b'");
        assertThatThrownBy(() -> new SourcePosition("", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SourcePosition.ofSequence(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SourcePosition.ofSequence(0, 1_000_000_000_000L)).isInstanceOf(IllegalArgumentException.class);
    }
}
