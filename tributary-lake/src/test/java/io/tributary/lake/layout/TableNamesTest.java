package io.tributary.lake.layout;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableNamesTest {
    @Test
    void columnNamesAreSnakeCaseAndLineageColumnsKeepTheirUnderscore() {
        org.assertj.core.api.Assertions.assertThat(TableNames.snakeCase("CustomerID")).isEqualTo("customer_id");
        org.assertj.core.api.Assertions.assertThat(TableNames.snakeCase("_internal")).isEqualTo("internal");
        org.assertj.core.api.Assertions.assertThat(TableNames.snakeCase("_source_file")).isEqualTo("_source_file");
        org.assertj.core.api.Assertions.assertThat(TableNames.snakeCase("_source_Row")).isEqualTo("_source_row");
    }

    @Test
    void refusesASourceTableNamedLikeAnotherTablesHistory() {
        List<TableId> tables = List.of(new TableId("public", "orders"), new TableId("public", "orders_history"));
        assertThatThrownBy(() -> TableNames.requireDistinct(tables, LakeConfig.HistoryLayer.ENABLED))
                .isInstanceOfSatisfying(TributaryException.class, e -> org.assertj.core.api.Assertions.assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("Cannot capture both public.orders and public.orders_history: silver.orders_history would be both the silver table of"
                        + " public.orders_history and the history table of public.orders. Capture only one of them, or set lake.history: disabled");
        assertThatCode(() -> TableNames.requireDistinct(tables, LakeConfig.HistoryLayer.DISABLED)).doesNotThrowAnyException();
        // Another schema's table gets a prefixed lake name: sales.orders_history is sales_orders_history.
        assertThatCode(() -> TableNames.requireDistinct(List.of(new TableId("public", "orders"), new TableId("sales", "orders_history")),
                LakeConfig.HistoryLayer.ENABLED)).doesNotThrowAnyException();
    }

    @Test
    void refusesTwoSourceTablesWithOneLakeName() {
        assertThatThrownBy(() -> TableNames.requireDistinct(List.of(new TableId("sales", "orders"), new TableId("public", "sales_orders")),
                LakeConfig.HistoryLayer.DISABLED))
                .isInstanceOf(TributaryException.class)
                .hasMessage("Cannot capture both sales.orders and public.sales_orders: both would be the lake table sales_orders. Capture only one of them");
    }
}
