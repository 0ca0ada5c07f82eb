package io.tributary.lake.catalog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's raw local file system with permissions set through {@code java.nio}. Without Hadoop's
 * native library, {@link RawLocalFileSystem} starts a {@code chmod} process for every file it
 * creates (manifests, manifest lists, table metadata, data files); that process start was the
 * largest single cost of an Iceberg commit on local disk.
 */
public final class LocalFileSystem extends RawLocalFileSystem {
    @Override
    public void setPermission(Path p, FsPermission permission) throws IOException {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        add(perms, permission.getUserAction(), PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
        add(perms, permission.getGroupAction(), PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE);
        add(perms, permission.getOtherAction(), PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
        try {
            Files.setPosixFilePermissions(pathToFile(p).toPath(), perms);
        } catch (UnsupportedOperationException e) {
            super.setPermission(p, permission);
        }
    }

    private static void add(Set<PosixFilePermission> perms, FsAction action, PosixFilePermission read, PosixFilePermission write, PosixFilePermission execute) {
        if (action.implies(FsAction.READ)) {
            perms.add(read);
        }
        if (action.implies(FsAction.WRITE)) {
            perms.add(write);
        }
        if (action.implies(FsAction.EXECUTE)) {
            perms.add(execute);
        }
    }
}
