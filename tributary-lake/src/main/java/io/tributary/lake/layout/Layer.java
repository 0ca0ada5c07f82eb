package io.tributary.lake.layout;

/** The medallion layers that are Iceberg tables, each an Iceberg namespace of the same name. */
public enum Layer {
    BRONZE, SILVER, GOLD;

    public String namespace() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
