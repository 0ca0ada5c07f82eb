package io.tributary.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SourcePositionTest {
    @Test
    void encodedFormSortsInPositionOrderAndRoundTrips() {
        SourcePosition a = new SourcePosition(Lsn.parse("0/16B3748"), 5);
        SourcePosition b = new SourcePosition(Lsn.parse("0/16B3748"), 12);
        SourcePosition c = new SourcePosition(Lsn.parse("1/0"), 0);
        assertThat(a.encoded()).isEqualTo("00000000016B3748-000000000005");
        assertThat(a.encoded()).isLessThan(b.encoded());
        assertThat(b.encoded()).isLessThan(c.encoded());
        assertThat(SourcePosition.decode(c.encoded())).isEqualTo(c);
        assertThat(new SourcePosition(new Lsn(Long.MAX_VALUE), 999_999_999_999L).encoded()).isEqualTo("7FFFFFFFFFFFFFFF-999999999999");
    }

    @Test
    void lsnParsesAndPrintsPostgresForm() {
        assertThat(Lsn.parse("16/B374D848").toString()).isEqualTo("16/B374D848");
        assertThat(Lsn.parse("0/0")).isEqualTo(Lsn.ZERO);
        assertThatThrownBy(() -> Lsn.parse("16B374D848")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16B374D848");
    }
}
