package dev.atoll.storage.mvcc;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/** The open RocksDB and its column families; closed in reverse order of opening. */
final class StoreHandles implements AutoCloseable {
    static final String KV = "kv";
    static final String HISTORY = "history";
    static final String META = "meta";
    static final String LEASE = "lease";
    static final String LEASE_KEY = "lease_key";
    private static final List<String> FAMILIES = List.of(KV, HISTORY, META, LEASE, LEASE_KEY);

    static {
        RocksDB.loadLibrary();
    }

    final RocksDB db;
    final ColumnFamilyHandle kv;
    final ColumnFamilyHandle history;
    final ColumnFamilyHandle meta;
    final ColumnFamilyHandle lease;
    final ColumnFamilyHandle leaseKey;
    private final List<ColumnFamilyHandle> all;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;

    private StoreHandles(RocksDB db, List<ColumnFamilyHandle> all, DBOptions dbOptions, ColumnFamilyOptions cfOptions) {
        this.db = db;
        this.all = all;
        this.kv = all.get(1);
        this.history = all.get(2);
        this.meta = all.get(3);
        this.lease = all.get(4);
        this.leaseKey = all.get(5);
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
    }

    static StoreHandles open(Path dir, boolean readOnly) {
        DBOptions dbOptions = new DBOptions().setCreateIfMissing(!readOnly).setCreateMissingColumnFamilies(!readOnly)
                .setKeepLogFileNum(4).setMaxBackgroundJobs(2);
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions();
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
        for (String name : FAMILIES) {
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), cfOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            RocksDB db = readOnly
                    ? RocksDB.openReadOnly(dbOptions, dir.toString(), descriptors, handles)
                    : RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            return new StoreHandles(db, handles, dbOptions, cfOptions);
        } catch (RocksDBException e) {
            cfOptions.close();
            dbOptions.close();
            throw new MvccStorageException("cannot open MVCC store at " + dir, e);
        }
    }

    /** Every column family, the default one first. */
    List<ColumnFamilyHandle> families() {
        return all;
    }

    @Override
    public void close() {
        for (ColumnFamilyHandle h : all) {
            h.close();
        }
        db.close();
        cfOptions.close();
        dbOptions.close();
    }
}
